//! Static checks of one `kubernetes_object` manifest: `apiVersion`, `kind`, `metadata.name`
//! and `metadata.namespace` present and well-formed, namespace required or forbidden by the
//! kind's scope, label keys and values, annotation values. Unknown values are not checked.

use crate::kinds::{self, NameRule, Scope};
use crate::names;
use mlstack_provider_api::{PathStep, ValidationIssue, Value};

fn path(steps: &[&str]) -> Vec<PathStep> {
    std::iter::once("manifest")
        .chain(steps.iter().copied())
        .map(|s| PathStep::Key(s.to_string()))
        .collect()
}

fn issue(steps: &[&str], message: String, hint: Option<&str>) -> ValidationIssue {
    ValidationIssue {
        path: path(steps),
        message,
        hint: hint.map(str::to_string),
    }
}

/// A string field: `Ok(None)` when absent or unknown, `Err` when present but not a string.
fn string_at<'v>(v: &'v Value, steps: &[&str], out: &mut Vec<ValidationIssue>) -> Option<&'v str> {
    let mut cur = v;
    for s in steps {
        cur = cur.get(s)?;
    }
    match cur.unmarked() {
        Value::String(s) => Some(s),
        Value::Unknown | Value::Null => None,
        other => {
            out.push(issue(
                steps,
                format!(
                    "`{}` must be a string, found {}",
                    steps.join("."),
                    other.type_name()
                ),
                None,
            ));
            None
        }
    }
}

fn required(v: &Value, steps: &[&str], hint: &str, out: &mut Vec<ValidationIssue>) -> bool {
    let mut cur = Some(v);
    for s in steps {
        cur = cur.and_then(|c| c.get(s));
    }
    let present = cur.is_some_and(|c| !matches!(c.unmarked(), Value::Null));
    if !present {
        out.push(issue(
            &steps[..steps.len().saturating_sub(1)],
            format!("the manifest has no `{}`", steps.join(".")),
            Some(hint),
        ));
    }
    present
}

/// Every problem of a `kubernetes_object`'s properties.
pub fn object(properties: &Value) -> Vec<ValidationIssue> {
    let mut out = Vec::new();
    let Some(m) = properties.get("manifest") else {
        return out;
    };
    match m.unmarked() {
        Value::Unknown => return out,
        Value::Map(_) => {}
        other => {
            out.push(issue(
                &[],
                format!(
                    "the manifest must be a mapping, found {}",
                    other.type_name()
                ),
                None,
            ));
            return out;
        }
    }
    if required(
        m,
        &["apiVersion"],
        "for example `apiVersion: apps/v1`",
        &mut out,
    ) {
        if let Some(a) = string_at(m, &["apiVersion"], &mut out) {
            if !names::is_api_version(a) {
                out.push(issue(
                    &["apiVersion"],
                    format!("`{a}` is not an apiVersion"),
                    Some("write `v1` for the core group or `GROUP/VERSION`, e.g. `apps/v1`"),
                ));
            }
        }
    }
    let mut kind = None;
    if required(m, &["kind"], "for example `kind: Deployment`", &mut out) {
        kind = string_at(m, &["kind"], &mut out);
        if let Some(k) = kind.filter(|k| !names::is_kind(k)) {
            out.push(issue(
                &["kind"],
                format!("`{k}` is not a kind"),
                Some("kinds are CamelCase, e.g. `Deployment`, `ConfigMap`"),
            ));
        }
    }
    if !required(m, &["metadata"], "add `metadata: {name: ...}`", &mut out) {
        return out;
    }
    if required(
        m,
        &["metadata", "name"],
        "every object needs a name",
        &mut out,
    ) {
        if let Some(n) = string_at(m, &["metadata", "name"], &mut out) {
            let rule = kind.map_or(NameRule::Subdomain, kinds::name_rule);
            let (ok, what) = match rule {
                NameRule::Label => (names::is_dns_label(n), "an RFC 1123 label: lowercase letters, digits and `-`, starting and ending with a letter or digit, at most 63 characters"),
                NameRule::Subdomain => (names::is_dns_subdomain(n), "an RFC 1123 subdomain: lowercase letters, digits, `-` and `.`, at most 253 characters"),
                NameRule::PathSegment => (names::is_path_segment(n), "a name without `/` or `%`, and not `.` or `..`"),
            };
            if !ok {
                out.push(issue(
                    &["metadata", "name"],
                    format!("invalid name `{n}`"),
                    Some(&format!(
                        "the name of a {} must be {what}",
                        kind.unwrap_or("object")
                    )),
                ));
            }
        }
    }
    let ns = string_at(m, &["metadata", "namespace"], &mut out);
    let ns_given = m
        .get("metadata")
        .and_then(|md| md.get("namespace"))
        .is_some_and(|v| !matches!(v.unmarked(), Value::Null));
    if let Some(n) = ns.filter(|n| !names::is_dns_label(n)) {
        out.push(issue(
            &["metadata", "namespace"],
            format!("invalid namespace `{n}`"),
            Some("a namespace is an RFC 1123 label: lowercase letters, digits and `-`, at most 63 characters"),
        ));
    }
    if let Some(k) = kind {
        match kinds::scope(k) {
            Scope::Cluster if ns_given => out.push(issue(
                &["metadata", "namespace"],
                format!("a {k} is cluster-scoped and takes no namespace"),
                Some("remove `metadata.namespace`"),
            )),
            Scope::Namespaced if !ns_given => out.push(issue(
                &["metadata"],
                format!("a {k} lives in a namespace: `metadata.namespace` is required"),
                Some("add `namespace: NAME` under `metadata:` (mlstack does not guess a default namespace)"),
            )),
            _ => {}
        }
    }
    if let Some(labels) = m.get("metadata").and_then(|md| md.get("labels")) {
        if let Some(map) = labels.as_map() {
            for (key, v) in map {
                if !names::is_label_key(key) {
                    out.push(issue(
                        &["metadata", "labels", key],
                        format!("invalid label key `{key}`"),
                        Some("a label key is `[prefix/]name`: the prefix a DNS subdomain, the name at most 63 characters of letters, digits, `-`, `_`, `.`"),
                    ));
                }
                match v.unmarked() {
                    Value::String(s) if !names::is_label_value(s) => out.push(issue(
                        &["metadata", "labels", key],
                        format!("invalid value `{s}` of label `{key}`"),
                        Some("a label value is empty or at most 63 characters of letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit"),
                    )),
                    Value::String(_) | Value::Unknown => {}
                    other => out.push(issue(
                        &["metadata", "labels", key],
                        format!("label `{key}` must be a string, found {}", other.type_name()),
                        Some("quote it: \"...\""),
                    )),
                }
            }
        }
    }
    if let Some(map) = m
        .get("metadata")
        .and_then(|md| md.get("annotations"))
        .and_then(Value::as_map)
    {
        for (key, v) in map {
            if !matches!(v.unmarked(), Value::String(_) | Value::Unknown) {
                out.push(issue(
                    &["metadata", "annotations", key],
                    format!(
                        "annotation `{key}` must be a string, found {}",
                        v.type_name()
                    ),
                    Some("quote it: \"...\""),
                ));
            }
        }
    }
    out
}
