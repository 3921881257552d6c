//! The example model API's own tests (examples/model-api/tests, pytest) run for real: FastAPI's
//! TestClient against a real MLflow registry (SQLite in a temp dir) holding a model trained by
//! the example's script. A missing Python package fails here (scripts/check.sh installs them).

mod common;

use common::tool;
use std::process::Command;

#[test]
fn the_example_model_api_passes_its_pytest_suite() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/model-api");
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = Command::new(tool("python3"))
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp"])
        .arg(tmp.path().join("pytest"))
        .arg("tests")
        .current_dir(&example)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("MLFLOW_DISABLE_TELEMETRY", "true")
        .env("DO_NOT_TRACK", "true")
        .output()
        .expect("run pytest");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pytest failed:\n{text}");
    // The suite really ran (a collection of nothing also exits 0 with -q when misconfigured).
    let passed = text
        .lines()
        .find_map(|l| {
            l.split(" passed")
                .next()
                .and_then(|n| n.trim().rsplit(' ').next()?.parse::<u32>().ok())
        })
        .unwrap_or(0);
    assert!(passed >= 10, "expected the whole suite to pass:\n{text}");
}
