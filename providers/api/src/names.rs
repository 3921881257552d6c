//! Kubernetes-style name rules (RFC 1123 labels and subdomains, label keys and values). They
//! are shared vocabulary: a stack name is a label value on every object, monitoring specs name
//! namespaces, and the kubernetes provider validates manifests with the same rules.

/// RFC 1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty()
        && b.len() <= 63
        && b.first().is_some_and(ok)
        && b.last().is_some_and(ok)
        && b.iter().all(|c| ok(c) || *c == b'-')
}

/// RFC 1123 subdomain: labels joined by `.`, at most 253 characters.
pub fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// A label value: empty, or at most 63 characters of `[A-Za-z0-9._-]` starting and ending
/// with an alphanumeric. (Label names without prefix follow the same rule, but not empty.)
pub fn is_label_value(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_alphanumeric();
    b.len() <= 63
        && b.first().is_some_and(alnum)
        && b.last().is_some_and(alnum)
        && b.iter()
            .all(|c| alnum(c) || matches!(c, b'-' | b'_' | b'.'))
}

/// A label key: `[prefix/]name`, the prefix a DNS subdomain, the name a non-empty label value.
pub fn is_label_key(s: &str) -> bool {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    prefix.is_none_or(is_dns_subdomain) && !name.is_empty() && is_label_value(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_keys() {
        assert!(is_dns_label("fraud-detection-1"));
        assert!(!is_dns_label("-demo") && !is_dns_label("Demo") && !is_dns_label("a_b"));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(is_dns_subdomain("monitoring.coreos.com"));
        assert!(is_label_value("") && is_label_value("Kube_prometheus.1"));
        assert!(!is_label_value("-x") && !is_label_value("x-"));
        assert!(is_label_key("app.kubernetes.io/name") && !is_label_key("a/"));
    }
}
