use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use super::*;
use crate::common::Location;
use crate::timestamp::Timestamp;

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// Serializes `v`, checks its keys are exactly `keys` (in any order), and that parsing the
/// JSON back gives `v` again.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    v: &T,
    keys: &[&str],
) -> Value {
    let json = serde_json::to_value(v).unwrap();
    let mut got: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    got.sort_unstable();
    let mut want = keys.to_vec();
    want.sort_unstable();
    assert_eq!(got, want);
    let back: T = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(&back, v);
    json
}

fn nulls(json: &Value, keys: &[&str]) {
    for k in keys {
        assert_eq!(json[k], Value::Null, "{k} should be null");
    }
}

const CORE_KEYS: &[&str] = &[
    "id",
    "remote_id",
    "employee_number",
    "first_name",
    "last_name",
    "nationality",
    "display_full_name",
    "job_title",
    "work_email",
    "personal_email",
    "mobile_phone_number",
    "ssn",
    "tax_id",
    "gender",
    "ethnicity",
    "marital_status",
    "employment_status",
    "employment_type",
    "weekly_hours",
    "avatar",
    "work_location_id",
    "legal_entity_id",
    "manager_id",
    "home_address",
    "bank_accounts",
    "date_of_birth",
    "start_date",
    "termination_date",
    "remote_created_at",
    "changed_at",
    "remote_deleted_at",
    "custom_fields",
    "integration_fields",
    "remote_data",
];

const NESTED_KEYS: &[&str] = &[
    "employments",
    "time_off_balances",
    "manager",
    "groups",
    "teams",
    "legal_entity",
    "work_location",
];

fn core_nulls() -> EmployeeCore {
    EmployeeCore {
        id: "e1".into(),
        remote_id: "19".into(),
        employee_number: None,
        first_name: None,
        last_name: None,
        nationality: None,
        display_full_name: None,
        job_title: None,
        work_email: None,
        personal_email: None,
        mobile_phone_number: None,
        ssn: None,
        tax_id: None,
        gender: None,
        ethnicity: None,
        marital_status: None,
        employment_status: None,
        employment_type: None,
        weekly_hours: None,
        avatar: None,
        work_location_id: None,
        legal_entity_id: None,
        manager_id: None,
        home_address: None,
        bank_accounts: None,
        date_of_birth: None,
        start_date: None,
        termination_date: None,
        remote_created_at: None,
        changed_at: ts("2026-01-02T03:04:05.678Z"),
        remote_deleted_at: None,
        custom_fields: None,
        integration_fields: vec![],
        remote_data: None,
    }
}

fn absence_type() -> AbsenceType {
    AbsenceType {
        id: "at1".into(),
        remote_id: "91".into(),
        name: Some("Vacation".into()),
        unit: Some(TimeUnit::Days),
        half_days_supported: Some(true),
        exact_times_supported: Some(false),
        custom_fields: Some(serde_json::Map::new()),
        changed_at: ts("2022-08-07T14:01:29.196Z"),
        remote_deleted_at: None,
        remote_data: None,
    }
}

fn employment() -> Employment {
    Employment {
        id: "em1".into(),
        remote_id: None,
        employee_id: "e1".into(),
        job_title: Some("Engineer".into()),
        pay_rate: Some(85000.0),
        pay_period: Some(PayPeriod::Year),
        pay_frequency: None,
        employment_type: Some(EmploymentType::Other("Vollzeit (befristet)".into())),
        pay_currency: Some("EUR".into()),
        effective_date: Some(ts("2021-01-30T00:00:00Z")),
        changed_at: ts("2022-08-07T14:01:29.196Z"),
        remote_deleted_at: None,
        custom_fields: None,
        integration_fields: vec![],
        remote_data: None,
    }
}

fn balance() -> TimeOffBalanceCore {
    TimeOffBalanceCore {
        id: "b1".into(),
        remote_id: None,
        employee_id: "e1".into(),
        type_id: "at1".into(),
        balance: Some(14.5),
        balance_unit: Some(TimeUnit::Days),
        used: None,
        used_unit: None,
        changed_at: ts("2022-08-07T14:01:29.196Z"),
        remote_deleted_at: None,
        remote_data: None,
    }
}

#[test]
fn a_bare_employee_emits_every_key_with_nulls_and_empty_lists() {
    let e = Employee::new(core_nulls(), vec![], vec![], None, vec![]);
    let keys: Vec<&str> = CORE_KEYS.iter().chain(NESTED_KEYS).copied().collect();
    let json = round_trip(&e, &keys);
    nulls(
        &json,
        &[
            "gender",
            "home_address",
            "bank_accounts",
            "date_of_birth",
            "manager",
            "legal_entity",
            "work_location",
            "remote_data",
            "custom_fields",
        ],
    );
    for list in [
        "employments",
        "time_off_balances",
        "groups",
        "teams",
        "integration_fields",
    ] {
        assert_eq!(json[list], json!([]), "{list}");
    }
}

#[test]
fn a_full_employee_round_trips_with_its_nested_records() {
    let groups = vec![GroupRef {
        id: "g1".into(),
        remote_id: "49".into(),
        name: Some("Customer Success".into()),
        kind: Some(GroupType::Team),
    }];
    let core = EmployeeCore {
        first_name: Some("John".into()),
        gender: Some(Gender::Male),
        marital_status: Some(MaritalStatus::Other("Lebenspartnerschaft".into())),
        employment_status: Some(EmploymentStatus::Leave),
        home_address: Some(Location {
            city: Some("Berlin".into()),
            country: Some("DE".into()),
            ..Location::default()
        }),
        bank_accounts: Some(vec![BankAccount {
            iban: Some("DE12345678901234567890".into()),
            domestic_bank_routing: Some(DomesticBankRouting {
                number: "34567890".into(),
                kind: Some(DomesticBankRoutingType::DeBankleitzahl),
            }),
            ..BankAccount::default()
        }]),
        date_of_birth: Some(ts("1986-01-01T00:00:00Z")),
        integration_fields: vec![IntegrationField {
            id: "if1".into(),
            key: "shoe_size".into(),
            kind: IntegrationFieldType::Custom,
            value: json!(44),
            label: None,
        }],
        remote_data: Some(json!({"/employees/19": {"id": 19}})),
        ..core_nulls()
    };
    let manager = Manager {
        id: "e0".into(),
        remote_id: "7".into(),
        first_name: Some("Grace".into()),
        last_name: None,
        display_full_name: None,
        employee_number: None,
        work_email: None,
        employment_status: Some(EmploymentStatus::Active),
        termination_date: None,
    };
    let e = Employee::new(
        core,
        vec![employment()],
        vec![balance()],
        Some(manager),
        groups,
    );
    let keys: Vec<&str> = CORE_KEYS.iter().chain(NESTED_KEYS).copied().collect();
    let json = round_trip(&e, &keys);
    assert_eq!(json["teams"], json["groups"], "teams mirrors groups");
    assert_eq!(json["date_of_birth"], "1986-01-01T00:00:00.000Z");
    assert_eq!(json["marital_status"], "Lebenspartnerschaft");
    assert_eq!(
        json["bank_accounts"][0]["domestic_bank_routing"]["type"],
        "DE_BANKLEITZAHL"
    );
    assert_eq!(json["bank_accounts"][0]["bic"], Value::Null);
    assert_eq!(json["integration_fields"][0]["type"], "CUSTOM");
    assert_eq!(json["employments"][0]["pay_frequency"], Value::Null);
    assert!(json["time_off_balances"][0].get("type").is_none());
}

#[test]
fn the_created_employee_is_the_flat_core() {
    let created: CreatedEmployee = core_nulls();
    round_trip(&created, CORE_KEYS);
    for nested in NESTED_KEYS {
        assert!(serde_json::to_value(&created)
            .unwrap()
            .get(nested)
            .is_none());
    }
}

#[test]
fn employments_groups_and_absence_types_emit_every_key() {
    let json = round_trip(
        &employment(),
        &[
            "id",
            "remote_id",
            "employee_id",
            "job_title",
            "pay_rate",
            "pay_period",
            "pay_frequency",
            "employment_type",
            "pay_currency",
            "effective_date",
            "changed_at",
            "remote_deleted_at",
            "custom_fields",
            "integration_fields",
            "remote_data",
        ],
    );
    assert_eq!(json["employment_type"], "Vollzeit (befristet)");
    nulls(&json, &["remote_id", "pay_frequency", "custom_fields"]);

    let group = Group {
        id: "g1".into(),
        remote_id: "49".into(),
        name: None,
        kind: None,
        parent_id: None,
        changed_at: ts("2022-08-07T14:01:29.196Z"),
        remote_deleted_at: None,
        remote_data: None,
    };
    let json = round_trip(
        &group,
        &[
            "id",
            "remote_id",
            "name",
            "type",
            "parent_id",
            "changed_at",
            "remote_deleted_at",
            "remote_data",
        ],
    );
    nulls(&json, &["name", "type", "parent_id"]);

    round_trip(
        &absence_type(),
        &[
            "id",
            "remote_id",
            "name",
            "unit",
            "half_days_supported",
            "exact_times_supported",
            "custom_fields",
            "changed_at",
            "remote_deleted_at",
            "remote_data",
        ],
    );
}

const ABSENCE_KEYS: &[&str] = &[
    "id",
    "remote_id",
    "employee_id",
    "approver_id",
    "start_date",
    "end_date",
    "start_half_day",
    "end_half_day",
    "start_time",
    "end_time",
    "amount",
    "unit",
    "status",
    "employee_note",
    "type_id",
    "remote_created_at",
    "remote_updated_at",
    "changed_at",
    "remote_deleted_at",
    "remote_data",
];

#[test]
fn absences_use_plain_dates_and_clock_times_and_embed_their_type() {
    let core = AbsenceCore {
        id: "a1".into(),
        remote_id: Some("1348".into()),
        employee_id: "e1".into(),
        approver_id: None,
        start_date: PlainDate::parse("2022-08-04"),
        end_date: PlainDate::parse("2022-08-05"),
        start_half_day: Some(true),
        end_half_day: Some(false),
        start_time: ClockTime::parse("13:15:00"),
        end_time: ClockTime::parse("17:00"),
        amount: Some(1.5),
        unit: Some(TimeUnit::Days),
        status: Some(AbsenceStatus::Approved),
        employee_note: Some("Visiting my family.".into()),
        type_id: Some("at1".into()),
        remote_created_at: None,
        remote_updated_at: None,
        changed_at: ts("2022-08-07T14:01:29.196Z"),
        remote_deleted_at: None,
        remote_data: None,
    };
    let absence = Absence {
        core: core.clone(),
        kind: Some(absence_type()),
    };
    let keys: Vec<&str> = ABSENCE_KEYS.iter().chain(&["type"]).copied().collect();
    let json = round_trip(&absence, &keys);
    assert_eq!(json["start_date"], "2022-08-04");
    assert_eq!(json["end_time"], "17:00:00");
    assert_eq!(json["approver_id"], Value::Null);
    assert_eq!(json["type"]["name"], "Vacation");

    let untyped = Absence { core, kind: None };
    let json = round_trip(&untyped, &keys);
    assert_eq!(json["type"], Value::Null);

    let mut bad = json;
    bad["start_date"] = json!("2022-08-04T00:00:00.000Z");
    assert!(serde_json::from_value::<Absence>(bad).is_err());
}

#[test]
fn time_off_balances_require_their_type() {
    let b = TimeOffBalance {
        core: balance(),
        kind: absence_type(),
    };
    let json = round_trip(
        &b,
        &[
            "id",
            "remote_id",
            "employee_id",
            "type_id",
            "balance",
            "balance_unit",
            "used",
            "used_unit",
            "changed_at",
            "remote_deleted_at",
            "remote_data",
            "type",
        ],
    );
    nulls(&json, &["remote_id", "used", "used_unit"]);
    let mut untyped = json;
    untyped["type"] = Value::Null;
    assert!(serde_json::from_value::<TimeOffBalance>(untyped).is_err());
}

#[test]
fn open_enums_pass_raw_values_through_and_closed_ones_refuse_them() {
    let raw: AbsenceStatus = serde_json::from_str("\"PENDING_APPROVAL\"").unwrap();
    assert_eq!(raw, AbsenceStatus::Other("PENDING_APPROVAL".into()));
    assert_eq!(serde_json::to_string(&raw).unwrap(), "\"PENDING_APPROVAL\"");
    // Each open enum maps its own spellings exactly and keeps anything else verbatim.
    let cases: [(&str, bool, bool); 6] = [
        (
            "NON_BINARY",
            Gender::from_raw("NON_BINARY").is_known(),
            true,
        ),
        ("asian", Ethnicity::from_raw("asian").is_known(), false),
        (
            "PRO_RATA",
            PayFrequency::from_raw("PRO_RATA").is_known(),
            true,
        ),
        (
            "HALF_MONTH",
            PayPeriod::from_raw("HALF_MONTH").is_known(),
            true,
        ),
        (
            "ON_LEAVE",
            EmploymentStatus::from_raw("ON_LEAVE").is_known(),
            false,
        ),
        (
            "NOT_MARRIED",
            MaritalStatus::from_raw("NOT_MARRIED").is_known(),
            true,
        ),
    ];
    for (value, known, expected) in cases {
        assert_eq!(known, expected, "{value}");
    }
    assert_eq!(
        serde_json::to_value(EmploymentStatus::from_raw("ON_LEAVE")).unwrap(),
        "ON_LEAVE"
    );
    assert!(EmploymentType::from_raw("WORKING_STUDENT").is_known());
    assert!(!crate::enums::EmploymentType::from_raw("WORKING_STUDENT").is_known());
    assert!(!Ethnicity::from_raw("asian").is_known());

    assert!(serde_json::from_str::<GroupType>("\"PROJECT\"").is_err());
    assert_eq!(
        serde_json::from_str::<GroupType>("\"COST_CENTER\"").unwrap(),
        GroupType::CostCenter
    );
    assert!(serde_json::from_str::<TimeUnit>("\"WEEKS\"").is_err());
    assert!(serde_json::from_str::<TimeUnit>("\"days\"").is_err());
    assert!(serde_json::from_str::<DomesticBankRoutingType>("\"IBAN\"").is_err());
    assert!(serde_json::from_str::<IntegrationFieldType>("\"OTHER\"").is_err());
    assert_eq!(GroupType::ALL.len(), 3);
    assert_eq!(PayPeriod::KNOWN.len(), 10);
    assert_eq!(MaritalStatus::KNOWN.len(), 7);
}
