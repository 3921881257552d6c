//! The local state backend: atomic writes with a backup, 0600 files, the serial discipline, and
//! clear errors on corrupt or too-new files that leave them untouched.

use mlstack::stack::{BackendDecl, Mode};
use mlstack::state::{open_backend, Backend, LocalBackend, ResourceState, State};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn resource(address: &str, secret: &str) -> ResourceState {
    ResourceState {
        address: address.into(),
        mode: Mode::Managed,
        type_name: "random_password".into(),
        provider: "random".into(),
        id: Some("id-1".into()),
        attributes: serde_json::json!({"length": 16, "result": secret}),
        sensitive_attributes: vec![vec![mlstack::provider_api::PathStep::Key("result".into())]],
        dependencies: vec![],
        prevent_destroy: false,
    }
}

#[test]
fn default_location_and_description() {
    let dir = tempfile::tempdir().unwrap();
    let b = open_backend(&BackendDecl::default(), "demo", dir.path()).unwrap();
    assert_eq!(b.describe(), "local state .mlstack/demo/state.json");
    assert!(
        b.read().unwrap().is_none(),
        "no state before the first write"
    );
}

#[test]
fn other_kinds_name_the_allowed_ones() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["consul", "etcd"] {
        let decl = BackendDecl {
            kind: kind.into(),
            ..BackendDecl::default()
        };
        let err = open_backend(&decl, "demo", dir.path()).err().unwrap();
        assert!(
            err.contains(kind) && err.contains("allowed kinds: local, s3, kubernetes"),
            "{err}"
        );
    }
    let s3 = BackendDecl {
        kind: "s3".into(),
        ..BackendDecl::default()
    };
    let err = open_backend(&s3, "demo", dir.path()).err().unwrap();
    assert!(err.contains("needs `bucket`"), "{err}");
}

#[test]
fn writes_are_atomic_private_and_bump_the_serial() {
    let dir = tempfile::tempdir().unwrap();
    let b = open_backend(&BackendDecl::default(), "demo", dir.path()).unwrap();
    let file = dir.path().join(".mlstack/demo/state.json");
    let backup = dir.path().join(".mlstack/demo/state.json.backup");

    let mut state = State::new();
    assert_eq!(state.serial, 0);
    assert_eq!(b.write(&mut state).unwrap(), 1);
    assert_eq!(state.serial, 1, "write bumps the caller's serial");
    assert!(!backup.exists(), "nothing to back up on the first write");
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&dir.path().join(".mlstack/demo")), 0o700);

    state.upsert(resource("db_password", "s3cret"));
    assert_eq!(b.write(&mut state).unwrap(), 2);
    assert_eq!(mode(&backup), 0o600);
    let previous: State = serde_json::from_slice(&std::fs::read(&backup).unwrap()).unwrap();
    assert_eq!(previous.serial, 1);
    assert!(previous.resources.is_empty());

    let read = b.read().unwrap().unwrap();
    assert_eq!(read, state);
    assert_eq!(read.serial, 2);
    assert_eq!(read.lineage, state.lineage);

    // Only the state, its backup (and no temp files) are left in the directory.
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join(".mlstack/demo"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["state.json", "state.json.backup"]);
}

#[test]
fn configured_path_is_relative_to_the_base_dir() {
    let dir = tempfile::tempdir().unwrap();
    let mut decl = BackendDecl::default();
    decl.config.insert(
        "path".into(),
        mlstack::provider_api::Value::from("st/x.json"),
    );
    let b = open_backend(&decl, "demo", dir.path()).unwrap();
    assert_eq!(b.describe(), "local state st/x.json");
    b.write(&mut State::new()).unwrap();
    assert!(dir.path().join("st/x.json").is_file());
}

#[test]
fn corrupt_file_is_a_clear_error_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let b = LocalBackend::from_config(&Default::default(), "demo", dir.path()).unwrap();
    b.write(&mut State::new()).unwrap();
    b.write(&mut State::new()).unwrap();
    let garbage = b"{\"version\": 1, \"serial\": 3, \"lineage\": \"secret-ish\", oops";
    std::fs::write(b.path(), garbage).unwrap();

    let err = b.read().unwrap_err();
    assert!(err.contains(".mlstack/demo/state.json"), "{err}");
    assert!(err.contains("state.json.backup"), "names the backup: {err}");
    assert!(err.contains("left untouched"), "{err}");
    assert!(!err.contains("secret-ish"), "never quotes the file: {err}");
    assert_eq!(std::fs::read(b.path()).unwrap(), garbage);
}

#[test]
fn empty_file_is_corrupt_not_absent() {
    let dir = tempfile::tempdir().unwrap();
    let b = LocalBackend::from_config(&Default::default(), "demo", dir.path()).unwrap();
    std::fs::create_dir_all(b.path().parent().unwrap()).unwrap();
    std::fs::write(b.path(), b"").unwrap();
    let err = b.read().unwrap_err();
    assert!(err.contains("no previous version"), "{err}");
}

#[test]
fn newer_format_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let b = LocalBackend::from_config(&Default::default(), "demo", dir.path()).unwrap();
    std::fs::create_dir_all(b.path().parent().unwrap()).unwrap();
    let newer = br#"{"version": 7, "serial": 1, "lineage": "x", "shiny": []}"#;
    std::fs::write(b.path(), newer).unwrap();
    let err = b.read().unwrap_err();
    assert!(err.contains("version 7") && err.contains("newer"), "{err}");
    assert!(err.contains(".mlstack/demo/state.json"), "{err}");
    assert_eq!(std::fs::read(b.path()).unwrap(), newer);
}

#[test]
fn a_failed_write_leaves_serial_and_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    // The state path is a directory: the final rename fails.
    let target = dir.path().join("state.json");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), b"x").unwrap();
    let b = LocalBackend::new(target.clone());
    let mut state = State::new();
    let err = b.write(&mut state).unwrap_err();
    assert!(err.contains("cannot write state file"), "{err}");
    assert_eq!(state.serial, 0);
    assert!(target.join("keep").is_file());
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 1, "no temp file left behind");
}
