//! The API's OpenAPI 3.1 description, served at `/openapi.json`.
//!
//! Every route of [`super::routes()`] brings its own description (utoipa, from the
//! handler's attribute and the typed bodies of [`super::api`]). Two parts are written
//! here by hand and checked against the real thing by the tests below: the fault body
//! (its type lives in the network crate) and `/metrics` (plain text).

use super::api::ErrorBody;
use serde_json::{json, Value};
use std::borrow::Cow;
use std::sync::OnceLock;
use utoipa::openapi::{RefOr, Schema};
use utoipa::OpenApi;

/// Every fault kind: its name, what it does, and an example body. The dashboard's fault
/// buttons and `ctl fault`'s hints come from these, through the document.
pub const FAULTS: &[(&str, &str, &str)] = &[
    (
        "network-lost",
        "The mobile network goes away: +CIPEVENT: NETWORK CLOSED UNEXPECTEDLY; every connection is cut; AT+NETOPEN fails for for_ms",
        r#"{"kind":"network-lost","for_ms":10000}"#,
    ),
    (
        "peer-close",
        "The peer of a link (every open link without link) closes it: +IPCLOSE: <n>,1",
        r#"{"kind":"peer-close","link":0}"#,
    ),
    (
        "refuse-open",
        "The next TCP open is refused: +CIPOPEN: <n>,1",
        r#"{"kind":"refuse-open"}"#,
    ),
    (
        "timeout-open",
        "The next TCP open is never answered",
        r#"{"kind":"timeout-open"}"#,
    ),
    (
        "dns-failure",
        "The next name lookup fails",
        r#"{"kind":"dns-failure"}"#,
    ),
    (
        "stall",
        "The peer of a link (every open link without link) stops reading and acknowledging",
        r#"{"kind":"stall","link":0}"#,
    ),
    (
        "radio",
        "Signal (rssi 0-31 or 99), registration (reg_status 0-5) and time zone (tz, quarter hours) change",
        r#"{"kind":"radio","rssi":5,"reg_status":2}"#,
    ),
    (
        "power-on",
        "Power comes back after AT+CPOF: the boot lines",
        r#"{"kind":"power-on"}"#,
    ),
    (
        "dtr",
        "The host's DTR line goes ON or OFF",
        r#"{"kind":"dtr","on":false}"#,
    ),
];

/// The JSON Schema of each field a fault may have.
fn field(name: &str) -> Option<Value> {
    Some(match name {
        "for_ms" => {
            json!({"type": "integer", "minimum": 0, "description": "How long attaching again fails, in milliseconds"})
        }
        "link" => {
            json!({"type": "integer", "minimum": 0, "maximum": 9, "description": "The link; every open link if left out"})
        }
        "rssi" => {
            json!({"type": "integer", "minimum": 0, "maximum": 99, "description": "Signal 0-31, or 99 for unknown"})
        }
        "reg_status" => {
            json!({"type": "integer", "minimum": 0, "maximum": 5, "description": "Registration status"})
        }
        "tz" => {
            json!({"type": "integer", "minimum": -96, "maximum": 96, "description": "Network time zone in quarter hours"})
        }
        "on" => json!({"type": "boolean", "description": "ON (true) or OFF"}),
        _ => return None,
    })
}

/// The fields of each kind beyond `kind`, and which of them are required.
fn fields(kind: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        "network-lost" => (&["for_ms"], &[]),
        "peer-close" | "stall" => (&["link"], &[]),
        "radio" => (&["rssi", "reg_status", "tz"], &[]),
        "dtr" => (&["on"], &["on"]),
        _ => (&[], &[]),
    }
}

/// The fault body's schema, as JSON: one object per kind.
pub fn fault_schema_json() -> Value {
    let variants: Vec<Value> = FAULTS
        .iter()
        .map(|(kind, what, example)| {
            let (names, required) = fields(kind);
            let mut properties = serde_json::Map::new();
            properties.insert("kind".into(), json!({"type": "string", "enum": [kind]}));
            for name in names {
                if let Some(schema) = field(name) {
                    properties.insert((*name).into(), schema);
                }
            }
            let mut required: Vec<&str> = required.to_vec();
            required.insert(0, "kind");
            let example: Value = serde_json::from_str(example).unwrap_or(Value::Null);
            json!({
                "type": "object",
                "title": kind,
                "description": what,
                "properties": properties,
                "required": required,
                "additionalProperties": false,
                "examples": [example],
            })
        })
        .collect();
    json!({
        "oneOf": variants,
        "description": "One fault: the same fields as a [[fault]] table of the config file, without at_ms",
    })
}

/// The fault body, described by hand (its type, `at7600_net::Fault`, is the network
/// crate's); the tests check every kind and example against that type.
pub struct FaultSchema;

impl utoipa::PartialSchema for FaultSchema {
    fn schema() -> RefOr<Schema> {
        // A constant document: the tests prove it reads back whole.
        serde_json::from_value(fault_schema_json()).unwrap_or_else(|_| RefOr::T(Schema::default()))
    }
}

impl utoipa::ToSchema for FaultSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Fault")
    }
}

/// Prometheus text format, or OpenMetrics when the `Accept` header asks for it (see
/// `docs/metrics.md`). Routed apart from the typed routes; described here.
#[utoipa::path(get, path = "/metrics", tag = "metrics",
    responses((status = 200, description = "Prometheus text format (OpenMetrics on request)", content_type = "text/plain", body = String)))]
#[allow(dead_code)]
fn metrics_description() {}

/// What the document holds besides the routes' own descriptions.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "at7600 control API",
        description = "List, watch and break the modems of an at7600 daemon. With a token, every endpoint but the dashboard page wants `Authorization: Bearer TOKEN`. Every 4xx and 5xx answer is an ErrorBody."
    ),
    paths(metrics_description),
    components(schemas(ErrorBody, FaultSchema))
)]
struct Base;

/// The document before the routes add themselves.
pub fn base() -> utoipa::openapi::OpenApi {
    let mut doc = Base::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

/// The whole document, built once from [`super::routes()`].
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, doc) = super::routes().split_for_parts();
        doc.to_json().unwrap_or_else(|e| {
            json!({"error": {"code": "internal", "message": e.to_string()}}).to_string()
        })
    })
}

/// This description.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 description of this API", content_type = "application/json")))]
pub async fn serve_document() -> impl axum::response::IntoResponse {
    ([("content-type", "application/json")], document())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        serde_json::from_str(document()).expect("the document is JSON")
    }

    /// The fault kinds the real type takes, from its own error for an unknown one
    /// ("unknown variant `x`, expected one of `a`, `b`").
    fn real_kinds() -> Vec<String> {
        let err = serde_json::from_str::<at7600_net::Fault>(r#"{"kind":"no-such-kind"}"#)
            .expect_err("not a fault")
            .to_string();
        let list = err.split("expected one of").nth(1).expect("the variants");
        list.split(',')
            .map(|k| k.trim().trim_matches('`').to_string())
            .filter(|k| !k.is_empty())
            .map(|k| k.split('`').next().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn every_fault_kind_is_described_and_every_example_is_a_fault() {
        let described: Vec<String> = FAULTS.iter().map(|(k, _, _)| k.to_string()).collect();
        assert_eq!(described, real_kinds());
        let doc = doc();
        let variants = doc["components"]["schemas"]["Fault"]["oneOf"]
            .as_array()
            .expect("one schema per kind");
        assert_eq!(variants.len(), FAULTS.len());
        for v in variants {
            for example in v["examples"].as_array().expect("examples") {
                let fault: Result<at7600_net::Fault, _> = serde_json::from_value(example.clone());
                assert!(fault.is_ok(), "{example} is not a fault: {fault:?}");
            }
            // A field is described exactly when the real type takes it for this kind.
            let kind = v["title"].as_str().expect("title");
            for name in ["for_ms", "link", "rssi", "reg_status", "tz", "on"] {
                let mut body = v["examples"][0].clone();
                body[name] = if name == "on" { json!(true) } else { json!(1) };
                let taken = serde_json::from_value::<at7600_net::Fault>(body).is_ok();
                let described = v["properties"].get(name).is_some();
                // serde lets a kind without fields ignore extra ones; the document
                // still asks for none.
                let unit = fields(kind).0.is_empty();
                assert!(taken == described || unit && taken, "{kind}.{name}");
            }
        }
    }

    #[test]
    fn the_fault_schema_reads_back_whole() {
        let RefOr::T(schema) = <FaultSchema as utoipa::PartialSchema>::schema() else {
            panic!("an inline schema");
        };
        assert_eq!(
            serde_json::to_value(&schema).expect("serializes"),
            fault_schema_json()
        );
    }

    #[test]
    fn every_example_in_the_document_deserializes_as_its_type() {
        use super::super::api;
        fn is<T: serde::de::DeserializeOwned>(v: &Value) -> bool {
            serde_json::from_value::<T>(v.clone()).is_ok()
        }
        let doc = doc();
        let mut checked = 0;
        for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
            let check: fn(&Value) -> bool = match name.as_str() {
                "Modem" => is::<api::Modem>,
                "TapLine" => is::<api::TapLine>,
                "Dtr" => is::<api::Dtr>,
                "Done" => is::<api::Done>,
                "Health" => is::<api::Health>,
                "ErrorBody" => is::<ErrorBody>,
                "Fault" => continue, // one example per kind: checked above
                _ => {
                    assert!(
                        schema.get("examples").is_none(),
                        "{name}: examples not checked"
                    );
                    continue;
                }
            };
            let examples = schema["examples"].as_array().expect("examples");
            assert!(!examples.is_empty(), "{name}");
            for e in examples {
                assert!(check(e), "{name} example {e}");
                checked += 1;
            }
        }
        assert!(checked >= 5, "{checked} examples");
    }

    /// Every path in the document is served with its methods (not the router's "no
    /// endpoint" or "no method"), and the router has no route the document lacks: the
    /// typed routes describe themselves, and the only others are listed here.
    #[tokio::test]
    async fn every_route_is_in_the_document_and_every_documented_route_is_served() {
        let doc = doc();
        let paths = doc["paths"].as_object().expect("paths");
        let mut documented = Vec::new();
        for (path, item) in paths {
            for method in item.as_object().expect("methods").keys() {
                documented.push((method.to_uppercase(), path.clone()));
            }
        }
        for route in [
            "/",
            "/dashboard.js",
            "/dashboard.css",
            "/metrics",
            "/openapi.json",
        ] {
            assert!(
                documented.iter().any(|(m, p)| m == "GET" && p == route),
                "GET {route} is not in the document"
            );
        }
        let registry = std::sync::Arc::new(super::super::Registry::default());
        let app = hyper_util::service::TowerToHyperService::new(super::super::router(registry));
        for (method, path) in &documented {
            let uri = path.replace("{id}", "1");
            let req = axum::http::Request::builder()
                .method(method.as_str())
                .uri(&uri)
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{}"))
                .expect("a request");
            let answer = hyper::service::Service::call(&app, req)
                .await
                .expect("an answer");
            let status = answer.status();
            if answer.headers()["content-type"] == "text/event-stream" {
                continue; // a stream: served, and endless
            }
            let body = axum::body::to_bytes(answer.into_body(), 1 << 20)
                .await
                .unwrap_or_default();
            let body = String::from_utf8_lossy(&body);
            assert!(
                !body.contains("no endpoint") && !body.contains("does not take"),
                "{method} {path}: {status} {body}"
            );
        }
    }
}
