//! `fieldValidation` over HTTP, as the apiserver answers it: Strict fails with 400 and the
//! decoder's (or server-side apply's) words, Warn (the default) succeeds with one `Warning`
//! header per problem, Ignore is silent; unknown fields are never stored; duplicate fields
//! in JSON and YAML bodies; the OpenAPI documents and the protobuf refusal.

mod common;

use common::Client;
use mlstack_sandbox::{KubeApi, SandboxConfig};
use serde_json::Value;

const CM: &str = "/api/v1/namespaces/default/configmaps";

async fn post(c: &Client, query: &str, body: &str) -> (u16, Vec<String>, Value) {
    let (code, headers, bytes) = c
        .try_raw(
            "POST",
            &format!("{CM}?{query}"),
            "application/json",
            body,
            &[],
        )
        .await
        .expect("request");
    let warnings = headers
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().expect("ASCII warning").to_string())
        .collect();
    (
        code,
        warnings,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn cm(name: &str) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}","colour":"red"}},"data":{{"a":"1"}},"data":{{"a":"2"}}}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_warn_and_ignore_as_the_apiserver() {
    let h = KubeApi::start(SandboxConfig::default())
        .await
        .expect("sandbox");
    let c = Client::new(&h);

    let (code, warnings, body) = post(&c, "fieldValidation=Strict", &cm("s")).await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["reason"], "BadRequest");
    assert_eq!(
        body["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: \
         unknown field \"metadata.colour\", duplicate field \"data\""
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        c.get(&format!("{CM}/s")).await.0,
        404,
        "stored despite Strict"
    );

    // No parameter is Warn: created, the last duplicate wins, unknown fields dropped.
    let (code, warnings, body) = post(&c, "", &cm("w")).await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(
        warnings,
        vec![
            r#"299 - "unknown field \"metadata.colour\"""#.to_string(),
            r#"299 - "duplicate field \"data\"""#.to_string()
        ]
    );
    assert_eq!(body["data"]["a"], "2");
    assert!(body["metadata"].get("colour").is_none(), "{body}");

    let (code, warnings, body) = post(&c, "fieldValidation=Ignore", &cm("i")).await;
    assert_eq!(code, 201, "{body}");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(body["metadata"].get("colour").is_none(), "{body}");

    let (code, _, body) = post(&c, "fieldValidation=Sometimes", &cm("x")).await;
    assert_eq!(code, 400, "{body}");

    // Server-side apply (YAML) in its own words, duplicates from the YAML decoder.
    let apply = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  a: \"1\"\n  a: \"2\"\nextra: 1\n";
    let (code, body) = c
        .apply(
            &format!("{CM}/y"),
            "fieldManager=t&fieldValidation=Strict",
            apply,
        )
        .await;
    assert_eq!(code, 400, "{body}");
    let msg = body["message"].as_str().unwrap_or("");
    assert_eq!(
        msg,
        "failed to create typed patch object (v1, Kind=ConfigMap): yaml: unmarshal errors:\n  \
         line 7: key \"a\" already set in map\n.extra: field not declared in schema"
    );
    let (code, body) = c
        .apply(
            &format!("{CM}/y"),
            "fieldManager=t&fieldValidation=Ignore",
            apply,
        )
        .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["data"]["a"], "2");
    assert!(body.get("extra").is_none(), "{body}");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_and_the_protobuf_refusal() {
    let h = KubeApi::start(SandboxConfig::default())
        .await
        .expect("sandbox");
    let c = Client::new(&h);
    let (code, idx) = c.get("/openapi/v3").await;
    assert_eq!(code, 200);
    let url = idx["paths"]["api/v1"]["serverRelativeURL"]
        .as_str()
        .expect("api/v1 in the index");
    let (code, doc) = c.get(url).await;
    assert_eq!(code, 200);
    assert_eq!(doc["openapi"], "3.0.0");
    let cm = &doc["components"]["schemas"]["io.k8s.api.core.v1.ConfigMap"];
    assert_eq!(
        cm["x-kubernetes-group-version-kind"][0]["kind"],
        "ConfigMap"
    );
    let env = &doc["components"]["schemas"]["io.k8s.api.core.v1.Container"]["properties"]["env"];
    assert_eq!(env["x-kubernetes-list-map-keys"][0], "name");
    assert_eq!(env["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(
        c.get("/openapi/v3/apis/nothing.example.com/v1").await.0,
        404
    );

    let (code, v2) = c.get("/openapi/v2").await;
    assert_eq!(code, 200);
    assert_eq!(v2["swagger"], "2.0");
    assert!(v2["definitions"]["io.k8s.api.apps.v1.Deployment"].is_object());
    let (code, _, _) = c
        .try_raw(
            "GET",
            "/openapi/v2",
            "",
            "",
            &[(
                "accept",
                "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
            )],
        )
        .await
        .expect("request");
    assert_eq!(code, 406);

    // A CRD's group/version appears with its schema.
    let crd = r#"{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
      "metadata":{"name":"widgets.example.com"},
      "spec":{"group":"example.com","scope":"Namespaced",
        "names":{"plural":"widgets","singular":"widget","kind":"Widget"},
        "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":
          {"type":"object","properties":{"spec":{"type":"object","properties":{"size":{"type":"integer"}}}}}}}]}}"#;
    let (code, body) = c
        .send(
            "POST",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            "application/json",
            crd,
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let (_, idx) = c.get("/openapi/v3").await;
    let url = idx["paths"]["apis/example.com/v1"]["serverRelativeURL"]
        .as_str()
        .expect("the CRD's group/version in the index");
    let (_, doc) = c.get(url).await;
    let w = &doc["components"]["schemas"]["com.example.v1.Widget"];
    assert_eq!(
        w["properties"]["spec"]["properties"]["size"]["type"],
        "integer"
    );
    assert_eq!(
        w["x-kubernetes-group-version-kind"][0]["group"],
        "example.com"
    );
    h.shutdown().await;
}
