//! Holds REST exchanges with the cloud against the published Yandex Cloud API: the fixture
//! `tests/fixtures/yandex_api/rest.json` (extracted from the `yandexcloud` wheel's protobuf
//! descriptors by `scripts/yandex_api_fixture.py`) lists every method's verb and path
//! template and every message's JSON field names. A request whose verb and path the real
//! API lacks, or a field name (request body, query, answer, operation metadata/response) that
//! is not in its message, or an enum value that is not in its enum, is a problem. Used by the
//! tests of the emulator and of the provider, so that neither can drift from the real API.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One method of the published API.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiMethod {
    pub service: String,
    pub method: String,
    pub verb: String,
    /// The path template, e.g. `/vpc/v1/networks/{network_id}`.
    pub path: String,
    /// `*` (the whole request), a field name, or empty (no body: query parameters).
    pub body: String,
    pub request: String,
    pub response: String,
    /// The `@type`s of an operation's metadata and response, for methods that start one.
    pub metadata: Option<String>,
    pub result: Option<String>,
    /// Whether the fixture spells out its messages.
    pub detailed: bool,
}

/// The published API: methods, messages (JSON field name → type) and enums.
#[derive(Debug, Clone, Default)]
pub struct PublishedApi {
    pub source: String,
    pub methods: Vec<ApiMethod>,
    pub messages: BTreeMap<String, BTreeMap<String, String>>,
    pub enums: BTreeMap<String, Vec<String>>,
}

/// One request the cloud answered, as recorded by [`crate::CloudHandle::record`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Exchange {
    /// The `Host` the request named (a service's host, or the sandbox's address).
    pub host: Option<String>,
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    /// The JSON body (None when empty or not JSON).
    pub request: Option<Value>,
    pub status: u16,
    pub response: Value,
}

/// Keys whose values are secrets (tokens, passwords, private keys, JWTs).
const SECRET_KEYS: &[&str] = &[
    "password",
    "privateKey",
    "iamToken",
    "yandexPassportOauthToken",
    "jwt",
];

impl Exchange {
    /// The exchange with every secret value replaced (field names and types kept, so it can
    /// still be checked), for writing it out.
    pub fn redacted(&self) -> Exchange {
        fn walk(v: &mut Value) {
            match v {
                Value::Object(o) => {
                    for (k, x) in o.iter_mut() {
                        if SECRET_KEYS.contains(&k.as_str()) && x.is_string() {
                            *x = Value::String("<redacted>".into());
                        } else {
                            walk(x);
                        }
                    }
                }
                Value::Array(a) => a.iter_mut().for_each(walk),
                _ => {}
            }
        }
        let mut out = self.clone();
        if let Some(r) = out.request.as_mut() {
            walk(r);
        }
        walk(&mut out.response);
        out
    }
}

impl std::fmt::Display for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} → {}", self.method, self.path, self.status)
    }
}

const ANY_PREFIX: &str = "type.googleapis.com/";

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl PublishedApi {
    /// Parses the fixture's JSON text.
    pub fn parse(fixture: &str) -> Result<PublishedApi, String> {
        let v: Value =
            serde_json::from_str(fixture).map_err(|e| format!("the API fixture: {e}"))?;
        let methods = v
            .get("methods")
            .and_then(Value::as_array)
            .ok_or("the API fixture has no methods")?
            .iter()
            .map(|m| ApiMethod {
                service: text(m, "service"),
                method: text(m, "method"),
                verb: text(m, "verb"),
                path: text(m, "path"),
                body: text(m, "body"),
                request: text(m, "request"),
                response: text(m, "response"),
                metadata: m.get("metadata").and_then(Value::as_str).map(String::from),
                result: m.get("result").and_then(Value::as_str).map(String::from),
                detailed: m.get("detailed").and_then(Value::as_bool) == Some(true),
            })
            .collect();
        let messages = v
            .get("messages")
            .and_then(Value::as_object)
            .ok_or("the API fixture has no messages")?
            .iter()
            .map(|(name, fields)| {
                let fields = fields
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, t)| (k.clone(), t.as_str().unwrap_or("any").to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                (name.clone(), fields)
            })
            .collect();
        let enums = v
            .get("enums")
            .and_then(Value::as_object)
            .ok_or("the API fixture has no enums")?
            .iter()
            .map(|(name, vals)| {
                let vals = vals
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default();
                (name.clone(), vals)
            })
            .collect();
        Ok(PublishedApi {
            source: text(&v, "source"),
            methods,
            messages,
            enums,
        })
    }

    /// The method answering `verb path` (path without the query), if the real API has one.
    pub fn find(&self, verb: &str, path: &str) -> Option<&ApiMethod> {
        self.methods
            .iter()
            .find(|m| m.verb == verb && template_matches(&m.path, path))
    }

    /// Everything wrong with one exchange of a client (empty: the real API could carry
    /// it): its request must be one the real API has, whatever the answer.
    pub fn check(&self, ex: &Exchange) -> Vec<String> {
        self.check_with(ex, true)
    }

    /// Everything wrong with how a server answered: a request the real API lacks (path or
    /// fields) must be refused (404 for a path, a 4xx for fields); answers must conform.
    pub fn check_answer(&self, ex: &Exchange) -> Vec<String> {
        self.check_with(ex, false)
    }

    fn check_with(&self, ex: &Exchange, client: bool) -> Vec<String> {
        let mut problems = Vec::new();
        let Some(m) = self.find(&ex.method, &ex.path) else {
            if !client && ex.status == 404 {
                return problems;
            }
            return vec![format!(
                "{ex}: the published API has no {} {}",
                ex.method, ex.path
            )];
        };
        let at = format!("{ex} ({}.{})", m.service, m.method);
        if !m.detailed {
            return problems;
        }
        // The request: query parameters and body are fields of the request message.
        let mut asked = Vec::new();
        for key in ex.query.keys() {
            let field = key.split('.').next().unwrap_or(key);
            if !self.has_field(&m.request, field) {
                asked.push(format!(
                    "{at}: query parameter {key} is not a field of {}",
                    m.request
                ));
            }
        }
        if let Some(body) = &ex.request {
            match m.body.as_str() {
                "" => asked.push(format!("{at}: the method takes no body")),
                "*" => self.value(&m.request, body, &format!("{at}: request"), &mut asked),
                field => match self.field_type(&m.request, field) {
                    Some(t) => self.typed(&t, body, &format!("{at}: request"), &mut asked),
                    None => asked.push(format!("{at}: no body field {field}")),
                },
            }
        }
        let accepted = (200..300).contains(&ex.status);
        if client || accepted {
            problems.extend(asked);
        }
        // The answer.
        if (200..300).contains(&ex.status) {
            let at = format!("{at}: answer");
            if m.response == "yandex.cloud.operation.Operation" && m.service != OPERATIONS {
                self.operation(m, &ex.response, &at, &mut problems);
            } else {
                self.value(&m.response, &ex.response, &at, &mut problems);
            }
        } else {
            self.value(
                "google.rpc.Status",
                &ex.response,
                &format!("{at}: error"),
                &mut problems,
            );
        }
        problems
    }

    /// [`PublishedApi::check`] for every exchange; the problems, once each.
    pub fn check_all(&self, exchanges: &[Exchange]) -> Vec<String> {
        once_each(exchanges.iter().flat_map(|e| self.check(e)))
    }

    /// [`PublishedApi::check_answer`] for every exchange; the problems, once each.
    pub fn check_answers(&self, exchanges: &[Exchange]) -> Vec<String> {
        once_each(exchanges.iter().flat_map(|e| self.check_answer(e)))
    }

    /// Whether some message of the published API has the field path `segs` (`["master",
    /// "endpoints", "externalV4Endpoint"]`): what a client reading an answer may look for.
    pub fn resolves(&self, segs: &[&str]) -> bool {
        self.messages.keys().any(|m| self.resolves_from(m, segs, 0))
    }

    fn resolves_from(&self, message: &str, segs: &[&str], depth: usize) -> bool {
        let Some((first, rest)) = segs.split_first() else {
            return true;
        };
        let Some(t) = self.messages.get(message).and_then(|f| f.get(*first)) else {
            return false;
        };
        if rest.is_empty() {
            return true;
        }
        let inner = t.trim_start_matches("[]");
        let inner = inner
            .strip_prefix("map<")
            .and_then(|m| m.strip_suffix('>'))
            .and_then(|kv| kv.split_once(','))
            .map_or(inner, |(_, v)| v);
        match inner {
            "any" => true,
            _ if depth < 32 => self.resolves_from(inner, rest, depth + 1),
            _ => false,
        }
    }

    fn has_field(&self, message: &str, field: &str) -> bool {
        self.field_type(message, field).is_some()
    }

    /// The type of `field` (JSON name or, as the transcoder also accepts, the proto name).
    fn field_type(&self, message: &str, field: &str) -> Option<String> {
        let fields = self.messages.get(message)?;
        fields
            .get(field)
            .or_else(|| fields.get(&camel(field)))
            .cloned()
    }

    fn operation(&self, m: &ApiMethod, op: &Value, at: &str, problems: &mut Vec<String>) {
        self.value("yandex.cloud.operation.Operation", op, at, problems);
        for (key, want) in [("metadata", &m.metadata), ("response", &m.result)] {
            let Some(got) = op.get(key) else { continue };
            let ty = got.get("@type").and_then(Value::as_str).unwrap_or_default();
            match want {
                Some(w) if ty != format!("{ANY_PREFIX}{w}") => problems.push(format!(
                    "{at}: operation {key} is {ty}, the published API says {w}"
                )),
                None => problems.push(format!("{at}: the operation has no {key} type")),
                _ => {}
            }
        }
    }

    /// Checks a message value (an object whose keys are fields).
    fn value(&self, message: &str, v: &Value, at: &str, problems: &mut Vec<String>) {
        if let Some(t) = well_known(message) {
            return self.typed(t, v, at, problems);
        }
        let Some(fields) = self.messages.get(message) else {
            return problems.push(format!("{at}: message {message} is not in the fixture"));
        };
        let Some(obj) = v.as_object() else {
            if !v.is_null() {
                problems.push(format!("{at}: {message} must be an object, not {v}"));
            }
            return;
        };
        for (k, x) in obj {
            match fields.get(k) {
                Some(t) => self.typed(t, x, &format!("{at}.{k}"), problems),
                None => problems.push(format!("{at}: field {k} is not in {message}")),
            }
        }
    }

    /// Checks a value of a fixture type (`string`, `[]T`, `map<K,V>`, `enum:E`, a message).
    fn typed(&self, t: &str, v: &Value, at: &str, problems: &mut Vec<String>) {
        if v.is_null() {
            return;
        }
        if let Some(item) = t.strip_prefix("[]") {
            match v.as_array() {
                Some(a) => {
                    for (i, x) in a.iter().enumerate() {
                        self.typed(item, x, &format!("{at}[{i}]"), problems);
                    }
                }
                None => problems.push(format!("{at}: must be a list, not {v}")),
            }
            return;
        }
        if let Some(kv) = t.strip_prefix("map<").and_then(|s| s.strip_suffix('>')) {
            let value_type = kv.split_once(',').map(|(_, v)| v).unwrap_or("any");
            match v.as_object() {
                Some(o) => {
                    for (k, x) in o {
                        self.typed(value_type, x, &format!("{at}[{k}]"), problems);
                    }
                }
                None => problems.push(format!("{at}: must be a map, not {v}")),
            }
            return;
        }
        if let Some(e) = t.strip_prefix("enum:") {
            let ok = match v {
                Value::String(s) => self.enums.get(e).is_some_and(|vals| vals.contains(s)),
                Value::Number(_) => true,
                _ => false,
            };
            if !ok {
                problems.push(format!("{at}: {v} is not a value of {e}"));
            }
            return;
        }
        let ok = match t {
            "any" => true,
            "string" | "bytes" => v.is_string(),
            "bool" => v.is_boolean(),
            "double" | "float" => v.is_number() || v.is_string(),
            "int64" | "uint64" | "fixed64" | "sfixed64" | "sint64" | "int32" | "uint32"
            | "fixed32" | "sfixed32" | "sint32" => {
                v.is_i64()
                    || v.is_u64()
                    || v.as_str().is_some_and(|s| s.trim().parse::<i128>().is_ok())
            }
            "empty" => v.as_object().is_some_and(|o| o.is_empty()),
            "anyof" => return self.any(v, at, problems),
            message => return self.value(message, v, at, problems),
        };
        if !ok {
            problems.push(format!("{at}: {v} is not a {t}"));
        }
    }

    /// A `google.protobuf.Any`: `@type` plus the fields of that message.
    fn any(&self, v: &Value, at: &str, problems: &mut Vec<String>) {
        let Some(obj) = v.as_object() else {
            return problems.push(format!("{at}: an Any must be an object"));
        };
        let Some(ty) = obj
            .get("@type")
            .and_then(Value::as_str)
            .and_then(|t| t.strip_prefix(ANY_PREFIX))
        else {
            return problems.push(format!("{at}: an Any without @type"));
        };
        let mut rest = obj.clone();
        rest.remove("@type");
        if ty == "google.protobuf.Empty" {
            if !rest.is_empty() {
                problems.push(format!("{at}: Empty has fields"));
            }
            return;
        }
        if self.messages.contains_key(ty) {
            self.value(ty, &Value::Object(rest), at, problems);
        } else if !ty.starts_with("google.rpc.") {
            // google.rpc.* (RequestInfo, …) are the standard error details, not Yandex types.
            problems.push(format!("{at}: @type {ty} is not in the fixture"));
        }
    }
}

/// The problems in their first order, each once.
fn once_each(problems: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    problems.filter(|p| seen.insert(p.clone())).collect()
}

const OPERATIONS: &str = "yandex.cloud.operation.OperationService";

/// The JSON type of the messages proto3 maps to scalars.
fn well_known(message: &str) -> Option<&'static str> {
    Some(match message {
        "google.protobuf.Empty" => "empty",
        "google.protobuf.Any" => "anyof",
        "google.protobuf.Struct" | "google.protobuf.Value" => "any",
        _ => return None,
    })
}

/// `snake_case` → `lowerCamel` (the proto3 JSON name).
fn camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut up = false;
    for c in s.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether a concrete path fits a template: `{var}` stands for one segment, a `:verb`
/// suffix must be the same on both.
pub fn template_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter().zip(&p).all(|(ts, ps)| {
            let (tb, tv) = split_verb(ts);
            let (pb, pv) = split_verb(ps);
            tv == pv && (tb == pb || (tb.starts_with('{') && tb.ends_with('}') && !pb.is_empty()))
        })
}

fn split_verb(seg: &str) -> (&str, Option<&str>) {
    match seg.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (seg, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert!(template_matches(
            "/vpc/v1/networks/{network_id}",
            "/vpc/v1/networks/enp1"
        ));
        assert!(!template_matches(
            "/vpc/v1/networks/{network_id}",
            "/vpc/v1/networks/enp1:move"
        ));
        assert!(template_matches(
            "/operations/{operation_id}:cancel",
            "/operations/op1:cancel"
        ));
        assert!(template_matches(
            "/managed-postgresql/v1/clusters/{cluster_id}/hosts:batchCreate",
            "/managed-postgresql/v1/clusters/c1/hosts:batchCreate"
        ));
        assert!(!template_matches(
            "/managed-postgresql/v1/clusters/{cluster_id}/hosts",
            "/managed-postgresql/v1/clusters/c1/hosts:batchCreate"
        ));
        assert!(!template_matches("/operations/{id}", "/operations/"));
        assert_eq!(camel("folder_id"), "folderId");
        let mut api = PublishedApi::default();
        api.messages.insert(
            "a.Cluster".into(),
            BTreeMap::from([("master".to_string(), "a.Master".to_string())]),
        );
        api.messages.insert(
            "a.Master".into(),
            BTreeMap::from([("version".to_string(), "string".to_string())]),
        );
        assert!(api.resolves(&["master", "version"]));
        assert!(api.resolves(&["version"]));
        assert!(!api.resolves(&["master", "versions"]));
        assert!(!api.resolves(&["version", "master"]));
        let ex = Exchange {
            host: None,
            method: "POST".into(),
            path: "/iam/v1/tokens".into(),
            query: BTreeMap::new(),
            request: Some(serde_json::json!({"yandexPassportOauthToken": "AQAAsecret"})),
            status: 200,
            response: serde_json::json!({"iamToken": "t1.secret", "users": [{"password": "pw"}]}),
        };
        let shown = serde_json::to_string(&ex.redacted()).unwrap();
        assert!(
            !shown.contains("secret") && !shown.contains("\"pw\""),
            "{shown}"
        );
    }
}
