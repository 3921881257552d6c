//! The retraining DAG in `examples/dags/` run by real Airflow (PyPI `apache-airflow`, SQLite
//! metadata database, `airflow dags test`) against a real `mlflow server`: it imports cleanly,
//! takes its schedule from the `retrain_schedule` Variable, refuses to promote a model below
//! the quality gate, and otherwise registers a new version and moves `challenger` to it.
//! scripts/check.sh installs Airflow into its own venv and puts its `airflow` on PATH.

mod common;

use common::mlflow::Mlflow;
use common::{tool, Run};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DAG_ID: &str = "retrain_fraud_detection";
const MODEL: &str = "fraud-detection";

/// An AIRFLOW_HOME of its own (config, SQLite database, logs) pointed at the example DAGs.
struct Airflow {
    home: tempfile::TempDir,
    mlflow_uri: String,
}

impl Airflow {
    fn new(mlflow_uri: &str) -> Airflow {
        let a = Airflow {
            home: tempfile::tempdir().expect("temp dir"),
            mlflow_uri: mlflow_uri.to_string(),
        };
        let r = a.run(&["db", "migrate"]);
        assert_eq!(r.code, 0, "airflow db migrate: {r:?}");
        a
    }

    /// Runs `airflow ARGS` in its own process group, killed whole if it outlives the guard.
    fn run(&self, args: &[&str]) -> Run {
        let mut c = Command::new(tool("airflow"));
        c.args(args)
            .current_dir(self.home.path())
            .env("AIRFLOW_HOME", self.home.path())
            .env("AIRFLOW__CORE__DAGS_FOLDER", dags_folder())
            .env("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
            .env(
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
                format!(
                    "sqlite:///{}",
                    self.home.path().join("airflow.db").display()
                ),
            )
            // What the Airflow module puts in every component's environment.
            .env("AIRFLOW_VAR_RETRAIN_SCHEDULE", "17 4 * * 2")
            .env("AIRFLOW_VAR_MLFLOW_EXPERIMENT", "retrain-test")
            .env("MLFLOW_TRACKING_URI", &self.mlflow_uri)
            .env("MLFLOW_DISABLE_TELEMETRY", "true")
            .env("DO_NOT_TRACK", "true")
            // Keep the source tree clean: no __pycache__ beside the example DAGs.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let child = c.spawn().expect("spawn airflow");
        let group = Group(child.id() as i32);
        let r = wait(child, Duration::from_secs(600));
        drop(group);
        r
    }
}

/// Ends a process group (Airflow's task runners included) when dropped.
struct Group(i32);

impl Drop for Group {
    fn drop(&mut self) {
        unsafe {
            libc::kill(-self.0, libc::SIGKILL);
        }
    }
}

fn wait(mut child: std::process::Child, guard: Duration) -> Run {
    fn drain<R: std::io::Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    }
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > guard => {
                unsafe {
                    libc::kill(-(child.id() as i32), libc::SIGKILL);
                }
                let _ = child.wait();
                panic!("airflow hung for more than {guard:?}");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => panic!("wait: {e}"),
        }
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned(),
    }
}

fn dags_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/dags")
}

/// The JSON document of an `airflow ... -o json` command (its log lines precede it on stdout).
fn json_output(r: &Run) -> serde_json::Value {
    assert_eq!(r.code, 0, "{r:?}");
    let line = r
        .stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('[') || l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON in the output: {r:?}"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

/// The registry as MLflow's client reads it (tests/fixtures/airflow/registry_state.py).
/// With `load`, also what the model under the alias predicts.
fn registry_state(uri: &str, alias: &str, load: bool) -> serde_json::Value {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/airflow/registry_state.py");
    let out = Command::new(tool("python3"))
        .arg(script)
        .args([uri, MODEL, alias])
        .args(load.then_some("load"))
        .env("MLFLOW_DISABLE_TELEMETRY", "true")
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "registry_state.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("registry state JSON")
}

#[test]
fn retraining_dag_registers_a_version_and_moves_challenger() {
    let mlflow = Mlflow::start();
    // A challenger from before: the DAG must move the alias away from it.
    let old = mlflow.register(MODEL, &[("origin", "fixture")]);
    mlflow.alias(MODEL, "challenger", &old);

    let airflow = Airflow::new(&mlflow.uri);

    // The folder parses with no import errors, and the DAG is really in it.
    let errors =
        json_output(&airflow.run(&["dags", "list-import-errors", "--local", "-o", "json"]));
    assert_eq!(errors, serde_json::json!([]), "import errors");
    let dags = json_output(&airflow.run(&["dags", "list", "--local", "-o", "json"]));
    let ids: Vec<&str> = dags
        .as_array()
        .expect("DAG list")
        .iter()
        .filter_map(|d| d["dag_id"].as_str())
        .collect();
    assert_eq!(ids, vec![DAG_ID], "{dags}");

    // Below the quality gate: the version is registered and tagged failed, the alias stays.
    let gated = airflow.run(&[
        "dags",
        "test",
        DAG_ID,
        "-c",
        r#"{"min_roc_auc": 0.999, "seed": 7}"#,
    ]);
    assert_ne!(
        gated.code, 0,
        "a run below min_roc_auc must fail: {gated:?}"
    );
    assert!(gated.all().contains("below min_roc_auc"), "{gated:?}");
    let state = registry_state(&mlflow.uri, "challenger", false);
    assert_eq!(state["alias_version"], old.as_str(), "{state}");
    let rejected = (old.parse::<u64>().expect("version") + 1).to_string();
    assert_eq!(
        state["versions"][&rejected]["validation_status"], "failed",
        "{state}"
    );

    // A normal run: a new version, promoted to challenger, with its run's params and metrics.
    let ok = airflow.run(&["dags", "test", DAG_ID, "-c", r#"{"seed": 7}"#]);
    assert_eq!(
        ok.code,
        0,
        "dags test: {ok:?}\n--- mlflow\n{}",
        mlflow.log()
    );
    let state = registry_state(&mlflow.uri, "challenger", true);
    let promoted = (old.parse::<u64>().expect("version") + 2).to_string();
    assert_eq!(state["alias_version"], promoted.as_str(), "{state}");
    let tags = &state["versions"][&promoted];
    assert_eq!(tags["validation_status"], "passed", "{state}");
    assert!(
        tags["airflow.run_id"]
            .as_str()
            .is_some_and(|r| r.starts_with("manual__")),
        "{state}"
    );
    let run = &state["run"];
    assert_eq!(
        run["experiment"], "retrain-test",
        "the experiment Variable: {state}"
    );
    assert_eq!(run["tags"]["airflow.dag_id"], DAG_ID, "{state}");
    assert_eq!(run["params"]["seed"], "7", "{state}");
    assert_eq!(run["params"]["n_samples"], "20000", "{state}");
    let auc = run["metrics"]["roc_auc"].as_f64().expect("roc_auc logged");
    assert!((0.8..=1.0).contains(&auc), "roc_auc {auc}: {state}");
    for m in [
        "average_precision",
        "precision",
        "recall",
        "f1",
        "fraud_rate",
    ] {
        assert!(run["metrics"][m].is_f64(), "{m} not logged: {state}");
    }
    assert!(
        state["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("models:/")),
        "the version's source is the logged model: {state}"
    );

    // The version loads from models:/fraud-detection@challenger (the full MLflow, as a serving
    // app would) and tells fraud from an ordinary purchase.
    assert_eq!(
        state["input_columns"],
        serde_json::json!([
            "amount",
            "hour",
            "merchant_risk",
            "distance_km",
            "tx_last_24h",
            "is_foreign"
        ]),
        "{state}"
    );
    assert_eq!(state["predictions"], serde_json::json!([1, 0]), "{state}");

    // The schedule is the `retrain_schedule` Variable (AIRFLOW_VAR_RETRAIN_SCHEDULE).
    let details = json_output(&airflow.run(&["dags", "details", DAG_ID, "-o", "json"]));
    assert_eq!(details[0]["timetable_summary"], "17 4 * * 2", "{details}");
    assert!(
        !dags_folder().join("__pycache__").exists(),
        "the test wrote bytecode into examples/dags"
    );
}

/// The Airflow module runs the version and the packages this test installs (check.sh, from
/// examples/dags/requirements.txt): the defaults cannot drift from what was tested.
#[test]
fn module_defaults_match_the_tested_dag_environment() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reqs = std::fs::read_to_string(root.join("examples/dags/requirements.txt")).expect("read");
    let module = std::fs::read_to_string(root.join("modules/airflow/module.yaml")).expect("read");
    let pins: Vec<&str> = reqs
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let airflow = pins
        .iter()
        .find_map(|p| p.strip_prefix("apache-airflow=="))
        .expect("apache-airflow pinned");
    assert!(
        module.contains(&format!("\"docker.io/apache/airflow:{airflow}\"")),
        "image default is not Airflow {airflow}"
    );
    let extra: Vec<&str> = pins
        .iter()
        .copied()
        .filter(|p| !p.starts_with("apache-airflow=="))
        .collect();
    assert!(
        module.contains(&format!("default: \"{}\"", extra.join(" "))),
        "pip_requirements default is not {extra:?}"
    );
    assert!(
        module.contains("default: examples/dags"),
        "dags_path default"
    );
}
