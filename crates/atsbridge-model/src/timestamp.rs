//! The one timestamp format of the API: RFC 3339 in UTC with exactly three fractional digits
//! and a `Z` suffix (`2026-01-02T03:04:05.678Z`), as Kombo emits it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time, UtcOffset};

/// An instant truncated to whole milliseconds, always held in UTC.
///
/// Truncation happens on construction so that a value survives a round trip through its text
/// form unchanged; change detection hashes serialized records and must not see phantom edits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("`{0}` is not an RFC 3339 date-time (e.g. 2026-01-02T03:04:05.678Z)")]
    NotDateTime(String),
    #[error("`{0}` is not a date (YYYY-MM-DD) or an RFC 3339 date-time")]
    NotDateOrDateTime(String),
    #[error("{0} milliseconds since the Unix epoch is out of range")]
    OutOfRange(i64),
}

impl Timestamp {
    pub fn from_offset_date_time(t: OffsetDateTime) -> Self {
        let t = t.to_offset(UtcOffset::UTC);
        let millis = t.millisecond();
        // `replace_millisecond` only fails for values above 999, which `millisecond()` never returns.
        Timestamp(t.replace_millisecond(millis).unwrap_or(t))
    }

    pub fn now() -> Self {
        Self::from_offset_date_time(OffsetDateTime::now_utc())
    }

    pub fn from_unix_millis(ms: i64) -> Result<Self, TimestampError> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .map(Timestamp)
            .map_err(|_| TimestampError::OutOfRange(ms))
    }

    pub fn unix_millis(self) -> i64 {
        // Truncated to milliseconds on construction, and the year range of `time` keeps this
        // well inside i64.
        (self.0.unix_timestamp_nanos() / 1_000_000) as i64
    }

    /// This instant plus `d`, or the latest representable instant if that is out of range.
    pub fn plus(self, d: std::time::Duration) -> Self {
        let later = self
            .0
            .checked_add(time::Duration::try_from(d).unwrap_or(time::Duration::MAX))
            .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc());
        Self::from_offset_date_time(later)
    }

    pub fn offset_date_time(self) -> OffsetDateTime {
        self.0
    }

    /// Parses an RFC 3339 date-time with any offset (`Z`, `+02:00`, any number of fractional
    /// digits).
    pub fn parse(s: &str) -> Result<Self, TimestampError> {
        OffsetDateTime::parse(s, &Rfc3339)
            .map(Self::from_offset_date_time)
            .map_err(|_| TimestampError::NotDateTime(s.to_owned()))
    }

    /// Parses a calendar date (`YYYY-MM-DD`, taken as midnight UTC) or an RFC 3339 date-time.
    /// Kombo accepts both where a field is "a date", e.g. `availability_date`, and Sage HR
    /// sends plain dates for positions.
    pub fn parse_date_or_datetime(s: &str) -> Result<Self, TimestampError> {
        if let Ok(t) = Self::parse(s) {
            return Ok(t);
        }
        Date::parse(s, format_description!("[year]-[month]-[day]"))
            .map(|d| Timestamp(d.with_time(Time::MIDNIGHT).assume_utc()))
            .map_err(|_| TimestampError::NotDateOrDateTime(s.to_owned()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(t: OffsetDateTime) -> Self {
        Self::from_offset_date_time(t)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_three_fraction_digits_and_z() {
        let t = Timestamp::parse("2026-01-02T03:04:05.678Z").unwrap();
        assert_eq!(t.to_string(), "2026-01-02T03:04:05.678Z");
        let whole = Timestamp::parse("2026-01-02T03:04:05Z").unwrap();
        assert_eq!(whole.to_string(), "2026-01-02T03:04:05.000Z");
    }

    #[test]
    fn converts_offsets_to_utc() {
        let t = Timestamp::parse("2026-01-02T01:00:00.5+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-01-01T23:00:00.500Z");
    }

    #[test]
    fn truncates_below_milliseconds_so_round_trips_are_exact() {
        let t = Timestamp::parse("2026-01-02T03:04:05.678999999Z").unwrap();
        assert_eq!(t.to_string(), "2026-01-02T03:04:05.678Z");
        assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2026-01-02T03:04:05.678Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
    }

    #[test]
    fn now_is_truncated_to_milliseconds() {
        let now = Timestamp::now();
        assert_eq!(now.offset_date_time().nanosecond() % 1_000_000, 0);
        assert_eq!(Timestamp::from_unix_millis(now.unix_millis()).unwrap(), now);
    }

    #[test]
    fn unix_millis_round_trip() {
        let t = Timestamp::from_unix_millis(1_767_323_045_678).unwrap();
        assert_eq!(t.to_string(), "2026-01-02T03:04:05.678Z");
        assert_eq!(t.unix_millis(), 1_767_323_045_678);
    }

    #[test]
    fn accepts_plain_dates_only_where_asked() {
        assert!(Timestamp::parse("2026-01-02").is_err());
        let d = Timestamp::parse_date_or_datetime("2026-01-02").unwrap();
        assert_eq!(d.to_string(), "2026-01-02T00:00:00.000Z");
        assert!(Timestamp::parse_date_or_datetime("02.01.2026").is_err());
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }
}
