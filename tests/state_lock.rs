//! The state lock: contention in one process and across processes, the holder named in the
//! message, waiting until release, and no stale lock after the holder is SIGKILLed.
//!
//! The second process is this test binary run again: `lock_holder_child` takes the lock when
//! `MLSTACK_TEST_HOLD_LOCK` names a state file, prints a marker, and sleeps until killed.

use mlstack::state::{Backend, LocalBackend, LockInfo};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "MLSTACK_TEST_HOLD_LOCK";
/// What the child prints once it holds the lock.
const LOCKED_MARK: &str = "child-holds-the-lock";
/// Guards against hangs only; nothing is asserted about how long anything takes.
const GENEROUS: Duration = Duration::from_secs(60);

fn backend(dir: &Path) -> LocalBackend {
    LocalBackend::from_config(&Default::default(), "demo", dir).unwrap()
}

#[test]
fn lock_holder_child() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return; // an ordinary test run: nothing to do
    };
    let b = LocalBackend::new(path.into());
    let info = LockInfo {
        command: "mlstack apply child.yaml".into(),
        ..LockInfo::for_this_process("apply")
    };
    let _guard = b.lock(&info, Duration::ZERO).unwrap();
    println!("\n{LOCKED_MARK}");
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// The child process; killed (SIGKILL) when dropped, so a failing test leaves no orphan.
struct Holder(Child);

impl Holder {
    fn pid(&self) -> u32 {
        self.0.id()
    }

    /// SIGKILL: no destructor runs in the child.
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts a child holding the lock on `b`, and returns once it holds it.
fn spawn_holder(b: &LocalBackend) -> Holder {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "lock_holder_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, b.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains(LOCKED_MARK) {
                let _ = tx.send(());
            }
        }
    });
    let holder = Holder(child);
    assert!(
        rx.recv_timeout(GENEROUS).is_ok(),
        "the child never took the lock"
    );
    holder
}

#[test]
fn second_lock_in_the_same_process_is_refused_and_names_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    let first = LockInfo::for_this_process("apply");
    let guard = b.lock(&first, Duration::ZERO).unwrap();
    assert_eq!(guard.info(), &first);

    let err = b
        .lock(&LockInfo::for_this_process("plan"), Duration::ZERO)
        .unwrap_err();
    assert!(err.starts_with("state is locked by "), "{err}");
    assert!(
        err.contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    assert!(err.contains(&first.host), "{err}");
    assert!(err.contains(&first.created), "{err}");
    assert!(err.ends_with("retry with --lock-timeout or wait"), "{err}");

    // A short timeout also gives up, saying it waited.
    let err = b
        .lock(
            &LockInfo::for_this_process("plan"),
            Duration::from_millis(300),
        )
        .unwrap_err();
    assert!(err.contains("(waited"), "{err}");

    drop(guard);
    let again = b.lock(&LockInfo::for_this_process("plan"), Duration::ZERO);
    assert!(again.is_ok(), "released on drop: {again:?}");
}

#[test]
fn waiting_succeeds_once_the_holder_releases() {
    let dir = tempfile::tempdir().unwrap();
    let b = std::sync::Arc::new(backend(dir.path()));
    let guard = b
        .lock(&LockInfo::for_this_process("apply"), Duration::ZERO)
        .unwrap();

    let (tx, rx) = mpsc::channel();
    let waiter = {
        let b = b.clone();
        std::thread::spawn(move || {
            let r = b.lock(&LockInfo::for_this_process("plan"), GENEROUS);
            let _ = tx.send((r.is_ok(), Instant::now()));
            r.map(|_| ())
        })
    };
    // Let the waiter find the lock taken (ordering only; nothing is asserted about time).
    std::thread::sleep(Duration::from_millis(400));
    let released_at = Instant::now();
    drop(guard);
    let (ok, acquired_at) = rx.recv_timeout(GENEROUS).unwrap();
    assert!(ok);
    assert!(acquired_at >= released_at, "acquired only after release");
    waiter.join().unwrap().unwrap();
}

#[test]
fn another_process_holding_the_lock_is_named_and_sigkill_frees_it() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    let mut child = spawn_holder(&b);

    let err = b
        .lock(&LockInfo::for_this_process("plan"), Duration::ZERO)
        .unwrap_err();
    let child_pid = child.pid();
    assert!(err.contains(&format!("pid {child_pid} ")), "{err}");
    assert!(err.contains("(`mlstack apply child.yaml`)"), "{err}");
    assert!(err.contains("retry with --lock-timeout or wait"), "{err}");

    child.kill();

    let guard = b.lock(&LockInfo::for_this_process("apply"), Duration::ZERO);
    assert!(guard.is_ok(), "a killed holder leaves no lock: {guard:?}");
}

#[test]
fn waiting_for_a_killed_holder_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let b = std::sync::Arc::new(backend(dir.path()));
    let mut child = spawn_holder(&b);

    let waiter = {
        let b = b.clone();
        std::thread::spawn(move || {
            b.lock(&LockInfo::for_this_process("apply"), GENEROUS)
                .map(|g| g.info().pid)
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    child.kill();
    assert_eq!(waiter.join().unwrap().unwrap(), std::process::id());
}

#[test]
fn the_lock_file_is_private_and_emptied_on_release() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    let guard = b
        .lock(&LockInfo::for_this_process("apply"), Duration::ZERO)
        .unwrap();
    let lock_file = b.lock_path();
    let meta = std::fs::metadata(&lock_file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let recorded: LockInfo =
        serde_json::from_str(&std::fs::read_to_string(&lock_file).unwrap()).unwrap();
    assert_eq!(&recorded, guard.info());
    drop(guard);
    assert_eq!(std::fs::read_to_string(&lock_file).unwrap(), "");
}
