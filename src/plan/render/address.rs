//! Splits a resource address into the parts Terraform's plan JSON and block headers name:
//! `module.monitoring.object["apps/v1/Deployment/monitoring/prometheus"]` →
//! module `module.monitoring`, name `object`, index `"apps/v1/Deployment/monitoring/prometheus"`.

/// The parts of one address.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AddressParts {
    /// `module.a.module.b`, when inside a module.
    pub module: Option<String>,
    /// The resource's name within its module.
    pub name: String,
    /// The instance key (`["key"]` or `[0]`), when there is one.
    pub index: Option<serde_json::Value>,
}

/// Never fails: an address it cannot read is all name.
pub(crate) fn split(address: &str) -> AddressParts {
    let segments = segments(address);
    let mut i = 0;
    let mut modules = Vec::new();
    while segments.get(i).map(String::as_str) == Some("module") && i + 2 < segments.len() {
        if let Some(m) = segments.get(i + 1) {
            modules.push(format!("module.{m}"));
        }
        i += 2;
    }
    if segments.get(i).map(String::as_str) == Some("data") && i + 1 < segments.len() {
        i += 1;
    }
    let rest = segments.get(i..).unwrap_or_default().join(".");
    let (name, index) = split_index(&rest);
    AddressParts {
        module: (!modules.is_empty()).then(|| modules.join(".")),
        name,
        index,
    }
}

/// Splits at dots outside brackets and quotes.
fn segments(address: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in address.chars() {
        if quoted {
            current.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    out
}

fn split_index(s: &str) -> (String, Option<serde_json::Value>) {
    let Some(open) = s.find('[') else {
        return (s.to_string(), None);
    };
    let Some(inner) = s[open + 1..].strip_suffix(']') else {
        return (s.to_string(), None);
    };
    let index = match serde_json::from_str::<serde_json::Value>(inner) {
        Ok(v @ (serde_json::Value::String(_) | serde_json::Value::Number(_))) => v,
        _ => serde_json::Value::String(inner.to_string()),
    };
    (s[..open].to_string(), Some(index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn top_level_and_module_addresses() {
        let a = split("db_password");
        assert_eq!(
            (a.module, a.name, a.index),
            (None, "db_password".into(), None)
        );
        let a = split(r#"module.monitoring.object["networking.k8s.io/v1/Ingress/m/x"]"#);
        assert_eq!(a.module.as_deref(), Some("module.monitoring"));
        assert_eq!(a.name, "object");
        assert_eq!(a.index, Some(json!("networking.k8s.io/v1/Ingress/m/x")));
        let a = split("module.a.module.b.data.zone[0]");
        assert_eq!(a.module.as_deref(), Some("module.a.module.b"));
        assert_eq!((a.name.as_str(), a.index), ("zone", Some(json!(0))));
    }

    #[test]
    fn odd_addresses_do_not_panic() {
        for s in ["", "module", "module.x", "a[", "a[\"]", "data", "]]..[["] {
            let _ = split(s);
        }
        assert_eq!(split("module.x").name, "module.x");
    }
}
