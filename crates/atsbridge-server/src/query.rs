//! The query parameters of the four list endpoints, parsed from the raw query string so that
//! malformed input is answered in Kombo's envelope (`PLATFORM.INPUT_INVALID` naming the
//! parameter) rather than by a framework rejection.
//!
//! Conventions, as Kombo's API and SDKs use them:
//! - arrays are one comma-joined value (`ids=a,b`); a repeated parameter (`ids=a&ids=b`) is
//!   accepted too and its values are combined; blank items are dropped and a list with no
//!   items is no filter at all; a list holds at most [`MAX_LIST_ITEMS`] items;
//! - booleans are the strings `true` and `false`, nothing else;
//! - date-times are RFC 3339; one without an offset (Python's naive `isoformat()`) is UTC;
//! - parameters an endpoint does not know are ignored.

use std::collections::{BTreeMap, HashSet};

use atsbridge_model::enums::{JobStatus, Outcome, Visibility};
use atsbridge_model::hris::{EmploymentStatus, GroupType, PlainDate};
use atsbridge_model::integration::Category;
use atsbridge_model::{ModelKind, Timestamp};
use atsbridge_store::Filter;

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 250;
/// The most items one list parameter (`ids`, `job_ids`, `statuses`, …) may hold, counted
/// as sent (blanks dropped, duplicates counted). Each item becomes a bound value in the
/// page query, and a request should not buy unbounded work for the price of its URI.
pub const MAX_LIST_ITEMS: usize = 1_000;

/// What a list request asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ListParams {
    /// The opaque cursor of the page to read, as a previous page returned it.
    pub cursor: Option<String>,
    pub page_size: u32,
    pub filter: Filter,
    /// Drop filters on fields the tool does not have (as its descriptor lists them) instead of
    /// letting them filter out every record (`crate::ats`).
    pub ignore_unsupported_filters: bool,
}

/// The parameters every list endpoint takes.
pub(crate) const COMMON: &[&str] = &[
    "cursor",
    "page_size",
    "updated_after",
    "include_deleted",
    "ignore_unsupported_filters",
    "ids",
    "remote_ids",
];

/// The parameters one endpoint takes beyond [`COMMON`].
pub(crate) fn specific(model: ModelKind) -> &'static [&'static str] {
    match model {
        ModelKind::Job => &[
            "job_codes",
            "post_url",
            "statuses",
            "status",
            "employment_types",
            "visibilities",
            "remote_created_after",
            "name_contains",
        ],
        ModelKind::Candidate => &["email", "job_ids", "first_name", "last_name"],
        ModelKind::Application => &[
            "outcomes",
            "outcome",
            "job_ids",
            "job_remote_ids",
            "current_stage_ids",
            "remote_created_after",
        ],
        ModelKind::Employee => &[
            "employment_statuses",
            "employment_status",
            "group_ids",
            "legal_entity_ids",
            "work_location_ids",
            "work_emails",
            "personal_emails",
            "custom_fields",
        ],
        ModelKind::Group => &["types", "name_contains"],
        ModelKind::Absence => &[
            "date_from",
            "date_until",
            "type_ids",
            "employee_id",
            "time_from",
            "time_until",
        ],
        ModelKind::TimeOffBalance => &["employee_id"],
        ModelKind::ApplicationStage | ModelKind::Employment | ModelKind::AbsenceType => &[],
    }
}

/// The raw values of the parameters an endpoint knows, in the order they were sent.
struct Raw(BTreeMap<&'static str, Vec<String>>);

impl Raw {
    fn new(model: ModelKind, query: Option<&str>) -> Raw {
        let known: Vec<&'static str> = COMMON.iter().chain(specific(model)).copied().collect();
        let mut values: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            if let Some(name) = known.iter().find(|k| **k == key) {
                values.entry(name).or_default().push(value.into_owned());
            }
        }
        Raw(values)
    }

    /// A single value; blank counts as absent. Sent twice with different values is an error,
    /// since we could only guess which one was meant.
    fn single(&self, name: &str) -> ApiResult<Option<String>> {
        self.single_with(name, str::trim)
    }

    /// A single value of a closed set (a boolean, an enum, a day, a number), taken as sent:
    /// only the empty value counts as absent. Trimming it would accept what the published
    /// schema refuses (`%09`, ` true`), and a client that sends that has a bug worth hearing
    /// about.
    fn exact(&self, name: &str) -> ApiResult<Option<String>> {
        self.single_with(name, |v| v)
    }

    fn single_with(&self, name: &str, clean: fn(&str) -> &str) -> ApiResult<Option<String>> {
        let mut found: Option<String> = None;
        for v in self.0.get(name).into_iter().flatten() {
            let v = clean(v);
            if v.is_empty() {
                continue;
            }
            match &found {
                Some(prev) if prev != v => {
                    return Err(ApiError::invalid(
                        name,
                        format!("given more than once with different values (`{prev}`, `{v}`)"),
                    ))
                }
                _ => found = Some(v.to_owned()),
            }
        }
        Ok(found)
    }

    /// A comma-separated list: items trimmed, blanks dropped, duplicates removed, order kept.
    /// `None` when there is no item; an error above [`MAX_LIST_ITEMS`].
    fn list(&self, name: &str) -> ApiResult<Option<Vec<String>>> {
        let mut sent = 0usize;
        let mut seen: HashSet<&str> = HashSet::new();
        let mut items: Vec<String> = Vec::new();
        for v in self.0.get(name).into_iter().flatten() {
            for item in v.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                sent += 1;
                if sent <= MAX_LIST_ITEMS && seen.insert(item) {
                    items.push(item.to_owned());
                }
            }
        }
        if sent > MAX_LIST_ITEMS {
            return Err(ApiError::invalid(
                name,
                format!("at most {MAX_LIST_ITEMS} values are accepted, got {sent}"),
            ));
        }
        Ok((!items.is_empty()).then_some(items))
    }

    fn boolean(&self, name: &str) -> ApiResult<bool> {
        match self.exact(name)?.as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ApiError::invalid(
                name,
                format!("must be `true` or `false`, got `{other}`"),
            )),
        }
    }

    fn page_size(&self) -> ApiResult<u32> {
        let problem = |got: &str| {
            ApiError::invalid(
                "page_size",
                format!("must be an integer from 1 to {MAX_PAGE_SIZE}, got `{got}`"),
            )
        };
        let Some(raw) = self.exact("page_size")? else {
            // `page_size=` is not a number; absent means the default.
            return match self.0.get("page_size") {
                Some(_) => Err(problem("")),
                None => Ok(DEFAULT_PAGE_SIZE),
            };
        };
        match raw.parse::<i64>() {
            Ok(n) if (1..=i64::from(MAX_PAGE_SIZE)).contains(&n) => {
                Ok(u32::try_from(n).unwrap_or(DEFAULT_PAGE_SIZE))
            }
            _ => Err(problem(&raw)),
        }
    }

    /// An RFC 3339 date-time as Unix milliseconds. With `dates`, a plain `YYYY-MM-DD` is
    /// accepted too (for the day-granular `remote_created_after`).
    fn date_time(&self, name: &str, dates: bool) -> ApiResult<Option<i64>> {
        let Some(raw) = self.single(name)? else {
            return Ok(None);
        };
        let parse = |s: &str| {
            if dates {
                Timestamp::parse_date_or_datetime(s).ok()
            } else {
                Timestamp::parse(s).ok()
            }
        };
        // An offset sent unencoded (`…T10:00:00+02:00`) arrives with its `+` decoded to a
        // space; read it the way it was meant. Kombo's Python SDK sends a naive `datetime`
        // without any offset; every time in this API is UTC, so that is what it means.
        parse(&raw)
            .or_else(|| parse(&raw.replace(' ', "+")))
            .or_else(|| without_offset(&raw).and_then(|naive| parse(&format!("{naive}Z"))))
            .map(|t| Some(t.unix_millis()))
            .ok_or_else(|| {
                ApiError::invalid(
                    name,
                    format!(
                        "`{raw}` is not an RFC 3339 date-time such as 2026-01-02T03:04:05.678Z"
                    ),
                )
            })
    }

    /// A day, `yyyy-MM-dd`; a date-time is accepted and its time part ignored, as Kombo
    /// does for `date_from` and `date_until`.
    fn day(&self, name: &str) -> ApiResult<Option<String>> {
        let Some(raw) = self.exact(name)? else {
            return Ok(None);
        };
        let day = raw.get(..10).filter(|d| PlainDate::parse(d).is_some());
        let rest_ok = raw.len() == 10 || raw.as_bytes().get(10) == Some(&b'T');
        match day {
            Some(d) if rest_ok => Ok(Some(d.to_owned())),
            _ => Err(ApiError::invalid(
                name,
                format!("`{raw}` is not a date such as 2026-01-31"),
            )),
        }
    }

    /// A list whose items must be among `allowed` (exact spelling).
    fn enum_list(&self, name: &str, allowed: &[&str]) -> ApiResult<Option<Vec<String>>> {
        let items = self.list(name)?;
        for item in items.iter().flatten() {
            check_enum(name, item, allowed)?;
        }
        Ok(items)
    }
}

/// `s` when it is a date and a time of day with no offset (`2026-01-02T03:04:05`, with or
/// without fractional seconds), the shape RFC 3339 calls a local time.
fn without_offset(s: &str) -> Option<&str> {
    let (date, time) = s.split_once('T')?;
    let plain = |part: &str| part.bytes().all(|b| b.is_ascii_digit() || b == b'-');
    let clock = time
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b':' || b == b'.');
    (date.len() == 10 && plain(date) && clock).then_some(s)
}

fn check_enum(name: &str, value: &str, allowed: &[&str]) -> ApiResult<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            name,
            format!("`{value}` is not one of {}", allowed.join(", ")),
        ))
    }
}

/// Adds the deprecated single-value form (`status`, `outcome`) to its list form.
fn with_deprecated(
    list: Option<Vec<String>>,
    single: Option<String>,
    name: &str,
    allowed: &[&str],
) -> ApiResult<Option<Vec<String>>> {
    let Some(single) = single else {
        return Ok(list);
    };
    check_enum(name, &single, allowed)?;
    let mut list = list.unwrap_or_default();
    if !list.contains(&single) {
        list.push(single);
    }
    Ok(Some(list))
}

/// Kombo's `custom_fields` filter: a JSON object holding one pair whose value is a string,
/// number, boolean or null.
fn custom_field_pair(raw: &str) -> ApiResult<(String, serde_json::Value)> {
    let problem = || {
        ApiError::invalid(
            "custom_fields",
            format!("`{raw}` is not a JSON object holding one key and a string, number, boolean or null"),
        )
    };
    let value: serde_json::Value = serde_json::from_str(raw).map_err(|_| problem())?;
    let object = value
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(problem)?;
    let (key, value) = object.iter().next().ok_or_else(problem)?;
    if value.is_array() || value.is_object() {
        return Err(problem());
    }
    Ok((key.clone(), value.clone()))
}

/// Drops what the list parameter `param` set in `filter`: `ignore_unsupported_filters=true`
/// for a field the tool does not have (its descriptor's `unsupported_filters`). Returns
/// whether `param` is a filter this server knows (a descriptor naming another is a bug).
pub fn clear(filter: &mut Filter, param: &str) -> bool {
    match param {
        "ids" => filter.ids = None,
        "remote_ids" => filter.remote_ids = None,
        "updated_after" => filter.updated_after = None,
        "statuses" | "status" => filter.statuses = None,
        "employment_types" => filter.employment_types = None,
        "visibilities" => filter.visibilities = None,
        "job_codes" => filter.job_codes = None,
        "post_url" => filter.post_url = None,
        "name_contains" => filter.name_contains = None,
        "remote_created_after" => filter.remote_created_after = None,
        "email" => filter.email = None,
        "job_ids" => filter.job_ids = None,
        "first_name" => filter.first_name = None,
        "last_name" => filter.last_name = None,
        "outcomes" | "outcome" => filter.outcomes = None,
        "job_remote_ids" => filter.job_remote_ids = None,
        "current_stage_ids" => filter.current_stage_ids = None,
        "employment_statuses" | "employment_status" => filter.employment_statuses = None,
        "group_ids" => filter.group_ids = None,
        "work_emails" => filter.work_emails = None,
        "custom_fields" => filter.custom_field = None,
        "legal_entity_ids" | "work_location_ids" | "personal_emails" => {
            filter.absent_fields.retain(|f| f != param);
        }
        "types" => filter.group_types = None,
        "employee_id" => filter.employee_id = None,
        "type_ids" => filter.type_ids = None,
        "date_from" | "time_from" => filter.date_from = None,
        "date_until" | "time_until" => filter.date_until = None,
        _ => return false,
    }
    true
}

/// Parses the query string of a list endpoint for `model`.
pub fn parse(model: ModelKind, query: Option<&str>) -> ApiResult<ListParams> {
    let raw = Raw::new(model, query);
    let mut filter = Filter {
        ids: raw.list("ids")?,
        remote_ids: raw.list("remote_ids")?,
        // HRIS endpoints also take a bare date (Kombo's pattern for them allows one).
        updated_after: raw.date_time("updated_after", model.category() == Category::Hris)?,
        include_deleted: raw.boolean("include_deleted")?,
        ..Filter::default()
    };
    match model {
        ModelKind::Job => {
            filter.statuses = with_deprecated(
                raw.enum_list("statuses", JobStatus::KNOWN)?,
                raw.exact("status")?,
                "status",
                JobStatus::KNOWN,
            )?;
            // An open enum: jobs carry the tool's own text where it maps to no Kombo value,
            // and a filter must be able to find every job the API returns.
            filter.employment_types = raw.list("employment_types")?;
            filter.visibilities = raw.enum_list("visibilities", Visibility::KNOWN)?;
            filter.job_codes = raw.list("job_codes")?;
            filter.post_url = raw.single("post_url")?;
            filter.name_contains = raw.single("name_contains")?;
            filter.remote_created_after = raw.date_time("remote_created_after", true)?;
        }
        ModelKind::Candidate => {
            filter.email = raw.single("email")?;
            filter.job_ids = raw.list("job_ids")?;
            filter.first_name = raw.single("first_name")?;
            filter.last_name = raw.single("last_name")?;
        }
        ModelKind::Application => {
            let outcomes: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
            filter.outcomes = with_deprecated(
                raw.enum_list("outcomes", &outcomes)?,
                raw.exact("outcome")?,
                "outcome",
                &outcomes,
            )?;
            filter.job_ids = raw.list("job_ids")?;
            filter.job_remote_ids = raw.list("job_remote_ids")?;
            filter.current_stage_ids = raw.list("current_stage_ids")?;
            filter.remote_created_after = raw.date_time("remote_created_after", true)?;
        }
        ModelKind::Employee => {
            filter.employment_statuses = with_deprecated(
                raw.enum_list("employment_statuses", EmploymentStatus::KNOWN)?,
                raw.exact("employment_status")?,
                "employment_status",
                EmploymentStatus::KNOWN,
            )?;
            filter.group_ids = raw.list("group_ids")?;
            filter.work_emails = raw.list("work_emails")?;
            for name in ["legal_entity_ids", "work_location_ids", "personal_emails"] {
                if raw.list(name)?.is_some() {
                    filter.absent_fields.push(name.to_owned());
                }
            }
            filter.custom_field = raw
                .single("custom_fields")?
                .map(|pair| custom_field_pair(&pair))
                .transpose()?;
        }
        ModelKind::Group => {
            filter.group_types = raw
                .list("types")?
                .map(|types| {
                    types
                        .into_iter()
                        .map(|t| match t.as_str() {
                            "null" => Ok(None),
                            _ if GroupType::parse(&t).is_some() => Ok(Some(t)),
                            _ => Err(ApiError::invalid(
                                "types",
                                format!("`{t}` is not one of DEPARTMENT, TEAM, COST_CENTER, null"),
                            )),
                        })
                        .collect::<ApiResult<Vec<_>>>()
                })
                .transpose()?;
            filter.name_contains = raw.single("name_contains")?;
        }
        ModelKind::Absence => {
            filter.type_ids = raw.list("type_ids")?;
            filter.employee_id = raw.single("employee_id")?;
            filter.date_from = raw.day("date_from")?;
            filter.date_until = raw.day("date_until")?;
            // The deprecated pair means the same days as the new one.
            if filter.date_from.is_none() {
                filter.date_from = raw.day("time_from")?;
            }
            if filter.date_until.is_none() {
                filter.date_until = raw.day("time_until")?;
            }
        }
        ModelKind::TimeOffBalance => filter.employee_id = raw.single("employee_id")?,
        ModelKind::ApplicationStage | ModelKind::Employment | ModelKind::AbsenceType => {}
    }
    Ok(ListParams {
        cursor: raw.single("cursor")?,
        page_size: raw.page_size()?,
        ignore_unsupported_filters: raw.boolean("ignore_unsupported_filters")?,
        filter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use atsbridge_model::ErrorCode;

    fn message(r: ApiResult<ListParams>) -> String {
        let e = r.unwrap_err();
        assert_eq!(e.code, ErrorCode::PlatformInputInvalid);
        e.message
    }

    #[test]
    fn defaults() {
        let p = parse(ModelKind::Job, None).unwrap();
        assert_eq!(p.page_size, 100);
        assert_eq!(p.cursor, None);
        assert_eq!(p.filter, Filter::default());
        assert!(!p.ignore_unsupported_filters);
        assert_eq!(parse(ModelKind::Job, Some("")).unwrap(), p);
    }

    #[test]
    fn lists_are_comma_joined_or_repeated() {
        let p = parse(
            ModelKind::Application,
            Some("ids=a,%20b,,a&ids=c&remote_ids=&job_ids=j1%2Cj2"),
        )
        .unwrap();
        assert_eq!(p.filter.ids, Some(vec!["a".into(), "b".into(), "c".into()]));
        assert_eq!(p.filter.remote_ids, None);
        assert_eq!(p.filter.job_ids, Some(vec!["j1".into(), "j2".into()]));
    }

    #[test]
    fn lists_hold_at_most_the_cap_counted_as_sent() {
        let items = |n: usize| (0..n).map(|i| format!("id{i}")).collect::<Vec<_>>();
        let at_cap = items(MAX_LIST_ITEMS).join(",");
        let p = parse(ModelKind::Application, Some(&format!("ids={at_cap}"))).unwrap();
        assert_eq!(p.filter.ids.unwrap().len(), MAX_LIST_ITEMS);
        for name in [
            "ids",
            "remote_ids",
            "job_ids",
            "job_remote_ids",
            "current_stage_ids",
            "outcomes",
        ] {
            let over = items(MAX_LIST_ITEMS + 1).join(",");
            let m = message(parse(
                ModelKind::Application,
                Some(&format!("{name}={over}")),
            ));
            assert!(
                m.starts_with(&format!("{name}:")) && m.contains("1001"),
                "{m}"
            );
        }
        // Repeated parameters and duplicates count as sent.
        let repeated = format!("job_codes={}&job_codes=x", "x,".repeat(MAX_LIST_ITEMS));
        assert!(message(parse(ModelKind::Job, Some(&repeated))).starts_with("job_codes:"));
        for name in ["statuses", "employment_types", "visibilities", "job_codes"] {
            let over = format!("{name}={}", "OPEN,".repeat(MAX_LIST_ITEMS + 1));
            assert!(message(parse(ModelKind::Job, Some(&over))).starts_with(name));
        }
        let over = format!("job_ids={}", items(MAX_LIST_ITEMS + 1).join(","));
        assert!(message(parse(ModelKind::Candidate, Some(&over))).starts_with("job_ids:"));
    }

    #[test]
    fn a_long_list_is_parsed_in_linear_time() {
        // 200,000 distinct items: with a quadratic dedup this takes minutes, not
        // milliseconds. Above the cap, so it is refused, but only after counting.
        let many = (0..200_000).map(|i| format!("id{i}")).collect::<Vec<_>>();
        let query = format!("ids={}", many.join(","));
        let started = std::time::Instant::now();
        assert!(message(parse(ModelKind::Job, Some(&query))).starts_with("ids:"));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn page_size_bounds() {
        assert_eq!(
            parse(ModelKind::Job, Some("page_size=1"))
                .unwrap()
                .page_size,
            1
        );
        assert_eq!(
            parse(ModelKind::Job, Some("page_size=250"))
                .unwrap()
                .page_size,
            250
        );
        for bad in [
            "0",
            "251",
            "-1",
            "abc",
            "1.5",
            "",
            "99999999999999999999",
            "%2010",
            "%09",
        ] {
            let m = message(parse(ModelKind::Job, Some(&format!("page_size={bad}"))));
            assert!(m.starts_with("page_size:"), "{m}");
        }
    }

    #[test]
    fn booleans_are_strict() {
        let p = parse(
            ModelKind::Candidate,
            Some("include_deleted=true&ignore_unsupported_filters=false"),
        )
        .unwrap();
        assert!(p.filter.include_deleted);
        for bad in [
            "include_deleted=1",
            "include_deleted=TRUE",
            "ignore_unsupported_filters=yes",
            // Blank but not empty, or padded: the schema's enum refuses these too.
            "ignore_unsupported_filters=%09",
            "include_deleted=%20true",
        ] {
            let m = message(parse(ModelKind::Candidate, Some(bad)));
            assert!(m.starts_with(bad.split('=').next().unwrap()), "{m}");
        }
    }

    #[test]
    fn closed_sets_take_the_value_as_sent() {
        for (model, bad) in [
            (ModelKind::Job, "status=%20OPEN"),
            (ModelKind::Job, "status=%09"),
            (ModelKind::Application, "outcome=HIRED%20"),
            (ModelKind::Employee, "employment_status=%0A"),
            (ModelKind::Absence, "date_from=%202026-01-31"),
            (ModelKind::Absence, "date_until=%20"),
        ] {
            let m = message(parse(model, Some(bad)));
            assert!(m.starts_with(bad.split('=').next().unwrap()), "{bad}: {m}");
        }
        // Empty still means not given, as the schema allows.
        let p = parse(ModelKind::Job, Some("status=&include_deleted=")).unwrap();
        assert_eq!(p.filter.statuses, None);
        // Free-text filters stay lenient: padding is trimmed.
        let p = parse(ModelKind::Candidate, Some("email=%20a@x.example%20")).unwrap();
        assert_eq!(p.filter.email.as_deref(), Some("a@x.example"));
    }

    #[test]
    fn date_times() {
        let p = parse(
            ModelKind::Job,
            Some("updated_after=2026-01-02T03:04:05.678Z"),
        )
        .unwrap();
        assert_eq!(p.filter.updated_after, Some(1_767_323_045_678));
        // An unencoded `+` offset.
        let p = parse(
            ModelKind::Job,
            Some("updated_after=2026-01-02T05:04:05.678+02:00"),
        )
        .unwrap();
        assert_eq!(p.filter.updated_after, Some(1_767_323_045_678));
        assert!(
            message(parse(ModelKind::Job, Some("updated_after=2026-01-02")))
                .starts_with("updated_after:")
        );
        // No offset (a naive Python datetime): UTC.
        for naive in [
            "2026-01-02T03:04:05.678",
            "2026-01-02T03:04:05.678000",
            "2026-01-02T03:04:05.6789",
        ] {
            let p = parse(ModelKind::Job, Some(&format!("updated_after={naive}"))).unwrap();
            assert_eq!(p.filter.updated_after, Some(1_767_323_045_678), "{naive}");
        }
        let p = parse(ModelKind::Job, Some("updated_after=2026-01-02T03:04:05")).unwrap();
        assert_eq!(p.filter.updated_after, Some(1_767_323_045_000));
        for bad in [
            "2026-01-02T03:04:05+02",
            "2026-01-02T25:04:05",
            "2026-01-02 03:04:05",
            "2026-01-02T03:04:05ZZ",
        ] {
            let m = message(parse(ModelKind::Job, Some(&format!("updated_after={bad}"))));
            assert!(m.starts_with("updated_after:"), "{bad}: {m}");
        }
        assert!(
            message(parse(ModelKind::Job, Some("updated_after=yesterday")))
                .starts_with("updated_after:")
        );
        let p = parse(
            ModelKind::Application,
            Some("remote_created_after=2026-01-02"),
        )
        .unwrap();
        assert_eq!(p.filter.remote_created_after, Some(1_767_312_000_000));
        assert!(message(parse(
            ModelKind::Application,
            Some("remote_created_after=x")
        ))
        .starts_with("remote_created_after:"));
    }

    #[test]
    fn enums_are_validated_and_deprecated_forms_merge() {
        let p = parse(ModelKind::Job, Some("statuses=OPEN&status=DRAFT&employment_types=FULL_TIME&visibilities=PUBLIC,INTERNAL")).unwrap();
        assert_eq!(p.filter.statuses, Some(vec!["OPEN".into(), "DRAFT".into()]));
        let m = message(parse(ModelKind::Job, Some("statuses=OPEN,open")));
        assert!(m.starts_with("statuses:") && m.contains("`open`"), "{m}");
        assert!(message(parse(ModelKind::Job, Some("status=NOPE"))).starts_with("status:"));
        // Open: any text a job can carry, matched exactly.
        let p = parse(
            ModelKind::Job,
            Some("employment_types=Full-time,FULL_TIME,Freelance%20(hourly)"),
        )
        .unwrap();
        assert_eq!(
            p.filter.employment_types,
            Some(vec![
                "Full-time".into(),
                "FULL_TIME".into(),
                "Freelance (hourly)".into()
            ])
        );
        assert!(message(parse(ModelKind::Job, Some("visibilities=HIDDEN")))
            .starts_with("visibilities:"));
        let p = parse(ModelKind::Application, Some("outcome=HIRED&outcomes=HIRED")).unwrap();
        assert_eq!(p.filter.outcomes, Some(vec!["HIRED".into()]));
        let m = message(parse(ModelKind::Application, Some("outcomes=REJECTED")));
        assert!(m.starts_with("outcomes:") && m.contains("REJECTED"), "{m}");
        assert!(message(parse(ModelKind::Application, Some("outcome=x"))).starts_with("outcome:"));
    }

    #[test]
    fn other_endpoints_parameters_are_ignored() {
        let p = parse(
            ModelKind::ApplicationStage,
            Some("statuses=NOPE&outcomes=NOPE&email=x&foo=bar"),
        )
        .unwrap();
        assert_eq!(p.filter, Filter::default());
        let p = parse(
            ModelKind::Candidate,
            Some("statuses=NOPE&email=A@B.example"),
        )
        .unwrap();
        assert_eq!(p.filter.statuses, None);
        assert_eq!(p.filter.email.as_deref(), Some("A@B.example"));
    }

    #[test]
    fn single_values_given_twice_must_agree() {
        assert!(parse(ModelKind::Candidate, Some("email=a&email=a")).is_ok());
        assert!(
            message(parse(ModelKind::Candidate, Some("email=a&email=b"))).starts_with("email:")
        );
    }

    #[test]
    fn hris_filters() {
        let p = parse(
            ModelKind::Employee,
            Some("employment_statuses=ACTIVE,LEAVE&group_ids=g1&work_emails=A@x.example&personal_emails=p@x.example&updated_after=2026-01-02"),
        )
        .unwrap();
        assert_eq!(
            p.filter.employment_statuses,
            Some(vec!["ACTIVE".to_owned(), "LEAVE".to_owned()])
        );
        assert_eq!(p.filter.group_ids, Some(vec!["g1".to_owned()]));
        assert_eq!(p.filter.absent_fields, ["personal_emails"]);
        assert!(
            p.filter.updated_after.is_some(),
            "a bare date on an HRIS endpoint"
        );
        assert!(
            message(parse(ModelKind::Job, Some("updated_after=2026-01-02")))
                .starts_with("updated_after:")
        );
        assert!(message(parse(
            ModelKind::Employee,
            Some("employment_statuses=active")
        ))
        .starts_with("employment_statuses:"));
        let p = parse(
            ModelKind::Employee,
            Some("custom_fields=%7B%22T-shirt%20size%22%3A%22M%22%7D"),
        )
        .unwrap();
        assert_eq!(
            p.filter.custom_field,
            Some(("T-shirt size".to_owned(), serde_json::json!("M")))
        );
        assert!(message(parse(
            ModelKind::Employee,
            Some("custom_fields=%7B%22a%22%3A%5B1%5D%7D")
        ))
        .starts_with("custom_fields:"));
        assert!(
            message(parse(ModelKind::Employee, Some("custom_fields=%5B%5D"))).contains("one key")
        );

        let p = parse(ModelKind::Group, Some("types=TEAM,null&name_contains=eng")).unwrap();
        assert_eq!(
            p.filter.group_types,
            Some(vec![Some("TEAM".to_owned()), None])
        );
        assert!(message(parse(ModelKind::Group, Some("types=team"))).starts_with("types:"));

        let p = parse(
            ModelKind::Absence,
            Some("date_from=2026-03-01T10:00:00Z&time_until=2026-03-31&type_ids=t1&employee_id=e1"),
        )
        .unwrap();
        assert_eq!(
            (
                p.filter.date_from.as_deref(),
                p.filter.date_until.as_deref()
            ),
            (Some("2026-03-01"), Some("2026-03-31"))
        );
        assert_eq!(p.filter.employee_id.as_deref(), Some("e1"));
        assert!(
            message(parse(ModelKind::Absence, Some("date_from=2026-02-30")))
                .starts_with("date_from:")
        );

        let mut f = parse(
            ModelKind::Employee,
            Some("legal_entity_ids=x&work_location_ids=y"),
        )
        .unwrap()
        .filter;
        assert!(clear(&mut f, "legal_entity_ids"));
        assert_eq!(f.absent_fields, ["work_location_ids"]);
    }
}
