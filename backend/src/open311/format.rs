//! The two formats of GeoReport v2 — JSON and XML, chosen by the path's extension — and the
//! standard's error shape (`[{"code": 400, "description": "…"}]`, `<errors><error>…`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// Splits `name.json` / `name.xml` into the name and its format.
    pub fn split(file: &str) -> Result<(&str, Format), Open311Error> {
        let (name, ext) =
            file.rsplit_once('.').ok_or_else(|| Open311Error::not_found(Format::Json, "add .json or .xml"))?;
        Ok((name, Self::of(ext)?))
    }

    pub fn of(ext: &str) -> Result<Format, Open311Error> {
        match ext {
            "json" => Ok(Format::Json),
            "xml" => Ok(Format::Xml),
            _ => Err(Open311Error::not_found(Format::Json, format!("no format {ext:?}: use json or xml"))),
        }
    }
}

/// An answer in the chosen format: JSON as it is; in XML under `root`, the top array's items
/// under `item`, nested arrays' items under the singular of their key.
pub fn respond(status: StatusCode, format: Format, root: &str, item: &str, value: &Value) -> HttpResponse {
    match format {
        Format::Json => HttpResponse::build(status).content_type("application/json").json(value),
        Format::Xml => {
            let mut out = String::from(r#"<?xml version="1.0" encoding="utf-8"?>"#);
            match value {
                Value::Array(items) => {
                    open(&mut out, root);
                    for v in items {
                        element(&mut out, item, v);
                    }
                    close(&mut out, root);
                }
                other => element(&mut out, root, other),
            }
            HttpResponse::build(status).content_type("text/xml; charset=utf-8").body(out)
        }
    }
}

fn open(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// The element name of one item of the array under `key`.
fn singular(key: &str) -> &str {
    match key {
        "services" => "service",
        "attributes" => "attribute",
        "values" => "value",
        "endpoints" => "endpoint",
        "formats" => "format",
        "errors" => "error",
        other => other.strip_suffix('s').unwrap_or(other),
    }
}

fn element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        Value::Object(map) => {
            open(out, name);
            for (k, v) in map {
                element(out, k, v);
            }
            close(out, name);
        }
        Value::Array(items) => {
            open(out, name);
            for v in items {
                element(out, singular(name), v);
            }
            close(out, name);
        }
        Value::String(s) => {
            open(out, name);
            escape(out, s);
            close(out, name);
        }
        Value::Bool(b) => {
            open(out, name);
            out.push_str(if *b { "true" } else { "false" });
            close(out, name);
        }
        Value::Number(n) => {
            open(out, name);
            out.push_str(&n.to_string());
            close(out, name);
        }
    }
}

fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

/// An error in the standard's shape, in the request's format.
#[derive(Debug, Clone)]
pub struct Open311Error {
    pub status: StatusCode,
    pub format: Format,
    pub description: String,
}

impl Open311Error {
    fn new(status: StatusCode, format: Format, description: impl Into<String>) -> Self {
        Self { status, format, description: description.into() }
    }

    /// A bad or missing parameter: the description starts with the parameter's name.
    pub fn bad(format: Format, field: &str, why: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::BAD_REQUEST, format, format!("{field}: {why}"))
    }

    pub fn forbidden(format: Format, why: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, format, why)
    }

    pub fn not_found(format: Format, why: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, format, why)
    }

    /// Gridwork's own refusals (an internal or database error among them) in the door's shape.
    pub fn from_api(format: Format, e: &crate::error::ApiError) -> Self {
        let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let fields: Vec<String> = e.fields.iter().map(|(f, v)| format!("{f}: {}", v.message)).collect();
        let description = if fields.is_empty() { e.message.clone() } else { fields.join("; ") };
        if status.is_server_error() {
            tracing::error!(error = %e.message, "open311 request failed");
        }
        Self::new(status, format, description)
    }
}

impl std::fmt::Display for Open311Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.description)
    }
}

impl ResponseError for Open311Error {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let body = serde_json::json!([{"code": self.status.as_u16(), "description": self.description}]);
        respond(self.status, self.format, "errors", "error", &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn xml(value: &Value, root: &str, item: &str) -> String {
        let res = respond(StatusCode::OK, Format::Xml, root, item, value);
        let body = actix_web::body::to_bytes(res.into_body());
        String::from_utf8(futures_lite_block(body).unwrap().to_vec()).unwrap()
    }

    fn futures_lite_block<F: std::future::Future>(f: F) -> F::Output {
        actix_web::rt::System::new().block_on(f)
    }

    // serde_json keeps an object's keys sorted: elements come in that order.
    #[test]
    fn xml_follows_the_standards_shapes_and_escapes() {
        let v = json!([{"service_code": "C-03-01", "metadata": true, "group": "<a&b>", "x": null}]);
        assert_eq!(
            xml(&v, "services", "service"),
            r#"<?xml version="1.0" encoding="utf-8"?><services><service><group>&lt;a&amp;b&gt;</group><metadata>true</metadata><service_code>C-03-01</service_code><x/></service></services>"#
        );
        let d = json!({"service_code": "A", "attributes": [{"code": "grade", "values": [{"key": "k", "name": "n"}]}]});
        assert_eq!(
            xml(&d, "service_definition", ""),
            r#"<?xml version="1.0" encoding="utf-8"?><service_definition><attributes><attribute><code>grade</code><values><value><key>k</key><name>n</name></value></values></attribute></attributes><service_code>A</service_code></service_definition>"#
        );
    }
}
