//! Kubernetes name rules (RFC 1123 labels and subdomains, label keys and values), as the API
//! server applies them, so `validate` rejects what a cluster would. The basic label rules live
//! in the provider API crate, shared with the engine.

pub use mlstack_provider_api::names::{
    is_dns_label, is_dns_subdomain, is_label_key, is_label_value,
};

/// A path segment name (RBAC objects): not `.` or `..`, no `/` or `%`.
pub fn is_path_segment(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains('/') && !s.contains('%')
}

/// `v1`, `v1beta2`, `v2alpha1`.
pub fn is_version(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || rest.starts_with('0') {
        return false;
    }
    let tail = &rest[digits..];
    if tail.is_empty() {
        return true;
    }
    let num = tail
        .strip_prefix("alpha")
        .or_else(|| tail.strip_prefix("beta"));
    num.is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
}

/// `v1` (core) or `GROUP/VERSION`, the group a DNS subdomain.
pub fn is_api_version(s: &str) -> bool {
    match s.split_once('/') {
        Some((group, version)) => is_dns_subdomain(group) && is_version(version),
        None => is_version(s),
    }
}

/// `Deployment`, `HorizontalPodAutoscaler`: an upper-case letter, then letters and digits.
pub fn is_kind(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_dns_label("monitoring"));
        assert!(!is_dns_label("Monitoring"));
        assert!(!is_dns_label("a_b"));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(is_dns_subdomain("prometheuses.monitoring.coreos.com"));
        assert!(!is_dns_subdomain("a..b"));
        assert!(is_path_segment("system:metrics-server"));
        assert!(!is_path_segment("a/b"));
    }

    #[test]
    fn labels() {
        assert!(is_label_key("app.kubernetes.io/managed-by"));
        assert!(is_label_key("app"));
        assert!(!is_label_key("bad key"));
        assert!(!is_label_key("Example.com/x"));
        assert!(is_label_value(""));
        assert!(is_label_value("v1.2_3-x"));
        assert!(!is_label_value("-x"));
        assert!(!is_label_value(&"a".repeat(64)));
    }

    #[test]
    fn versions_and_kinds() {
        assert!(is_api_version("v1"));
        assert!(is_api_version("apps/v1"));
        assert!(is_api_version("autoscaling/v2"));
        assert!(is_api_version("monitoring.coreos.com/v1alpha1"));
        assert!(!is_api_version("apps"));
        assert!(!is_api_version("apps/1"));
        assert!(!is_api_version("v1beta"));
        assert!(is_kind("Deployment"));
        assert!(!is_kind("deployment"));
    }
}
