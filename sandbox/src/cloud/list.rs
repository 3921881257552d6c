//! List: by folder (or the type's list parameter) or under a parent, `filter` on the name
//! (`name="x"`, `!=`, `IN (…)`, `NOT IN …`), and paging with `pageSize`/`pageToken`.

use super::crud::{find, spec_of};
use super::errors::CloudError;
use super::state::{Record, State};
use super::types::TypeSpec;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A name filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    negate: bool,
    names: Vec<String>,
}

impl Filter {
    /// Parses the `filter` parameter; only `name` is filterable.
    pub fn parse(text: &str) -> Result<Filter, CloudError> {
        let bad = || {
            CloudError::invalid(format!("invalid filter {text:?}: only name=\"…\", name!=\"…\", name IN (…) and name NOT IN (…) are supported"))
        };
        let rest = text
            .trim()
            .strip_prefix("name")
            .ok_or_else(bad)?
            .trim_start();
        let upper = rest.to_ascii_uppercase();
        let (negate, list, value) = if let Some(v) = rest.strip_prefix("!=") {
            (true, false, v)
        } else if let Some(v) = rest.strip_prefix('=') {
            (false, false, v)
        } else if upper.starts_with("NOT IN") {
            (true, true, &rest[6..])
        } else if upper.starts_with("IN") {
            (false, true, &rest[2..])
        } else {
            return Err(bad());
        };
        let value = value.trim();
        let names = if list {
            let inner = value
                .strip_prefix('(')
                .and_then(|v| v.strip_suffix(')'))
                .unwrap_or(value);
            let mut names = Vec::new();
            for part in split_quoted(inner).ok_or_else(bad)? {
                names.extend(part.split(',').map(|s| s.trim().to_string()));
            }
            names
        } else {
            vec![unquote(value).ok_or_else(bad)?.to_string()]
        };
        Ok(Filter { negate, names })
    }

    pub fn matches(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name) != self.negate
    }
}

fn unquote(v: &str) -> Option<&str> {
    let v = v.trim();
    let q = v.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    v.strip_prefix(q)?.strip_suffix(q)
}

/// `"a", 'b'` → [a, b]; `'a,b'` → [a,b] (split later).
fn split_quoted(v: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for part in v.split(['"', '\'']).collect::<Vec<_>>().chunks(2) {
        if let Some(quoted) = part.get(1) {
            out.push(quoted.to_string());
        }
        if !part[0].trim().trim_matches(',').trim().is_empty() {
            return None;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Which records a list covers.
pub enum Scope<'a> {
    /// The type's own list parameter (`folderId`, `serviceAccountId`) from the query.
    Query,
    /// The children of one parent (`…/clusters/{id}/topics`, `…/networks/{id}/subnets`).
    Parent(&'a str),
}

/// A list answer `{"<plural>": […], "nextPageToken": "…"}`.
pub fn list(
    st: &State,
    spec: &TypeSpec,
    scope: Scope,
    query: &BTreeMap<String, String>,
) -> Result<Value, CloudError> {
    let keep: Box<dyn Fn(&Record) -> bool> = match scope {
        Scope::Parent(p) => {
            if let Some(parent) = spec.parent {
                find(st, spec_of(parent.kind)?, p)?;
            }
            let p = p.to_string();
            Box::new(move |r: &Record| r.parent.as_deref() == Some(p.as_str()))
        }
        Scope::Query => {
            let param = spec.list_by.unwrap_or("folderId");
            let value = query
                .get(param)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| CloudError::invalid(format!("{param} is required")))?
                .clone();
            let by_parent = spec.parent.is_some_and(|p| p.field == param);
            Box::new(move |r: &Record| {
                if by_parent {
                    r.parent.as_deref() == Some(value.as_str())
                } else {
                    r.folder == value
                }
            })
        }
    };
    let filter = match query.get("filter").filter(|f| !f.trim().is_empty()) {
        Some(f) => Some(Filter::parse(f)?),
        None => None,
    };
    let size = match query.get("pageSize").map(|s| s.parse::<usize>()) {
        None | Some(Ok(0)) => 100,
        Some(Ok(n)) if n <= 1000 => n,
        _ => return Err(CloudError::invalid("pageSize must be between 0 and 1000")),
    };
    let after = match query.get("pageToken").filter(|t| !t.is_empty()) {
        Some(t) => t
            .parse::<u64>()
            .map_err(|_| CloudError::invalid(format!("invalid pageToken {t:?}")))?,
        None => 0,
    };
    let matching: Vec<&Record> = st
        .of_kind(spec.kind)
        .into_iter()
        .filter(|r| keep(r))
        .filter(|r| {
            filter.as_ref().is_none_or(|f| {
                f.matches(r.resource.get("name").and_then(Value::as_str).unwrap_or(""))
            })
        })
        .filter(|r| r.seq > after)
        .collect();
    let (page, more) = if spec.paged && matching.len() > size {
        (&matching[..size], true)
    } else {
        (&matching[..], false)
    };
    let mut out =
        json!({ spec.plural: page.iter().map(|r| r.resource.clone()).collect::<Vec<_>>() });
    if let (true, Some(last)) = (more, page.last()) {
        out["nextPageToken"] = json!(last.seq.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::Filter;

    #[test]
    fn filters() {
        let f = Filter::parse("name=\"net-1\"").unwrap();
        assert!(f.matches("net-1") && !f.matches("net-2"));
        let f = Filter::parse("name != 'a'").unwrap();
        assert!(!f.matches("a") && f.matches("b"));
        let f = Filter::parse("name IN (\"a\", \"b\")").unwrap();
        assert!(f.matches("b") && !f.matches("c"));
        let f = Filter::parse("name NOT IN 'test,beta'").unwrap();
        assert!(!f.matches("beta") && f.matches("prod"));
        assert!(Filter::parse("folderId=\"x\"").is_err());
        assert!(Filter::parse("name=x").is_err());
    }
}
