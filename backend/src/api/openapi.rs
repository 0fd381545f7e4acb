//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, built from the route table the server
//! registers (`super::endpoints`) and the request types' schemas, so it cannot list a route the
//! server lacks or miss one it has. Every error answer has the one `ErrorBody` shape.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::Method;
use gridwork_mobile_core::wire::ErrorBody;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ComponentsBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required, ResponseBuilder,
    ResponsesBuilder,
};
use utoipa::{PartialSchema, ToSchema};

use super::{Input, endpoints};

/// Error statuses any operation may answer (500 is never expected, so not promised).
const ERRORS: [(u16, &str); 11] = [
    (400, "malformed request (JSON, query or path)"),
    (401, "not signed in, the session has ended, or (sign-in) wrong credentials"),
    (403, "signed in, but not allowed"),
    (404, "no such thing within the caller's reach"),
    (405, "method not allowed"),
    (409, "conflicts with the current state"),
    (413, "body too large"),
    (415, "wrong media type"),
    (422, "input refused; `fields` names what is wrong"),
    (429, "too many attempts; see Retry-After"),
    (503, "temporarily unavailable; see Retry-After"),
];

fn method(m: &Method) -> HttpMethod {
    match *m {
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::PATCH => HttpMethod::Patch,
        Method::DELETE => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

fn any_object() -> Schema {
    Schema::Object(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Object)).build())
}

/// Builds the document (once per process: the route table does not change).
pub fn build() -> OpenApi {
    let mut paths = Paths::new();
    let mut schemas: Vec<(String, RefOr<Schema>)> = vec![(ErrorBody::name().into_owned(), ErrorBody::schema())];
    ErrorBody::schemas(&mut schemas);
    let error_ref = || RefOr::Ref(Ref::from_schema_name(ErrorBody::name()));
    for endpoint in endpoints(0, 0) {
        let params: Vec<&str> =
            endpoint.path.split('/').filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}')).collect();
        for op in endpoint.operations {
            let id = format!(
                "{}{}",
                op.method.as_str().to_ascii_lowercase(),
                endpoint.path.replace(['/', '{', '}', '.', '-'], "_").trim_end_matches('_')
            );
            let tag = endpoint.path.trim_start_matches("/api/v1/").split('/').next().unwrap_or("health").to_owned();
            let mut b = OperationBuilder::new().operation_id(Some(id)).summary(Some(op.summary)).tag(tag);
            for name in &params {
                b = b.parameter(
                    ParameterBuilder::new()
                        .name(*name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .schema(Some(Schema::Object(ObjectBuilder::new().schema_type(Type::String).build()))),
                );
            }
            for param in op.query {
                b = b.parameter(param);
            }
            match op.input {
                Input::None => {}
                Input::Json(name, needed) => {
                    schemas.extend(needed);
                    let content = ContentBuilder::new().schema(Some(RefOr::Ref(Ref::from_schema_name(name)))).build();
                    b = b.request_body(Some(
                        RequestBodyBuilder::new()
                            .required(Some(Required::True))
                            .content("application/json", content)
                            .build(),
                    ));
                }
                Input::Raw(media) => {
                    let content = ContentBuilder::new().build();
                    b = b.request_body(Some(
                        RequestBodyBuilder::new().required(Some(Required::True)).content(media, content).build(),
                    ));
                }
            }
            let (status, media) = op.ok;
            let mut ok = ResponseBuilder::new().description("done");
            if let Some(media) = media {
                let schema = match (media, op.output) {
                    ("application/json", Some((name, needed))) => {
                        schemas.extend(needed);
                        Some(RefOr::Ref(Ref::from_schema_name(name)))
                    }
                    ("application/json", None) => Some(RefOr::T(any_object())),
                    _ => None,
                };
                ok = ok.content(media, ContentBuilder::new().schema(schema).build());
            }
            let mut responses = ResponsesBuilder::new().response(status.to_string(), ok.build());
            for (code, why) in ERRORS {
                let content = ContentBuilder::new().schema(Some(error_ref())).build();
                responses = responses.response(
                    code.to_string(),
                    ResponseBuilder::new().description(why).content("application/json", content),
                );
            }
            b = b.responses(responses.build());
            if !op.public {
                b = b.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
            }
            paths.add_path_operation(endpoint.path, vec![method(&op.method)], b.build());
        }
    }
    let mut components =
        ComponentsBuilder::new().security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    for (name, schema) in schemas {
        components = components.schema(name, schema);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Gridwork")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("A city's grid workforce: the event loop, the seven-level map, evidence, push.")),
        )
        .paths(paths)
        .components(Some(components.build()))
        .build()
}

pub async fn document() -> HttpResponse {
    static DOC: OnceLock<String> = OnceLock::new();
    let body = DOC.get_or_init(|| build().to_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")));
    HttpResponse::Ok().content_type("application/json").body(body.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lists_every_route_the_server_registers_with_its_body_schemas() {
        let doc = serde_json::to_value(build()).unwrap_or_default();
        assert_eq!(doc["openapi"], "3.1.0");
        for (m, path) in super::super::route_table() {
            let op = &doc["paths"][path][m.as_str().to_ascii_lowercase()];
            assert!(op.is_object(), "{m} {path} is missing from the document");
            assert!(op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].is_string(), "{m} {path}");
            if let Some(name) = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str() {
                let name = name.trim_start_matches("#/components/schemas/");
                assert!(doc["components"]["schemas"][name].is_object(), "{m} {path}: no schema {name}");
            }
        }
        assert!(doc["paths"]["/api/v1/events/{id}/actions"]["post"]["requestBody"].is_object());
    }
}
