//! Request paths to what they address: a discovery document or a resource endpoint.

/// What a path names.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Version,
    Health,
    CoreVersions,
    GroupList,
    Group(String),
    ResourceList {
        group: String,
        version: String,
    },
    Resource(Target),
    /// `/openapi/v2` (one Swagger document).
    OpenApiV2,
    /// `/openapi/v3` (the index).
    OpenApiV3,
    /// `/openapi/v3/apis/GROUP/VERSION` or `/openapi/v3/api/v1`.
    OpenApiV3Doc(String),
    NotFound,
}

/// A resource endpoint: collection (no name), object, or object subresource.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub group: String,
    pub version: String,
    pub resource: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// Parses the path part of a request URI.
pub fn route(path: &str) -> Route {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["version"] => Route::Version,
        ["healthz"] | ["readyz"] | ["livez"] => Route::Health,
        ["api"] => Route::CoreVersions,
        ["api", "v1"] => Route::ResourceList {
            group: String::new(),
            version: "v1".into(),
        },
        ["apis"] => Route::GroupList,
        ["openapi", "v2"] => Route::OpenApiV2,
        ["openapi", "v3"] => Route::OpenApiV3,
        ["openapi", "v3", rest @ ..] => Route::OpenApiV3Doc(rest.join("/")),
        ["apis", g] => Route::Group(g.to_string()),
        ["apis", g, v] => Route::ResourceList {
            group: g.to_string(),
            version: v.to_string(),
        },
        ["api", "v1", rest @ ..] => target("", "v1", rest),
        ["apis", g, v, rest @ ..] => target(g, v, rest),
        _ => Route::NotFound,
    }
}

fn target(group: &str, version: &str, rest: &[&str]) -> Route {
    let t = |resource: &str, ns: Option<&str>, name: Option<&str>, sub: Option<&str>| {
        Route::Resource(Target {
            group: group.to_string(),
            version: version.to_string(),
            resource: resource.to_string(),
            namespace: ns.map(String::from),
            name: name.map(String::from),
            subresource: sub.map(String::from),
        })
    };
    match rest {
        ["namespaces", ns, res, tail @ ..] if !matches!(*res, "status" | "finalize") => {
            match tail {
                [] => t(res, Some(ns), None, None),
                [name] => t(res, Some(ns), Some(name), None),
                [name, sub] => t(res, Some(ns), Some(name), Some(sub)),
                _ => Route::NotFound,
            }
        }
        [res] => t(res, None, None, None),
        [res, name] => t(res, None, Some(name), None),
        [res, name, sub] => t(res, None, Some(name), Some(sub)),
        _ => Route::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("/version"), Route::Version);
        let Route::Resource(t) = route("/apis/apps/v1/namespaces/ns1/deployments/d/status") else {
            panic!()
        };
        assert_eq!(
            (
                t.namespace.as_deref(),
                t.name.as_deref(),
                t.subresource.as_deref()
            ),
            (Some("ns1"), Some("d"), Some("status"))
        );
        let Route::Resource(t) = route("/api/v1/namespaces/ns1/status") else {
            panic!()
        };
        assert_eq!(
            (t.resource.as_str(), t.name.as_deref()),
            ("namespaces", Some("ns1"))
        );
        let Route::Resource(t) = route("/api/v1/namespaces/ns1") else {
            panic!()
        };
        assert_eq!((t.resource.as_str(), t.namespace), ("namespaces", None));
    }
}
