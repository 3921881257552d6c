//! Which host serves which paths (reference §0.1): in the real cloud every service has its
//! own host, and a call sent to another service's host is not found. A request whose `Host`
//! is one of these names is held to it; any other host (`127.0.0.1`, `localhost`: the
//! sandbox's single endpoint) serves every path.

/// (host, the path prefixes it serves).
pub const SERVICE_HOSTS: &[(&str, &[&str])] = &[
    ("iam.api.cloud.yandex.net", &["/iam/"]),
    (
        "resource-manager.api.cloud.yandex.net",
        &["/resource-manager/"],
    ),
    ("vpc.api.cloud.yandex.net", &["/vpc/"]),
    ("mks.api.cloud.yandex.net", &["/managed-kubernetes/"]),
    (
        "mdb.api.cloud.yandex.net",
        &["/managed-kafka/", "/managed-postgresql/"],
    ),
    ("operation.api.cloud.yandex.net", &["/operations/"]),
    ("storage.api.cloud.yandex.net", &["/storage/"]),
];

/// `Err(host)` when `host` (a `Host` header, port allowed) is a service host that does not
/// serve `path`; the sandbox's own `/sandbox/` pages are served everywhere.
pub fn check(host: Option<&str>, path: &str) -> Result<(), String> {
    let Some(host) = host else { return Ok(()) };
    let name = host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(name, _)| name)
        .trim_end_matches('.')
        .to_ascii_lowercase();
    match SERVICE_HOSTS.iter().find(|(h, _)| *h == name) {
        Some((_, prefixes))
            if !path.starts_with("/sandbox/") && !prefixes.iter().any(|p| path.starts_with(p)) =>
        {
            Err(name)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_service_on_its_host() {
        assert!(check(Some("iam.api.cloud.yandex.net"), "/iam/v1/tokens").is_ok());
        assert!(check(Some("IAM.api.cloud.yandex.net:443"), "/iam/v1/keys").is_ok());
        assert_eq!(
            check(Some("mks.api.cloud.yandex.net"), "/iam/v1/serviceAccounts"),
            Err("mks.api.cloud.yandex.net".into())
        );
        assert!(check(
            Some("mdb.api.cloud.yandex.net"),
            "/managed-postgresql/v1/clusters"
        )
        .is_ok());
        assert!(check(Some("mdb.api.cloud.yandex.net"), "/operations/x").is_err());
        assert!(check(Some("127.0.0.1:8443"), "/iam/v1/keys").is_ok());
        assert!(check(None, "/vpc/v1/networks").is_ok());
        assert!(check(Some("vpc.api.cloud.yandex.net"), "/sandbox/v1/status").is_ok());
    }
}
