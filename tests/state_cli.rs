//! `mlstack state list|show|rm|mv` against state files built by hand in a temp directory.

use mlstack::state::{Backend, LocalBackend, LockInfo, State};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const SECRET: &str = "hunter2-secret";

/// A working directory with `stack.yaml` (stack `demo`) and, optionally, recorded state.
struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new(state: Option<serde_json::Value>) -> Work {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stack.yaml"), "stack:\n  name: demo\n").unwrap();
        if let Some(state) = state {
            let file = dir.path().join(".mlstack/demo/state.json");
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, serde_json::to_vec_pretty(&state).unwrap()).unwrap();
        }
        Work { dir }
    }

    fn state_file(&self) -> PathBuf {
        self.dir.path().join(".mlstack/demo/state.json")
    }

    fn state(&self) -> State {
        serde_json::from_slice(&std::fs::read(self.state_file()).unwrap()).unwrap()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mlstack"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().unwrap())
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    fn no_secret(&self) -> &Run {
        assert!(!self.stdout.contains(SECRET), "stdout: {}", self.stdout);
        assert!(!self.stderr.contains(SECRET), "stderr: {}", self.stderr);
        self
    }
}

fn fixture() -> serde_json::Value {
    json!({
        "version": 1,
        "serial": 3,
        "lineage": "3f1c0a52-lineage",
        "mlstack_version": "0.1.0",
        "resources": [
            {
                "address": "module.app.config_file",
                "mode": "managed",
                "type": "local_file",
                "provider": "local",
                "attributes": {"filename": "out/app.yaml", "content": "replicas: 4\n"},
                "dependencies": ["db_password"]
            },
            {
                "address": "db_password",
                "mode": "managed",
                "type": "random_password",
                "provider": "random",
                "id": "none",
                "attributes": {"length": 16, "result": SECRET},
                "sensitive_attributes": [["result"]]
            },
            {
                "address": "app_id",
                "mode": "managed",
                "type": "random_id",
                "provider": "random",
                "attributes": {"hex": "a1b2"}
            }
        ],
        "outputs": {}
    })
}

#[test]
fn list_prints_sorted_addresses() {
    let w = Work::new(Some(fixture()));
    let r = w.run(&["state", "list", "stack.yaml"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, "app_id\ndb_password\nmodule.app.config_file\n");
}

#[test]
fn list_without_state_prints_nothing() {
    let w = Work::new(None);
    let r = w.run(&["state", "list", "stack.yaml"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("No state recorded yet"), "{}", r.stderr);
    assert!(!w.state_file().exists(), "listing creates nothing");
}

#[test]
fn show_masks_sensitive_attributes() {
    let w = Work::new(Some(fixture()));
    let r = w.run(&["state", "show", "stack.yaml", "db_password"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    r.no_secret();
    assert!(r.stdout.starts_with("# db_password\n"), "{}", r.stdout);
    assert!(
        r.stdout.contains("type:       random_password"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\"length\": 16"), "{}", r.stdout);
    assert!(
        r.stdout.contains("\"result\": \"(sensitive)\""),
        "{}",
        r.stdout
    );
}

#[test]
fn show_unknown_address_suggests_the_nearest() {
    let w = Work::new(Some(fixture()));
    let r = w.run(&["state", "show", "stack.yaml", "db_pasword"]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("no resource `db_pasword`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("did you mean `db_password`?"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(".mlstack/demo/state.json"),
        "{}",
        r.stderr
    );
}

#[test]
fn rm_forgets_a_resource_and_writes_atomically() {
    let w = Work::new(Some(fixture()));
    let r = w.run(&["state", "rm", "stack.yaml", "app_id"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("Removed app_id"), "{}", r.stdout);
    assert!(r.stdout.contains("not deleted"), "{}", r.stdout);
    r.no_secret();
    let s = w.state();
    assert_eq!(s.serial, 4);
    assert_eq!(s.lineage, "3f1c0a52-lineage");
    let addresses: Vec<_> = s.resources.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(addresses, vec!["db_password", "module.app.config_file"]);
    let backup = w.path().join(".mlstack/demo/state.json.backup");
    let previous: State = serde_json::from_slice(&std::fs::read(backup).unwrap()).unwrap();
    assert_eq!(previous.serial, 3);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(w.state_file())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn rm_a_module_instance_forgets_everything_in_it() {
    let w = Work::new(Some(fixture()));
    let r = w.run(&["state", "rm", "stack.yaml", "module.app"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(w.state().resource("module.app.config_file").is_none());
}

#[test]
fn rm_unknown_address_fails_and_changes_nothing() {
    let w = Work::new(Some(fixture()));
    let before = std::fs::read(w.state_file()).unwrap();
    let r = w.run(&["state", "rm", "stack.yaml", "app_idd"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("did you mean `app_id`?"), "{}", r.stderr);
    assert_eq!(std::fs::read(w.state_file()).unwrap(), before);
}

#[test]
fn mv_renames_and_follows_dependencies() {
    let w = Work::new(Some(fixture()));
    let r = w.run(&["state", "mv", "stack.yaml", "db_password", "admin_password"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.contains("Moved db_password to admin_password"),
        "{}",
        r.stdout
    );
    let s = w.state();
    assert_eq!(s.serial, 4);
    assert!(s.resource("db_password").is_none());
    let moved = s.resource("admin_password").unwrap();
    assert_eq!(moved.attributes["result"], SECRET, "attributes kept");
    assert_eq!(
        s.resource("module.app.config_file").unwrap().dependencies,
        vec!["admin_password"]
    );
}

#[test]
fn mv_refuses_an_existing_target_or_a_missing_source() {
    let w = Work::new(Some(fixture()));
    let before = std::fs::read(w.state_file()).unwrap();
    let r = w.run(&["state", "mv", "stack.yaml", "db_password", "app_id"]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.contains("`app_id` is already in the state"),
        "{}",
        r.stderr
    );
    let r = w.run(&["state", "mv", "stack.yaml", "nope", "other"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("no resource `nope`"), "{}", r.stderr);
    assert_eq!(std::fs::read(w.state_file()).unwrap(), before);
}

#[test]
fn rm_without_state_fails() {
    let w = Work::new(None);
    let r = w.run(&["state", "rm", "stack.yaml", "app_id"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("no state recorded yet"), "{}", r.stderr);
    assert!(!w.state_file().exists());
}

#[test]
fn corrupt_state_is_reported_with_its_file_and_kept() {
    let w = Work::new(None);
    std::fs::create_dir_all(w.state_file().parent().unwrap()).unwrap();
    let garbage = format!("{{\"version\": 1, \"lineage\": \"{SECRET}\" ");
    std::fs::write(w.state_file(), &garbage).unwrap();
    for args in [
        &["state", "list", "stack.yaml"][..],
        &["state", "rm", "stack.yaml", "app_id"][..],
    ] {
        let r = w.run(args);
        assert_eq!(r.code, Some(1), "{args:?}");
        assert!(
            r.stderr.contains(".mlstack/demo/state.json"),
            "{}",
            r.stderr
        );
        r.no_secret();
    }
    assert_eq!(std::fs::read_to_string(w.state_file()).unwrap(), garbage);
}

#[test]
fn rm_names_the_lock_holder_and_can_wait_for_it() {
    let w = Work::new(Some(fixture()));
    let backend = LocalBackend::new(w.state_file());
    let guard = backend
        .lock(&LockInfo::for_this_process("apply"), Duration::ZERO)
        .unwrap();

    let r = w.run(&["state", "rm", "stack.yaml", "app_id"]);
    assert_eq!(r.code, Some(1));
    let expected = format!("state is locked by {}", guard.info().holder());
    assert!(r.stderr.contains(&expected), "{}", r.stderr);
    assert!(r.stderr.contains("retry with --lock-timeout or wait"));
    assert_eq!(w.state().serial, 3, "nothing written");

    // With a (generous) timeout, the command waits and succeeds once the lock is released.
    let child = w
        .command(&[
            "state",
            "rm",
            "stack.yaml",
            "app_id",
            "--lock-timeout",
            "60s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    drop(guard);
    let r = Run::from(child.wait_with_output().unwrap());
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(w.state().resource("app_id").is_none());
}
