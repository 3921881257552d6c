//! The `s3` backend against a real S3 server: moto's (`moto_server`, PyPI `moto[server]`),
//! started on a free loopback port per test. The real `mlstack` binary runs from two working
//! copies on the same remote state: the lock is honoured, a killed holder's lock is cleared
//! by `force-unlock`, migration round-trips byte for byte, and with encryption on no secret
//! reaches the bucket in clear. The last tests (local encryption, the changed-backend guard)
//! need no server.

mod common;

use common::moto::Moto;
use common::{wait_for_file, wait_with_guard, Run, Work};
use mlstack::state::S3Backend;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const KEY1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KEY2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

fn s3_stack(moto: &Moto, bucket: &str, encryption: bool) -> String {
    let enc = if encryption {
        "\n    encryption: {key_env: MLSTACK_STATE_KEY}"
    } else {
        ""
    };
    format!(
        r#"
stack:
  name: demo
backend:
  s3:
    bucket: {bucket}
    endpoint: {}
    region: us-east-1{enc}
{BODY}"#,
        moto.endpoint
    )
}

use common::LOCKING_STACK_BODY as BODY;

fn command(w: &Work, key: &str, args: &[&str]) -> Command {
    let mut c = w.command(args);
    c.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_SESSION_TOKEN")
        .env("MLSTACK_STATE_KEY", key);
    c
}

fn run(w: &Work, key: &str, args: &[&str]) -> Run {
    let child = command(w, key, args).spawn().expect("spawn mlstack");
    wait_with_guard(child, Duration::from_secs(180))
}

/// A `gate` command that signals it started and waits for `release` (no sleeps to tune).
fn gate(dir: &Path) -> String {
    let d = dir.display();
    format!("gate=touch {d}/started; while [ ! -f {d}/release ]; do sleep 0.05; done")
}

fn pulled(w: &Work, key: &str) -> serde_json::Value {
    let r = run(w, key, &["state", "pull", "stack.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    serde_json::from_str(&r.stdout).expect("pulled state is JSON")
}

fn password(state: &serde_json::Value) -> String {
    state["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["address"] == "pw"))
        .and_then(|r| r["attributes"]["result"].as_str())
        .expect("pw in state")
        .to_string()
}

/// Every object the state uses, as text.
fn bucket_text(b: &S3Backend) -> String {
    let mut all = String::new();
    for key in [b.key().to_string(), b.backup_key(), b.lock_key()] {
        if let Some(bytes) = b.client().get(&key).unwrap() {
            all.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    all
}

/// The lock id the lock error tells the user to pass to force-unlock.
fn lock_id_in(stderr: &str) -> String {
    let at = stderr
        .find("mlstack force-unlock stack.yaml ")
        .unwrap_or_else(|| panic!("no force-unlock command in: {stderr}"));
    stderr[at + "mlstack force-unlock stack.yaml ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn the_server_honours_conditional_writes() {
    // The lock relies on it: an S3 server that ignores If-None-Match would let two runs in.
    let moto = Moto::start();
    let bucket = moto.bucket("cond");
    let c = bucket.client();
    c.put("k", b"one".to_vec(), true).unwrap();
    assert_eq!(
        c.put("k", b"two".to_vec(), true),
        Err(mlstack::state::s3::S3Error::PreconditionFailed)
    );
    assert_eq!(c.get("k").unwrap().unwrap(), b"one");
}

#[test]
fn two_working_copies_take_turns_and_the_lock_is_honoured() {
    let moto = Moto::start();
    let bucket = moto.bucket("turns");
    let (a, b) = (Work::new(), Work::new());
    let signals = tempfile::tempdir().unwrap();
    for w in [&a, &b] {
        w.write("stack.yaml", &s3_stack(&moto, "turns", true));
    }

    // A applies and holds the lock until released.
    let holder = command(
        &a,
        KEY1,
        &[
            "apply",
            "stack.yaml",
            "--auto-approve",
            "--var",
            &gate(signals.path()),
        ],
    )
    .spawn()
    .unwrap();
    wait_for_file(&signals.path().join("started"));

    // B without waiting: refused, the holder named, the way out spelled.
    let refused = run(&b, KEY1, &["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("state is locked by"), "{refused:?}");
    assert!(refused.stderr.contains("operation `apply`"), "{refused:?}");
    lock_id_in(&refused.stderr);
    // A preview does not lock, so it is not blocked.
    let preview = run(&b, KEY1, &["plan", "stack.yaml", "--lock=false"]);
    assert_eq!(preview.code, 0, "{preview:?}");

    // B waiting: goes through once A is done.
    let waiter = command(
        &b,
        KEY1,
        &[
            "apply",
            "stack.yaml",
            "--auto-approve",
            "--lock-timeout",
            "120s",
        ],
    )
    .spawn()
    .unwrap();
    std::fs::write(signals.path().join("release"), "").unwrap();
    let first = wait_with_guard(holder, Duration::from_secs(180));
    assert_eq!(first.code, 0, "{first:?}");
    let second = wait_with_guard(waiter, Duration::from_secs(180));
    assert_eq!(second.code, 0, "{second:?}");

    // One state, both runs in it, seen alike from both copies; the lock is gone.
    let (sa, sb) = (pulled(&a, KEY1), pulled(&b, KEY1));
    assert_eq!(sa, sb);
    let serial = sa["serial"].as_u64().unwrap();
    assert!(serial >= 3, "both applies wrote: {serial}");
    let list = run(&b, KEY1, &["state", "list", "stack.yaml"]);
    assert_eq!(list.stdout, "pw\nstep\n", "{list:?}");
    assert!(bucket.client().get(&bucket.lock_key()).unwrap().is_none());

    // Encryption on: the generated password is nowhere in the bucket in clear.
    let secret = password(&sa);
    let stored = bucket_text(&bucket);
    assert!(stored.contains("mlstack_encrypted"), "{stored}");
    assert!(!stored.contains(&secret));
    assert!(!stored.contains("\"resources\""));
}

/// Starts an apply in `a` that takes the lock, and SIGKILLs it while it holds it.
fn kill_a_holder(bucket: &S3Backend, a: &Work) {
    let signals = tempfile::tempdir().unwrap();
    let mut holder = command(
        a,
        KEY1,
        &[
            "apply",
            "stack.yaml",
            "--auto-approve",
            "--var",
            &gate(signals.path()),
        ],
    )
    .spawn()
    .unwrap();
    wait_for_file(&signals.path().join("started"));
    holder.kill().unwrap();
    let _ = holder.wait();
    // Let the orphaned gate command end.
    std::fs::write(signals.path().join("release"), "").unwrap();
    assert!(
        bucket.client().get(&bucket.lock_key()).unwrap().is_some(),
        "S3 cannot know the holder died: its lock is left"
    );
}

#[test]
fn a_killed_holder_elsewhere_leaves_a_lock_that_force_unlock_clears() {
    let moto = Moto::start();
    let bucket = moto.bucket("killed");
    let (a, b) = (Work::new(), Work::new());
    for w in [&a, &b] {
        w.write("stack.yaml", &s3_stack(&moto, "killed", false));
    }
    kill_a_holder(&bucket, &a);
    // As if the killed run had been on another machine (a CI runner): its pid means nothing here.
    let lock = bucket.client().get(&bucket.lock_key()).unwrap().unwrap();
    let mut info: serde_json::Value = serde_json::from_slice(&lock).unwrap();
    info["host"] = "ci-runner-elsewhere".into();
    let moved = serde_json::to_vec(&info).unwrap();
    bucket
        .client()
        .put(&bucket.lock_key(), moved, false)
        .unwrap();

    let blocked = run(&b, KEY1, &["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(blocked.code, 1, "{blocked:?}");
    assert!(
        blocked.stderr.contains("ci-runner-elsewhere"),
        "{blocked:?}"
    );
    let id = lock_id_in(&blocked.stderr);
    assert_eq!(info["id"].as_str(), Some(id.as_str()));

    let wrong = run(&b, KEY1, &["force-unlock", "stack.yaml", "not-the-id"]);
    assert_eq!(wrong.code, 1, "{wrong:?}");
    assert!(wrong.stderr.contains(&id), "names the real id: {wrong:?}");
    assert!(bucket.client().get(&bucket.lock_key()).unwrap().is_some());

    let cleared = run(&b, KEY1, &["force-unlock", "stack.yaml", &id]);
    assert_eq!(cleared.code, 0, "{cleared:?}");
    assert!(cleared.stdout.contains(&id), "{cleared:?}");
    assert!(bucket.client().get(&bucket.lock_key()).unwrap().is_none());
    let again = run(&b, KEY1, &["force-unlock", "stack.yaml", &id]);
    assert!(again.stderr.contains("not locked"), "{again:?}");

    let after = run(&b, KEY1, &["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(after.code, 0, "{after:?}");
    let list = run(&b, KEY1, &["state", "list", "stack.yaml"]);
    assert_eq!(list.stdout, "pw\nstep\n", "{list:?}");
}

#[test]
fn a_killed_holder_on_this_machine_does_not_block_the_next_run() {
    let moto = Moto::start();
    let bucket = moto.bucket("here");
    let (a, b) = (Work::new(), Work::new());
    for w in [&a, &b] {
        w.write("stack.yaml", &s3_stack(&moto, "here", false));
    }
    kill_a_holder(&bucket, &a);
    let after = run(&b, KEY1, &["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(after.code, 0, "{after:?}");
    assert!(after.stderr.contains("no longer running"), "{after:?}");
    assert!(bucket.client().get(&bucket.lock_key()).unwrap().is_none());
}

#[test]
fn migration_round_trips_byte_for_byte_and_encrypts() {
    let moto = Moto::start();
    let bucket = moto.bucket("moved");
    let w = Work::new();
    let local = format!("\nstack:\n  name: demo\n{BODY}");
    w.write("stack.yaml", &local);
    let applied = run(&w, KEY1, &["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{applied:?}");
    let original = std::fs::read(w.path(".mlstack/demo/state.json")).unwrap();
    let secret = password(&serde_json::from_slice(&original).unwrap());

    // The stack moves to s3: commands refuse until the state is migrated.
    w.write("stack.yaml", &s3_stack(&moto, "moved", true));
    let refused = run(&w, KEY1, &["plan", "stack.yaml"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stderr.contains("mlstack state migrate stack.yaml"),
        "{refused:?}"
    );
    let migrated = run(&w, KEY1, &["state", "migrate", "stack.yaml"]);
    assert_eq!(migrated.code, 0, "{migrated:?}");
    let pull = run(&w, KEY1, &["state", "pull", "stack.yaml"]);
    assert_eq!(pull.stdout.as_bytes(), &original[..], "byte for byte");
    let stored = bucket_text(&bucket);
    assert!(stored.contains("mlstack_encrypted") && !stored.contains(&secret));
    let noop = run(&w, KEY1, &["plan", "stack.yaml", "--detailed-exitcode"]);
    assert_eq!(noop.code, 0, "nothing to change after the move: {noop:?}");

    // And back to a local file elsewhere.
    w.write(
        "stack.yaml",
        &format!("\nstack:\n  name: demo\nbackend:\n  local:\n    path: moved/state.json\n{BODY}"),
    );
    let back = run(&w, KEY1, &["state", "migrate", "stack.yaml"]);
    assert_eq!(back.code, 0, "{back:?}");
    assert_eq!(std::fs::read(w.path("moved/state.json")).unwrap(), original);
    let again = run(&w, KEY1, &["state", "migrate", "stack.yaml"]);
    assert!(again.stdout.contains("Nothing to migrate"), "{again:?}");
}

#[test]
fn a_wrong_or_missing_key_is_a_clear_error_and_changes_nothing() {
    let moto = Moto::start();
    let bucket = moto.bucket("keys");
    let w = Work::new();
    w.write("stack.yaml", &s3_stack(&moto, "keys", true));
    assert_eq!(
        run(&w, KEY1, &["apply", "stack.yaml", "--auto-approve"]).code,
        0
    );
    let before = bucket.client().get(bucket.key()).unwrap().unwrap();

    let wrong = run(&w, KEY2, &["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(wrong.code, 1, "{wrong:?}");
    assert!(wrong.stderr.contains("another key"), "{wrong:?}");
    let missing = run(&w, "", &["plan", "stack.yaml"]);
    assert_eq!(missing.code, 1, "{missing:?}");
    assert!(missing.stderr.contains("MLSTACK_STATE_KEY"), "{missing:?}");

    // A stack without encryption settings meets an encrypted state: told what to add.
    let other = Work::new();
    other.write("stack.yaml", &s3_stack(&moto, "keys", false));
    let clear = run(&other, KEY1, &["state", "list", "stack.yaml"]);
    assert_eq!(clear.code, 1, "{clear:?}");
    assert!(
        clear.stderr.contains("key_env: MLSTACK_STATE_KEY"),
        "{clear:?}"
    );

    assert_eq!(bucket.client().get(bucket.key()).unwrap().unwrap(), before);
    assert!(bucket.client().get(&bucket.lock_key()).unwrap().is_none());
}

#[test]
fn push_refuses_other_lineages_and_old_serials_unless_forced() {
    let moto = Moto::start();
    moto.bucket("push");
    let w = Work::new();
    w.write("stack.yaml", &s3_stack(&moto, "push", false));
    assert_eq!(
        run(&w, KEY1, &["apply", "stack.yaml", "--auto-approve"]).code,
        0
    );
    let state = pulled(&w, KEY1);
    let serial = state["serial"].as_u64().unwrap();

    let mut same = state.clone();
    w.write("same.json", &serde_json::to_string_pretty(&same).unwrap());
    let r = run(&w, KEY1, &["state", "push", "stack.yaml", "same.json"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("not newer"), "{r:?}");

    let mut foreign = state.clone();
    foreign["lineage"] = "someone-else".into();
    foreign["serial"] = (serial + 5).into();
    w.write("foreign.json", &serde_json::to_string(&foreign).unwrap());
    let r = run(&w, KEY1, &["state", "push", "stack.yaml", "foreign.json"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("lineage"), "{r:?}");

    same["serial"] = (serial + 1).into();
    w.write("next.json", &serde_json::to_string_pretty(&same).unwrap());
    let r = run(&w, KEY1, &["state", "push", "stack.yaml", "next.json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(pulled(&w, KEY1)["serial"].as_u64(), Some(serial + 1));

    let r = run(
        &w,
        KEY1,
        &["state", "push", "stack.yaml", "same.json", "--force"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let now = pulled(&w, KEY1);
    assert_eq!(
        now["serial"].as_u64(),
        Some(serial + 2),
        "a forced older state gets the next serial"
    );
}

#[test]
fn saved_plans_are_encrypted_with_the_state_key() {
    let moto = Moto::start();
    moto.bucket("plans");
    let w = Work::new();
    w.write("stack.yaml", &s3_stack(&moto, "plans", true));
    let p = run(&w, KEY1, &["plan", "stack.yaml", "--out", "p.plan"]);
    assert_eq!(p.code, 0, "{p:?}");
    let file = w.read("p.plan");
    assert!(file.contains("\"encrypted\""), "{file}");
    assert!(
        !file.contains("random_password"),
        "no clear content: {file}"
    );
    let shown = run(&w, KEY1, &["show", "p.plan"]);
    assert!(shown.stdout.contains("random_password"), "{shown:?}");
    let wrong = run(&w, KEY2, &["show", "p.plan"]);
    assert_eq!(wrong.code, 1, "{wrong:?}");
    assert!(wrong.stderr.contains("another key"), "{wrong:?}");
    let applied = run(&w, KEY1, &["apply", "p.plan"]);
    assert_eq!(applied.code, 0, "{applied:?}");
}

#[test]
fn a_secret_key_in_clear_in_the_stack_file_is_refused() {
    let w = Work::new();
    w.write(
        "stack.yaml",
        "stack:\n  name: demo\nbackend:\n  s3:\n    bucket: b\n    access_key: id\n    secret_key: hunter2\n",
    );
    let r = w.run(&["validate", "stack.yaml"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("stack.yaml:7:17"), "{r:?}");
    assert!(r.stderr.contains("env.NAME"), "{r:?}");
    w.write(
        "stack.yaml",
        "stack:\n  name: demo\nvariables:\n  s:\n    type: string\n    default: x\nbackend:\n  s3:\n    bucket: b\n    access_key: id\n    secret_key: ${var.s}\n",
    );
    let r = w.run(&["validate", "stack.yaml"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("not sensitive"), "{r:?}");
    w.write(
        "stack.yaml",
        "stack:\n  name: demo\nbackend:\n  s3:\n    bucket: b\n    encryption: {key_evn: K}\n",
    );
    let r = w.run(&["validate", "stack.yaml"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("did you mean `key_env`"), "{r:?}");
}

#[test]
fn local_state_can_be_encrypted_too() {
    let w = Work::new();
    w.write(
        "stack.yaml",
        &format!(
            "\nstack:\n  name: demo\nbackend:\n  local:\n    encryption: {{key_env: MLSTACK_STATE_KEY}}\n{BODY}"
        ),
    );
    let r = run(&w, KEY1, &["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let file = w.read(".mlstack/demo/state.json");
    assert!(file.contains("\"mlstack_encrypted\""), "{file}");
    let secret = password(&pulled(&w, KEY1));
    assert!(!file.contains(&secret));
    let out = run(
        &w,
        KEY1,
        &["output", "stack.yaml", "pw", "--show-sensitive"],
    );
    assert_eq!(out.stdout.trim(), secret, "{out:?}");
    let wrong = run(&w, KEY2, &["state", "list", "stack.yaml"]);
    assert_eq!(wrong.code, 1, "{wrong:?}");
    assert!(wrong.stderr.contains("another key"), "{wrong:?}");
    assert_eq!(w.read(".mlstack/demo/state.json"), file, "nothing written");
}

#[test]
fn a_changed_backend_is_refused_until_migrated_unless_the_old_one_is_empty() {
    let w = Work::new();
    let at = |path: &str| {
        format!("\nstack:\n  name: demo\nbackend:\n  local:\n    path: {path}\n{BODY}")
    };
    w.write("stack.yaml", &at("one/state.json"));
    assert_eq!(run(&w, KEY1, &["plan", "stack.yaml"]).code, 0);
    // Nothing was ever written to `one`: moving on is silent.
    w.write("stack.yaml", &at("two/state.json"));
    let r = run(&w, KEY1, &["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    w.write("stack.yaml", &at("three/state.json"));
    let r = run(&w, KEY1, &["state", "list", "stack.yaml"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("two/state.json"), "{r:?}");
    assert!(
        r.stderr.contains("mlstack state migrate stack.yaml"),
        "{r:?}"
    );
    assert!(!w.path("three/state.json").exists());
    // Adding encryption in place is a migration too; afterwards nothing is left in clear.
    w.write(
        "stack.yaml",
        &format!(
            "\nstack:\n  name: demo\nbackend:\n  local:\n    path: two/state.json\n    encryption: {{key_env: MLSTACK_STATE_KEY}}\n{BODY}"
        ),
    );
    let clear = w.read("two/state.json");
    let r = run(&w, KEY1, &["state", "migrate", "stack.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(w.read("two/state.json").contains("mlstack_encrypted"));
    assert!(w
        .read("two/state.json.backup")
        .contains("mlstack_encrypted"));
    let pull = run(&w, KEY1, &["state", "pull", "stack.yaml"]);
    assert_eq!(pull.stdout, clear);
}

/// Waits (with a hang guard) until the lock object exists.
fn wait_for_lock(bucket: &S3Backend) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while bucket.client().get(&bucket.lock_key()).unwrap().is_none() {
        assert!(Instant::now() < deadline, "the lock was never taken");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
}

#[test]
fn a_stopped_run_releases_its_remote_lock() {
    let moto = Moto::start();
    let bucket = moto.bucket("stop");
    let w = Work::new();
    // A plan that blocks while holding the lock: its data source reads a FIFO nobody writes.
    let fifo = w.path("fifo");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    w.write(
        "stack.yaml",
        &format!(
            "{}data:\n  blocked:\n    type: local_file\n    properties:\n      filename: {}\n",
            s3_stack(&moto, "stop", false),
            fifo.display()
        ),
    );
    let plan = command(&w, KEY1, &["plan", "stack.yaml"]).spawn().unwrap();
    wait_for_lock(&bucket);
    signal(&plan, libc::SIGINT);
    let r = wait_with_guard(plan, Duration::from_secs(60));
    assert_eq!(r.code, 130, "{r:?}");
    assert!(r.stderr.contains("released the state lock"), "{r:?}");
    assert!(bucket.client().get(&bucket.lock_key()).unwrap().is_none());

    // SIGTERM during an apply (a CI job cancelled): running work finishes, state is saved,
    // the lock goes.
    let later = "  later:\n    type: local_file\n    depends_on: [step]\n    properties:\n      filename: later.txt\n      content: x\noutputs:\n";
    w.write(
        "stack.yaml",
        &s3_stack(&moto, "stop", false).replace("outputs:\n", later),
    );
    let signals = tempfile::tempdir().unwrap();
    let apply = command(
        &w,
        KEY1,
        &[
            "apply",
            "stack.yaml",
            "--auto-approve",
            "--var",
            &gate(signals.path()),
        ],
    )
    .spawn()
    .unwrap();
    wait_for_file(&signals.path().join("started"));
    signal(&apply, libc::SIGTERM);
    std::fs::write(signals.path().join("release"), "").unwrap();
    let r = wait_with_guard(apply, Duration::from_secs(120));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("interrupted"), "{r:?}");
    assert!(bucket.client().get(&bucket.lock_key()).unwrap().is_none());
    let list = run(&w, KEY1, &["state", "list", "stack.yaml"]);
    assert!(
        list.stdout.contains("step"),
        "the running step was saved: {list:?}"
    );
    assert!(
        !list.stdout.contains("later"),
        "nothing new started: {list:?}"
    );
}
