//! Saved plans: round trip, secrecy, file mode, clear errors; `mlstack show` on a saved plan.

mod plan_render_fixture;
use plan_render_fixture::*;

use mlstack::plan::{planfile, Plan};
use mlstack::provider_api::Value;
use std::process::Command;

/// What the fixture's values must look like after a round trip, computed independently:
/// every sensitive part becomes `Sensitive(Unknown)`.
fn withhold(v: &Value) -> Value {
    match v {
        Value::Sensitive(_) => Value::Sensitive(Box::new(Value::Unknown)),
        Value::List(l) => Value::List(l.iter().map(withhold).collect()),
        Value::Map(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), withhold(v))).collect()),
        other => other.clone(),
    }
}

fn expected_after_load(plan: &Plan) -> Plan {
    let mut p = plan.clone();
    for c in p.changes.iter_mut().chain(p.drift.iter_mut()) {
        c.before = c.before.as_ref().map(withhold);
        c.after = c.after.as_ref().map(withhold);
    }
    for o in &mut p.output_changes {
        let mark = |v: &Value| {
            if o.sensitive {
                Value::Sensitive(Box::new(Value::Unknown))
            } else {
                withhold(v)
            }
        };
        o.before = o.before.as_ref().map(mark);
        o.after = o.after.as_ref().map(mark);
    }
    for v in p.variables.values_mut() {
        *v = withhold(v);
    }
    p
}

#[test]
fn round_trip_keeps_everything_but_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.mlplan");
    let plan = full_plan();
    planfile::save(&plan, &path).unwrap();

    let bytes = std::fs::read(&path).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert_no_secrets("plan file", &text);
    assert!(planfile::is_plan_file(&bytes));
    assert!(
        text.starts_with("{\n  \"mlstack_plan\": 1,"),
        "{}",
        &text[..80]
    );

    let loaded = planfile::load(&path).unwrap();
    let expected = expected_after_load(&plan);
    assert_eq!(loaded.changes, expected.changes);
    assert_eq!(loaded.drift, expected.drift);
    assert_eq!(loaded.output_changes, expected.output_changes);
    assert_eq!(loaded.variables, expected.variables);
    assert_eq!(loaded, expected);
    assert_eq!(planfile::as_saved(&plan), expected);

    // Marks survive; data around them too.
    let db = loaded.change("db_password").unwrap().after.clone().unwrap();
    assert!(db.get("result").unwrap().is_sensitive());
    assert!(db.get("id").unwrap().is_unknown());
    assert_eq!(db.get("length"), Some(&Value::from(16i64)));
    assert_eq!(loaded.lineage, "3f2a-lineage");
    assert_eq!(loaded.serial, 7);
    assert!(loaded.sandbox);
    assert_eq!(loaded.stack_path, "stacks/fraud-detection.yaml");
    assert!(loaded.variables["db_password"].is_sensitive());
}

#[cfg(unix)]
#[test]
fn saved_with_mode_0600_and_replaced_atomically() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    std::fs::write(&path, "old").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    planfile::save(&full_plan(), &path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temp file left: {names:?}");
}

#[test]
fn bad_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = planfile::load(&dir.path().join("nope")).unwrap_err();
    assert!(missing.contains("cannot read plan file"), "{missing}");

    let stack = dir.path().join("stack.yaml");
    std::fs::write(&stack, "stack:\n  name: demo\n").unwrap();
    let e = planfile::load(&stack).unwrap_err();
    assert!(e.contains("is not an mlstack plan file"), "{e}");

    let truncated = dir.path().join("truncated");
    std::fs::write(&truncated, "{\n  \"mlstack_plan\": 1,\n  \"stack_na").unwrap();
    let e = planfile::load(&truncated).unwrap_err();
    assert!(e.contains("is corrupt"), "{e}");

    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, r#"{"mlstack_plan": 1, "changes": "x"}"#).unwrap();
    let e = planfile::load(&wrong).unwrap_err();
    assert!(e.contains("is corrupt"), "{e}");

    let newer = dir.path().join("newer");
    std::fs::write(&newer, r#"{"mlstack_plan": 99}"#).unwrap();
    let e = planfile::load(&newer).unwrap_err();
    assert!(e.contains("newer mlstack"), "{e}");

    let binary = dir.path().join("binary");
    std::fs::write(&binary, [0xffu8, 0xfe, 0x00, 0x7b]).unwrap();
    assert!(planfile::load(&binary).is_err());
}

fn mlstack(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mlstack"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn show_prints_a_saved_plan_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.out");
    planfile::save(&full_plan(), &path).unwrap();
    let p = path.to_str().unwrap();

    let human = mlstack(&["show", p]);
    assert!(human.status.success(), "{human:?}");
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(text.contains("  # k8s_cluster must be replaced"), "{text}");
    assert!(text.contains("# forces replacement"), "{text}");
    assert!(text.contains("(sensitive value)"), "{text}");
    assert!(!text.contains('\x1b'), "no colour when not a terminal");
    assert!(text
        .trim_end()
        .ends_with("Plan: 3 to add, 1 to change, 3 to destroy."));
    assert_no_secrets("show", &text);

    let md = mlstack(&["show", p, "--format", "markdown"]);
    assert!(md.status.success());
    let text = String::from_utf8(md.stdout).unwrap();
    assert!(
        text.contains("> [!WARNING]") && text.contains("<details>"),
        "{text}"
    );

    let json = mlstack(&["show", p, "--format", "json"]);
    assert!(json.status.success());
    let j: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(j["format_version"], "1.2");
    let admin = j["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "admin_password")
        .unwrap();
    assert_eq!(
        admin["change"]["actions"],
        serde_json::json!(["create", "delete"])
    );
    assert_eq!(
        admin["change"]["after_sensitive"],
        serde_json::json!({"result": true})
    );
}

#[test]
fn show_fails_clearly_on_missing_or_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.plan");
    let out = mlstack(&["show", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("cannot read plan file") && err.contains("missing.plan"),
        "{err}"
    );

    let stack = dir.path().join("stack.yaml");
    std::fs::write(&stack, "stack:\n  name: demo\n").unwrap();
    let out = mlstack(&["show", stack.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("is not an mlstack plan file"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
