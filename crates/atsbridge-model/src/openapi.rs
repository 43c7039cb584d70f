//! JSON schemas (for the server's OpenAPI document) of the model types whose serde impls are
//! written by hand, so the derive cannot see their wire form: timestamps, plain dates and
//! times, error codes and the envelopes' fixed `status` strings. The structs and the closed
//! enums derive theirs; the open enums get theirs from `open_enum!`.

use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{KnownFormat, RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::envelope::{Failure, Success};
use crate::error::ErrorCode;
use crate::hris::{ClockTime, PlainDate};
use crate::timestamp::Timestamp;

/// A string schema with a description, the shape every hand-written type here has.
pub fn string_schema(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description(Some(description))
}

/// A string that is exactly one of `values`.
pub fn string_enum<'a>(values: impl IntoIterator<Item = &'a str>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some(values))
}

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        string_schema("An instant in UTC with milliseconds, e.g. `2024-01-31T09:30:00.000Z`.")
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into()
    }
}
impl ToSchema for Timestamp {}

impl PartialSchema for PlainDate {
    fn schema() -> RefOr<Schema> {
        string_schema("A calendar day, `yyyy-MM-dd`.")
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .into()
    }
}
impl ToSchema for PlainDate {}

impl PartialSchema for ClockTime {
    fn schema() -> RefOr<Schema> {
        string_schema("A time of day, `HH:mm:ss`.")
            .pattern(Some("^[0-9]{2}:[0-9]{2}:[0-9]{2}$"))
            .into()
    }
}
impl ToSchema for ClockTime {}

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        string_enum(ErrorCode::ALL.iter().map(|c| c.as_str()))
            .description(Some("Kombo's error code; clients branch on it."))
            .into()
    }
}
impl ToSchema for ErrorCode {}

impl PartialSchema for Success {
    fn schema() -> RefOr<Schema> {
        string_enum(["success"]).into()
    }
}
impl ToSchema for Success {}

impl PartialSchema for Failure {
    fn schema() -> RefOr<Schema> {
        string_enum(["error"]).into()
    }
}
impl ToSchema for Failure {}

/// A closed set of strings a write body's field takes (the checks in `write` hold it to them).
fn one_of(values: &[&str], nullable: bool) -> ObjectBuilder {
    let mut kinds = vec![Type::String];
    let mut allowed: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
    if nullable {
        kinds.push(Type::Null);
        allowed.push(serde_json::Value::Null);
    }
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter(kinds))
        .enum_values(Some(allowed))
}

pub(crate) fn contact_type() -> ObjectBuilder {
    one_of(crate::write::CONTACT_TYPES, false)
}

pub(crate) fn gender() -> ObjectBuilder {
    one_of(crate::write::GENDERS, true)
}

pub(crate) fn salary_period() -> ObjectBuilder {
    one_of(crate::write::SALARY_PERIODS, false)
}

pub(crate) fn attachment_type() -> ObjectBuilder {
    one_of(crate::write::ATTACHMENT_TYPES, false)
}
