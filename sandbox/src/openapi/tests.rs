use super::*;
use crate::fields::{Schema, Step};

fn all() -> BTreeMap<String, Value> {
    schemas(&Catalog::default(), &Store::default(), Flavor::V3)
}

#[test]
fn every_builtin_kind_has_a_schema_with_its_gvk_and_every_ref_resolves() {
    let all = all();
    for rt in Catalog::default().types() {
        let s = kind_schema(&all, rt).unwrap_or_else(|| panic!("{} has no schema", rt.kind));
        assert_eq!(s["x-kubernetes-group-version-kind"][0]["kind"], rt.kind);
        assert!(s["properties"]["metadata"].is_object(), "{}", rt.kind);
    }
    let mut refs = Vec::new();
    for s in all.values() {
        collect_refs(s, Flavor::V3, &mut refs);
    }
    for r in refs {
        assert!(all.contains_key(&r), "dangling $ref {r}");
    }
}

/// Walks every keyed list of the description and holds its keys against the keys
/// server-side apply and strategic merge use (`fields::Schema::list_keys`).
#[test]
fn list_map_keys_match_the_merge_keys_in_use() {
    let all = all();
    let mut seen = 0;
    for rt in Catalog::default().types() {
        let Some(s) = kind_schema(&all, rt) else {
            continue;
        };
        let schema = Schema {
            kind: &rt.kind,
            custom: false,
        };
        check(&all, s, &mut Vec::new(), &schema, &mut seen, 0);
    }
    assert!(seen >= 20, "keyed lists walked: {seen}");
}

fn check(
    all: &BTreeMap<String, Value>,
    s: &Value,
    path: &mut Vec<Step>,
    schema: &Schema,
    seen: &mut usize,
    depth: usize,
) {
    if depth > 12 {
        return;
    }
    let s = match s
        .get("$ref")
        .or_else(|| s.pointer("/allOf/0/$ref"))
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix(Flavor::V3.prefix()))
    {
        Some(n) => &all[n],
        None => s,
    };
    let Some(props) = s.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (k, p) in props {
        if k == "metadata" && !path.is_empty() && depth > 0 {
            continue;
        }
        if p.get("type") == Some(&json!("array")) {
            let want: Option<Vec<String>> = p
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                });
            let got = schema
                .list_keys(path, k)
                .map(|ks| ks.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            // ownerReferences/secrets merge outside the sandbox's keyed lists.
            if !matches!(k.as_str(), "ownerReferences" | "secrets") {
                assert_eq!(
                    want.clone().map(|mut v| {
                        v.sort();
                        v
                    }),
                    got.map(|mut v| {
                        v.sort();
                        v
                    }),
                    "{k} under {path:?} in {}",
                    schema.kind
                );
            }
            if want.is_some() {
                *seen += 1;
                path.push(Step::Field(k.clone()));
                path.push(Step::Key("{}".into()));
                check(all, &p["items"], path, schema, seen, depth + 1);
                path.pop();
                path.pop();
            }
        } else {
            path.push(Step::Field(k.clone()));
            check(all, p, path, schema, seen, depth + 1);
            path.pop();
        }
    }
}

#[test]
fn v3_documents_carry_patch_operations_with_field_validation() {
    let c = Catalog::default();
    let store = Store::default();
    let idx = v3_index(&c, &store);
    let url = idx["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap();
    assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="), "{url}");
    let doc = v3_doc(&c, &store, "apps", "v1").unwrap();
    let patch = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"]["kind"],
        "Deployment"
    );
    assert!(patch["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "fieldValidation" && p["in"] == "query"));
    let scale =
        &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"];
    assert_eq!(scale["x-kubernetes-group-version-kind"]["kind"], "Scale");
    let list = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["get"];
    assert_eq!(
        list["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/io.k8s.api.apps.v1.DeploymentList"
    );
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("io.k8s.api.autoscaling.v1.Scale"));
    assert!(schemas.contains_key("io.k8s.api.apps.v1.DeploymentList"));
    assert!(schemas.contains_key("io.k8s.api.core.v1.Container"));
    assert!(!schemas.contains_key("io.k8s.api.rbac.v1.PolicyRule"));
    let v2 = v2(&c, &store);
    assert_eq!(
        v2["definitions"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]["items"]
            ["$ref"],
        "#/definitions/io.k8s.api.core.v1.Container"
    );
}
