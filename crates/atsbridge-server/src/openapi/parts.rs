//! The pieces operations are made of: the schema collector, parameters, bodies, the success
//! answer and Kombo's error envelope for each status an operation can answer.

use std::collections::{BTreeMap, BTreeSet};

use atsbridge_model::{ErrorCode, ErrorResponse};
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ComponentsBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, Ref, RefOr, Required, ResponseBuilder, Schema};
use utoipa::ToSchema;

/// The security scheme of `Authorization: Bearer <API key>`.
pub const BEARER: &str = "api_key";
/// The security scheme of the `X-Integration-Id` header.
pub const INTEGRATION_ID: &str = "integration_id";

/// The named schemas the operations refer to, gathered while they are built.
#[derive(Debug, Default)]
pub(super) struct Schemas(BTreeMap<String, RefOr<Schema>>);

impl Schemas {
    /// `T`'s schema inline; the named schemas it refers to are kept for the components.
    pub(super) fn of<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let mut found = Vec::new();
        T::schemas(&mut found);
        for (name, schema) in found {
            self.0.entry(name).or_insert(schema);
        }
        T::schema()
    }

    /// A reference to `T`'s schema, which goes into the components.
    pub(super) fn named<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let schema = self.of::<T>();
        let name = T::name().into_owned();
        self.0.insert(name.clone(), schema);
        Ref::from_schema_name(name).into()
    }

    pub(super) fn into_components(self, mut builder: ComponentsBuilder) -> ComponentsBuilder {
        for (name, schema) in self.0 {
            builder = builder.schema(name, schema);
        }
        builder
    }
}

/// A schema made while the document is built (it may add named schemas).
pub(super) type MakeSchema = fn(&mut Schemas) -> RefOr<Schema>;

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Auth {
    /// Nobody needs a key (the document itself).
    Public,
    /// An API key.
    Key,
    /// An API key and `X-Integration-Id`.
    Scoped,
}

/// One route and method.
#[derive(Debug, Clone)]
pub(super) struct Op {
    pub method: HttpMethod,
    /// Below `/v1`, in axum's `{param}` form (the same as OpenAPI's).
    pub path: &'static str,
    pub id: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub auth: Auth,
    pub params: Vec<Parameter>,
    /// The JSON body and whether it may be left out.
    pub body: Option<(MakeSchema, bool)>,
    /// The success answer, `None` for Kombo actions no connector performs (they always
    /// answer an error).
    pub ok: Option<MakeSchema>,
}

impl Op {
    pub(super) fn new(
        method: HttpMethod,
        path: &'static str,
        id: &'static str,
        tag: &'static str,
        summary: &'static str,
        auth: Auth,
    ) -> Op {
        let params = path_params(path);
        Op {
            method,
            path,
            id,
            tag,
            summary,
            auth,
            params,
            body: None,
            ok: None,
        }
    }

    pub(super) fn ok(mut self, ok: MakeSchema) -> Op {
        self.ok = Some(ok);
        self
    }

    pub(super) fn body(mut self, body: MakeSchema) -> Op {
        self.body = Some((body, false));
        self
    }

    /// A body whose fields are all optional, so it may be left out.
    pub(super) fn optional_body(mut self, body: MakeSchema) -> Op {
        self.body = Some((body, true));
        self
    }

    pub(super) fn params(mut self, params: impl IntoIterator<Item = Parameter>) -> Op {
        self.params.extend(params);
        self
    }

    pub(super) fn build(&self, schemas: &mut Schemas) -> Operation {
        let mut op = OperationBuilder::new()
            .operation_id(Some(self.id))
            .tag(self.tag)
            .summary(Some(self.summary));
        for p in &self.params {
            op = op.parameter(p.clone());
        }
        if let Some((make, optional)) = self.body {
            let required = if optional {
                Required::False
            } else {
                Required::True
            };
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", Content::new(Some(make(schemas))))
                    .required(Some(required))
                    .build(),
            ));
        }
        if let Some(make) = self.ok {
            op = op.response(
                "200",
                ResponseBuilder::new()
                    .description("Success.")
                    .content("application/json", Content::new(Some(make(schemas)))),
            );
        }
        let error = schemas.named::<ErrorResponse>();
        for status in error_statuses(self.auth) {
            op = op.response(
                status.to_string(),
                ResponseBuilder::new()
                    .description("Kombo's error envelope; `error.code` says what happened.")
                    .content("application/json", Content::new(Some(error.clone()))),
            );
        }
        match self.auth {
            Auth::Public => {}
            Auth::Key => {
                op = op.security(SecurityRequirement::new(BEARER, Vec::<String>::new()));
            }
            Auth::Scoped => {
                op = op.security(
                    SecurityRequirement::new(BEARER, Vec::<String>::new())
                        .add(INTEGRATION_ID, Vec::<String>::new()),
                );
            }
        }
        op.build()
    }
}

/// Every status an authenticated route may answer with an error: those of Kombo's codes
/// (which one depends on the tool and the integration's state) and the transport's own
/// (body too large, wrong media type, method not allowed).
fn error_statuses(auth: Auth) -> BTreeSet<u16> {
    if auth == Auth::Public {
        return BTreeSet::from([429]);
    }
    ErrorCode::ALL
        .iter()
        .map(|c| c.http_status())
        .chain([405, 413, 415])
        .collect()
}

/// The path's `{name}` segments as required string parameters.
fn path_params(path: &str) -> Vec<Parameter> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(string()))
                .build()
        })
        .collect()
}

/// Replaces the schema of path parameter `name` (e.g. to list the values a catch-all takes).
pub(super) fn path_values(mut op: Op, name: &str, values: &[&str]) -> Op {
    for p in &mut op.params {
        if p.name == name {
            p.schema = Some(
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::String))
                    .enum_values(Some(values.iter().copied()))
                    .into(),
            );
        }
    }
    op
}

pub(super) fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::Type(Type::String))
}

/// An optional query parameter.
pub(super) fn query(name: &str, schema: impl Into<RefOr<Schema>>, text: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .schema(Some(schema))
        .description(Some(text))
        .build()
}

/// An optional request header.
pub(super) fn header(name: &str, text: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .schema(Some(string()))
        .description(Some(text))
        .build()
}
