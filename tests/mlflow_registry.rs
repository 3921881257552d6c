//! Following the MLflow model registry: the `mlflow_model_version` data source against a real
//! `mlflow server` (SQLite backend, loopback), with versions registered and aliases moved by
//! MLflow's own Python client. A stack that consumes the version changes exactly what consumes
//! it when the alias moves; an unreachable server or a missing alias stops the run before
//! anything is applied, naming the server and the model; credentials never show.

mod common;

use common::mlflow::Mlflow;
use common::Work;
use mlstack::provider_api::{Provider, ResourceRef, Value};
use mlstack_provider_mlflow::MlflowProvider;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn read(config: serde_json::Value, props: serde_json::Value) -> Result<Value, String> {
    let config = Value::from(config);
    let r = ResourceRef {
        address: "data.champion",
        type_name: "mlflow_model_version",
        provider_config: &config,
    };
    runtime()
        .block_on(MlflowProvider.read_data(r, &Value::from(props)))
        .map_err(|e| e.message)
}

fn attr<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("<missing>")
}

#[test]
fn the_data_source_follows_an_alias_and_reads_explicit_versions() {
    let m = Mlflow::start();
    let v1 = m.register("fraud", &[("trained_by", "dag")]);
    let v2 = m.register("fraud", &[]);
    assert_eq!((v1.as_str(), v2.as_str()), ("1", "2"));
    m.alias("fraud", "champion", &v1);

    let by_alias = serde_json::json!({"tracking_uri": m.uri, "name": "fraud", "alias": "champion"});
    let got = read(serde_json::json!({}), by_alias.clone()).unwrap();
    assert_eq!(attr(&got, "version"), "1");
    assert_eq!(attr(&got, "model_uri"), "models:/fraud/1");
    assert_eq!(attr(&got, "status"), "READY");
    assert_eq!(attr(&got, "run_id").len(), 32, "{got:?}");
    assert!(
        attr(&got, "source").ends_with("/artifacts/model"),
        "{got:?}"
    );
    let tags = got.get("tags").and_then(Value::as_map).unwrap();
    assert_eq!(tags["trained_by"].as_str(), Some("dag"));

    m.alias("fraud", "champion", &v2);
    let got = read(serde_json::json!({}), by_alias).unwrap();
    assert_eq!(attr(&got, "version"), "2");

    // An explicit version, with the server taken from the provider block.
    let got = read(
        serde_json::json!({"tracking_uri": m.uri}),
        serde_json::json!({"name": "fraud", "version": 1}),
    )
    .unwrap();
    assert_eq!(attr(&got, "version"), "1");
    let aliases = got.get("aliases").and_then(Value::as_list).unwrap();
    assert!(aliases.is_empty(), "champion moved to 2: {got:?}");
}

#[test]
fn a_missing_alias_model_or_server_is_a_clear_error_without_credentials() {
    let m = Mlflow::start();
    let v = m.register("fraud", &[]);
    m.alias("fraud", "champion", &v);
    let secret = "tok-never-shown-4711";
    let cfg = serde_json::json!({"tracking_uri": m.uri, "token": secret});

    let e = read(
        cfg.clone(),
        serde_json::json!({"name": "fraud", "alias": "challenger"}),
    )
    .unwrap_err();
    assert!(
        e.contains(&m.uri) && e.contains("fraud") && e.contains("challenger"),
        "{e}"
    );
    assert!(!e.contains(secret), "{e}");

    let e = read(
        cfg.clone(),
        serde_json::json!({"name": "nope", "version": 1}),
    )
    .unwrap_err();
    assert!(e.contains(&m.uri) && e.contains("nope"), "{e}");
    assert!(!e.contains(secret), "{e}");

    // A port nothing listens on: unreachable, named, retried, then an error.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead = format!("http://127.0.0.1:{closed}");
    let e = read(
        serde_json::json!({"tracking_uri": dead, "token": secret}),
        serde_json::json!({"name": "fraud", "alias": "champion"}),
    )
    .unwrap_err();
    assert!(
        e.contains(&dead) && e.contains("unreachable") && e.contains("fraud"),
        "{e}"
    );
    assert!(!e.contains(secret), "{e}");
}

#[test]
fn tags_set_through_the_client_are_what_mlflow_reads() {
    let m = Mlflow::start();
    let v = m.register("fraud", &[]);
    let client = mlstack_provider_mlflow::Client::new(&m.uri, Default::default()).unwrap();
    runtime()
        .block_on(client.set_version_tag("fraud", &v, "rollout", "failed"))
        .unwrap();
    assert_eq!(m.tags("fraud", &v)["rollout"], "failed");
}

const STACK: &str = r#"
stack: { name: follow }
variables:
  mlflow_url: { type: string }
data:
  champion:
    type: mlflow_model_version
    properties: { tracking_uri: "${var.mlflow_url}", name: fraud, alias: champion }
resources:
  served:
    type: local_file
    properties:
      filename: served.txt
      content: "${data.champion.model_uri} from run ${data.champion.run_id}"
  untouched:
    type: local_file
    properties: { filename: other.txt, content: "not about the model" }
outputs:
  version: { value: "${data.champion.version}" }
"#;

#[test]
fn a_moved_alias_plans_exactly_the_consumers_and_an_unreachable_registry_applies_nothing() {
    let m = Mlflow::start();
    let v1 = m.register("fraud", &[]);
    m.alias("fraud", "champion", &v1);
    let w = Work::new();
    w.write("stack.yaml", STACK);
    let var = format!("mlflow_url={}", m.uri);
    let r = w.run(&["apply", "stack.yaml", "--auto-approve", "--var", &var]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(w
        .read("served.txt")
        .starts_with("models:/fraud/1 from run "));
    let r = w.run(&["output", "stack.yaml", "version", "--var", &var]);
    assert_eq!(r.stdout.trim().trim_matches('"'), "1", "{r:?}");
    let r = w.run(&["plan", "stack.yaml", "--detailed-exitcode", "--var", &var]);
    assert_eq!(r.code, 0, "nothing moved, nothing to do: {r:?}");

    let v2 = m.register("fraud", &[]);
    m.alias("fraud", "champion", &v2);
    let r = w.run(&["plan", "stack.yaml", "--detailed-exitcode", "--var", &var]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("local_file.served") || r.stdout.contains("served"),
        "{r:?}"
    );
    assert!(
        !r.stdout.contains("untouched"),
        "only the consumer changes: {r:?}"
    );
    assert!(r.stdout.contains("models:/fraud/2"), "{r:?}");

    // The registry goes away: the plan and the apply fail naming it; nothing is applied.
    let uri = m.uri.clone();
    drop(m);
    let r = w.run(&["apply", "stack.yaml", "--auto-approve", "--var", &var]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.all().contains(&uri) && r.all().contains("fraud"), "{r:?}");
    assert!(
        w.read("served.txt").starts_with("models:/fraud/1 "),
        "nothing applied"
    );
}
