//! `mlstack output STACK [NAME] [--json] [--show-sensitive]` against hand-built state.

use serde_json::json;
use std::process::{Command, Stdio};

const SECRET: &str = "hunter2-secret";

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// A working directory with `stack.yaml` (stack `demo`) and recorded outputs (when given).
fn work(outputs: Option<serde_json::Value>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), "stack:\n  name: demo\n").unwrap();
    if let Some(outputs) = outputs {
        let state = json!({
            "version": 1,
            "serial": 1,
            "lineage": "l-1",
            "resources": [],
            "outputs": outputs,
        });
        let file = dir.path().join(".mlstack/demo/state.json");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, serde_json::to_vec(&state).unwrap()).unwrap();
    }
    dir
}

fn fixture() -> serde_json::Value {
    json!({
        "endpoint": {"value": "http://model.example:8080", "sensitive": false},
        "db_password": {"value": SECRET, "sensitive": true},
        "replicas": {"value": {"min": 4, "max": 6}, "sensitive": false},
        "zones": {"value": ["a", "b"]}
    })
}

fn run(dir: &tempfile::TempDir, args: &[&str]) -> Run {
    let o = Command::new(env!("CARGO_BIN_EXE_mlstack"))
        .args(args)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn assert_no_secret(r: &Run) {
    assert!(!r.stdout.contains(SECRET), "stdout: {}", r.stdout);
    assert!(!r.stderr.contains(SECRET), "stderr: {}", r.stderr);
}

#[test]
fn all_outputs_with_sensitive_masked() {
    let w = work(Some(fixture()));
    let r = run(&w, &["output", "stack.yaml"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_no_secret(&r);
    let expected = "db_password = <sensitive>\n\
                    endpoint = \"http://model.example:8080\"\n\
                    replicas = {\n  \"max\": 6,\n  \"min\": 4\n}\n\
                    zones = [\n  \"a\",\n  \"b\"\n]\n";
    assert_eq!(r.stdout, expected);
}

#[test]
fn show_sensitive_prints_in_clear() {
    let w = work(Some(fixture()));
    let r = run(&w, &["output", "stack.yaml", "--show-sensitive"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!("db_password = \"{SECRET}\"")),
        "{}",
        r.stdout
    );
}

#[test]
fn json_follows_terraform_and_masks() {
    let w = work(Some(fixture()));
    let r = run(&w, &["output", "stack.yaml", "--json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_no_secret(&r);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v,
        json!({
            "db_password": {"value": null, "sensitive": true, "type": "string"},
            "endpoint": {"value": "http://model.example:8080", "sensitive": false, "type": "string"},
            "replicas": {
                "value": {"min": 4, "max": 6},
                "sensitive": false,
                "type": ["object", {"max": "number", "min": "number"}]
            },
            "zones": {"value": ["a", "b"], "sensitive": false, "type": ["tuple", ["string", "string"]]}
        })
    );

    let r = run(&w, &["output", "stack.yaml", "--json", "--show-sensitive"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["db_password"]["value"], SECRET);
    assert_eq!(v["db_password"]["sensitive"], true);
}

#[test]
fn one_output_prints_its_value() {
    let w = work(Some(fixture()));
    let r = run(&w, &["output", "stack.yaml", "endpoint"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout, "http://model.example:8080\n",
        "raw string for scripts"
    );

    let r = run(&w, &["output", "stack.yaml", "replicas", "--json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v, json!({"min": 4, "max": 6}));
}

#[test]
fn one_sensitive_output_is_masked_unless_asked() {
    let w = work(Some(fixture()));
    let r = run(&w, &["output", "stack.yaml", "db_password"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_no_secret(&r);
    assert_eq!(r.stdout, "<sensitive>\n");
    assert!(r.stderr.contains("--show-sensitive"), "{}", r.stderr);

    let r = run(&w, &["output", "stack.yaml", "db_password", "--json"]);
    assert_no_secret(&r);
    assert_eq!(r.stdout.trim(), "null");

    let r = run(
        &w,
        &["output", "stack.yaml", "db_password", "--show-sensitive"],
    );
    assert_eq!(r.stdout, format!("{SECRET}\n"));
}

#[test]
fn unknown_name_fails_with_a_suggestion() {
    let w = work(Some(fixture()));
    let r = run(&w, &["output", "stack.yaml", "endpont"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("no output `endpont`"), "{}", r.stderr);
    assert!(
        r.stderr.contains("did you mean `endpoint`?"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout, "");
}

#[test]
fn no_state_means_no_outputs() {
    let w = work(None);
    let r = run(&w, &["output", "stack.yaml"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("No outputs recorded"), "{}", r.stderr);

    let r = run(&w, &["output", "stack.yaml", "--json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "{}");

    let r = run(&w, &["output", "stack.yaml", "endpoint"]);
    assert_eq!(r.code, Some(1));
}
