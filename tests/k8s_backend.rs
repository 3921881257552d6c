//! The `kubernetes` backend against the sandbox's real Kubernetes API (`mlstack sandbox up` in
//! a scratch directory, stopped by a guard), with the real binary: two working copies take
//! turns under the Lease lock, which its holder keeps renewing past the Lease's duration; an
//! expired Lease is taken over, a live one is cleared only by `force-unlock` with its id, and
//! a killed holder on this machine blocks nobody; a state larger than one Secret is split and
//! round-trips; with encryption no secret is in any Secret; `--sandbox` keeps the state in
//! the sandbox and later commands follow it; migration from s3 (moto) is byte for byte.
//! A missing kubectl or moto_server fails the test (scripts/check.sh installs them).

mod common;

use common::moto::Moto;
use common::{tool, wait_for_file, wait_with_guard, Run, Work};
use mlstack::provider_api::Value;
use mlstack::state::kubernetes::{Kind, KubernetesBackend, INFO_ANNOTATION, LEASE_SECONDS};
use mlstack::state::LockInfo;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A sandbox running in its own scratch directory, with a kubeconfig for it; stopped on drop.
struct Sandbox {
    w: Work,
    kc: PathBuf,
}

impl Sandbox {
    fn up() -> Sandbox {
        Sandbox::up_with(&[])
    }

    fn up_with(extra: &[&str]) -> Sandbox {
        let w = Work::new();
        let mut args = vec!["sandbox", "up", "--ready-delay", "50ms"];
        args.extend_from_slice(extra);
        let r = w.run(&args);
        assert_eq!(r.code, 0, "{r:?}");
        let kc = w.run(&["sandbox", "kubeconfig"]);
        assert_eq!(kc.code, 0, "{kc:?}");
        let path = w.write("kc", &kc.stdout);
        Sandbox { w, kc: path }
    }

    /// The backend the stacks below use, for looking at the Lease and the Secrets.
    fn backend(&self) -> KubernetesBackend {
        let mut cfg = BTreeMap::new();
        cfg.insert(
            "config_path".to_string(),
            Value::from(self.kc.display().to_string()),
        );
        KubernetesBackend::from_config(&cfg, "demo", Path::new("."), "stack.yaml").unwrap()
    }

    fn lease(&self) -> Option<Json> {
        let b = self.backend();
        b.objects().get(Kind::Lease, &b.layout().lease()).unwrap()
    }

    /// Every Secret in the namespace with its data decoded, by name.
    fn secrets(&self) -> BTreeMap<String, Vec<u8>> {
        use base64::Engine;
        let out = Command::new(tool("kubectl"))
            .args(["--kubeconfig", &self.kc.display().to_string()])
            .args(["--cache-dir", &self.w.path("kcache").display().to_string()])
            .args(["get", "secrets", "-n", "default", "-o", "json"])
            .env("HOME", self.w.path("home"))
            .output()
            .expect("kubectl");
        assert!(out.status.success(), "{out:?}");
        let list: Json = serde_json::from_slice(&out.stdout).unwrap();
        let mut all = BTreeMap::new();
        for item in list["items"].as_array().unwrap() {
            let mut data = Vec::new();
            for v in item["data"].as_object().into_iter().flatten() {
                data.extend(
                    base64::engine::general_purpose::STANDARD
                        .decode(v.1.as_str().unwrap())
                        .unwrap(),
                );
            }
            all.insert(item["metadata"]["name"].as_str().unwrap().to_string(), data);
        }
        all
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.w.run(&["sandbox", "down"]);
    }
}

use common::LOCKING_STACK_BODY as BODY;

/// A stack keeping its state in the sandbox through an explicit kubeconfig.
fn k8s_stack(sb: &Sandbox, encryption: bool) -> String {
    let enc = if encryption {
        "\n    encryption: {key_env: MLSTACK_STATE_KEY}"
    } else {
        ""
    };
    format!(
        "\nstack:\n  name: demo\nbackend:\n  kubernetes:\n    config_path: {}\n    labels: {{team: ml}}{enc}\n{BODY}",
        sb.kc.display()
    )
}

fn command(w: &Work, args: &[&str]) -> Command {
    let mut c = w.command(args);
    c.env("MLSTACK_STATE_KEY", KEY)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("KUBECONFIG")
        .env("HOME", w.path("home"));
    c
}

fn run(w: &Work, args: &[&str]) -> Run {
    let child = command(w, args).spawn().expect("spawn mlstack");
    wait_with_guard(child, Duration::from_secs(180))
}

/// A `gate` command that signals it started and waits for `release`.
fn gate(dir: &Path) -> String {
    let d = dir.display();
    format!("gate=touch {d}/started; while [ ! -f {d}/release ]; do sleep 0.05; done")
}

fn pulled(w: &Work) -> Json {
    let r = run(w, &["state", "pull", "stack.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    serde_json::from_str(&r.stdout).expect("pulled state is JSON")
}

fn password(state: &Json) -> String {
    state["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["address"] == "pw"))
        .and_then(|r| r["attributes"]["result"].as_str())
        .expect("pw in state")
        .to_string()
}

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
fn two_working_copies_take_turns_and_a_long_run_keeps_its_lease() {
    let sb = Sandbox::up();
    let (a, b) = (&sb.w, Work::new());
    for w in [a, &b] {
        w.write("stack.yaml", &k8s_stack(&sb, true));
    }
    let signals = tempfile::tempdir().unwrap();
    let holder = command(
        a,
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
    let taken = Instant::now();
    let lease = sb.lease().expect("the holder's Lease");
    assert_eq!(lease["spec"]["leaseDurationSeconds"], LEASE_SECONDS);
    assert_eq!(
        lease["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "mlstack"
    );
    assert_eq!(lease["metadata"]["labels"]["team"], "ml");
    let info: LockInfo = serde_json::from_str(
        lease["metadata"]["annotations"][INFO_ANNOTATION]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!(lease["spec"]["holderIdentity"]
        .as_str()
        .unwrap()
        .contains(&info.id));

    // Held for longer than the Lease's duration: the holder renewed it, nobody takes it.
    while taken.elapsed() < Duration::from_secs(LEASE_SECONDS + 5) {
        std::thread::sleep(Duration::from_millis(500));
    }
    let renewed = sb.lease().expect("still held");
    assert_ne!(renewed["spec"]["renewTime"], lease["spec"]["renewTime"]);
    assert_eq!(
        renewed["spec"]["holderIdentity"],
        lease["spec"]["holderIdentity"]
    );
    let refused = run(&b, &["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("state is locked by"), "{refused:?}");
    assert!(refused.stderr.contains("operation `apply`"), "{refused:?}");
    assert!(!refused.stderr.contains("took over"), "{refused:?}");
    assert_eq!(lock_id_in(&refused.stderr), info.id);
    // A preview takes no lock.
    let preview = run(&b, &["plan", "stack.yaml", "--lock=false"]);
    assert_eq!(preview.code, 0, "{preview:?}");

    // B waits for A.
    let waiter = command(
        &b,
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

    let (sa, sb_state) = (pulled(a), pulled(&b));
    assert_eq!(sa, sb_state);
    assert!(sa["serial"].as_u64().unwrap() >= 3, "both applies wrote");
    assert!(sb.lease().is_none(), "released");

    // Encryption on: no Secret holds the password, or any state, in clear.
    let secret = password(&sa);
    let secrets = sb.secrets();
    assert!(
        secrets.contains_key("mlstack-state-demo"),
        "{:?}",
        secrets.keys()
    );
    assert!(secrets.contains_key("mlstack-state-demo-backup"));
    for (name, data) in &secrets {
        let text = String::from_utf8_lossy(data);
        assert!(!text.contains(&secret), "{name} holds the password");
        assert!(!text.contains("\"resources\""), "{name} holds clear state");
    }
    assert!(String::from_utf8_lossy(&secrets["mlstack-state-demo"]).contains("mlstack_encrypted"));
}

/// A Lease as another run would have left it.
fn foreign_lease(id: &str, host: &str, renewed: SystemTime) -> Json {
    let info = json!({"id": id, "host": host, "pid": 4242, "command": "mlstack apply stack.yaml",
        "operation": "apply", "created": "2024-01-01T00:00:00Z"});
    let t = humantime::format_rfc3339_micros(renewed).to_string();
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "mlstack-lock-demo", "namespace": "default",
                     "annotations": {INFO_ANNOTATION: info.to_string()}},
        "spec": {"holderIdentity": format!("{host}/4242/{id}"), "leaseDurationSeconds": 30,
                 "acquireTime": t, "renewTime": t},
    })
}

#[test]
fn expired_leases_are_taken_over_and_live_ones_need_force_unlock() {
    let sb = Sandbox::up();
    let w = &sb.w;
    w.write("stack.yaml", &k8s_stack(&sb, false));
    let backend = sb.backend();
    let objs = backend.objects();

    // Left by a run elsewhere that stopped renewing five minutes ago.
    let stale = SystemTime::now() - Duration::from_secs(300);
    objs.create(
        Kind::Lease,
        &foreign_lease("dead-elsewhere", "ci-runner", stale),
    )
    .unwrap();
    let r = run(w, &["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("took over the state lock dead-elsewhere"),
        "{r:?}"
    );
    assert!(r.stderr.contains("expired"), "{r:?}");
    assert!(sb.lease().is_none());

    // A live holder elsewhere: refused; force-unlock only with the right id.
    let future = SystemTime::now() + Duration::from_secs(3600);
    objs.create(
        Kind::Lease,
        &foreign_lease("live-elsewhere", "ci-runner", future),
    )
    .unwrap();
    let blocked = run(w, &["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(blocked.code, 1, "{blocked:?}");
    assert!(blocked.stderr.contains("ci-runner"), "{blocked:?}");
    assert_eq!(lock_id_in(&blocked.stderr), "live-elsewhere");
    let wrong = run(w, &["force-unlock", "stack.yaml", "not-the-id"]);
    assert_eq!(wrong.code, 1, "{wrong:?}");
    assert!(wrong.stderr.contains("live-elsewhere"), "{wrong:?}");
    assert!(sb.lease().is_some());
    let cleared = run(w, &["force-unlock", "stack.yaml", "live-elsewhere"]);
    assert_eq!(cleared.code, 0, "{cleared:?}");
    assert!(cleared.stdout.contains("live-elsewhere"), "{cleared:?}");
    assert!(sb.lease().is_none());
    let again = run(w, &["force-unlock", "stack.yaml", "live-elsewhere"]);
    assert!(again.stderr.contains("not locked"), "{again:?}");

    // A holder on this machine killed outright: the next run takes its Lease at once.
    let signals = tempfile::tempdir().unwrap();
    let mut holder = command(
        w,
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
    std::fs::write(signals.path().join("release"), "").unwrap();
    assert!(sb.lease().is_some(), "a killed holder cannot release");
    let after = run(w, &["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(after.code, 0, "{after:?}");
    assert!(after.stderr.contains("no longer running"), "{after:?}");
    assert!(sb.lease().is_none());
}

#[test]
fn with_sandbox_a_large_state_is_split_and_round_trips() {
    let sb = Sandbox::up();
    let w = &sb.w;
    // No connection settings: `--sandbox` puts the state in this directory's sandbox.
    w.write(
        "stack.yaml",
        "stack:\n  name: demo\nbackend:\n  kubernetes: {}\nresources:\n  pw:\n    type: random_password\n    properties: {length: 16}\n",
    );
    let r = run(w, &["apply", "stack.yaml", "--auto-approve", "--sandbox"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(w
        .read(".mlstack/demo/backend.json")
        .contains("\"sandbox\": true"));

    // Commands without --sandbox follow the working copy's record.
    let mut state = pulled(w);
    let big: String = (0..3_000_000u32)
        .map(|i| char::from(b'a' + (i.wrapping_mul(2_654_435_761) >> 27) as u8 % 26))
        .collect();
    state["outputs"]["big"] = json!({"value": big, "sensitive": false});
    state["serial"] = json!(state["serial"].as_u64().unwrap() + 1);
    let bytes = serde_json::to_vec_pretty(&state).unwrap();
    std::fs::write(w.path("big.json"), &bytes).unwrap();
    let r = run(w, &["state", "push", "stack.yaml", "big.json"]);
    assert_eq!(r.code, 0, "{r:?}");

    let secrets = sb.secrets();
    let head = sb
        .backend()
        .objects()
        .get(Kind::Secret, "mlstack-state-demo")
        .unwrap()
        .unwrap();
    let parts: usize = head["metadata"]["annotations"]["mlstack.dev/state-parts"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(parts >= 4, "{parts}");
    let part_names: Vec<&String> = secrets.keys().filter(|n| n.contains("-part-")).collect();
    assert!(part_names.len() >= parts - 1, "{part_names:?}");
    for (name, data) in &secrets {
        assert!(
            data.len() < 1024 * 1024,
            "{name} holds {} bytes",
            data.len()
        );
    }

    let r = run(w, &["state", "pull", "stack.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.as_bytes() == bytes.as_slice(), "byte for byte");
    let list = run(w, &["state", "list", "stack.yaml"]);
    assert_eq!(list.stdout, "pw\n", "{list:?}");
    // The next apply reads and rewrites it; the old generation's parts go with time.
    let r = run(w, &["apply", "stack.yaml", "--auto-approve", "--sandbox"]);
    assert_eq!(r.code, 0, "{r:?}");
    let again = pulled(w);
    assert_eq!(again["lineage"], state["lineage"]);
}

#[test]
fn migration_from_s3_is_byte_for_byte() {
    let moto = Moto::start();
    let sb = Sandbox::up();
    moto.bucket("moved");
    let w = &sb.w;
    let s3 = format!(
        "\nstack:\n  name: demo\nbackend:\n  s3:\n    bucket: moved\n    endpoint: {}\n    region: us-east-1\n    encryption: {{key_env: MLSTACK_STATE_KEY}}\n{BODY}",
        moto.endpoint
    );
    w.write("stack.yaml", &s3);
    let applied = run(w, &["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{applied:?}");
    let original = run(w, &["state", "pull", "stack.yaml"]).stdout;
    let secret = password(&serde_json::from_str(&original).unwrap());

    w.write("stack.yaml", &k8s_stack(&sb, true));
    let refused = run(w, &["plan", "stack.yaml"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stderr.contains("mlstack state migrate stack.yaml"),
        "{refused:?}"
    );
    let migrated = run(w, &["state", "migrate", "stack.yaml"]);
    assert_eq!(migrated.code, 0, "{migrated:?}");
    let pull = run(w, &["state", "pull", "stack.yaml"]);
    assert_eq!(pull.stdout, original, "byte for byte");
    for (name, data) in sb.secrets() {
        assert!(!String::from_utf8_lossy(&data).contains(&secret), "{name}");
    }
    let noop = run(w, &["plan", "stack.yaml", "--detailed-exitcode"]);
    assert_eq!(noop.code, 0, "nothing to change after the move: {noop:?}");
}

#[test]
fn backend_settings_are_checked_at_their_line_with_hints() {
    let w = Work::new();
    w.write(
        "stack.yaml",
        "stack:\n  name: demo\nbackend:\n  kubernetes:\n    namespcae: x\n    kubeconfig: y\n    token: abc\n",
    );
    let r = w.run(&["validate", "stack.yaml"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("stack.yaml:5:5"), "{r:?}");
    assert!(r.stderr.contains("did you mean `namespace`"), "{r:?}");
    assert!(r.stderr.contains("did you mean `config_path`"), "{r:?}");
    assert!(r.stderr.contains("stack.yaml:7:12"), "{r:?}");
    assert!(r.stderr.contains("`token` must not be written"), "{r:?}");
    w.write(
        "stack.yaml",
        "stack:\n  name: demo\nbackend:\n  kubernetes:\n    namespace: Not_A_Namespace\n",
    );
    let r = run(&w, &["plan", "stack.yaml"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("not a namespace name"), "{r:?}");
}

#[test]
fn a_stopped_run_releases_its_lease() {
    let sb = Sandbox::up();
    let w = &sb.w;
    // A plan that blocks while holding the lock: its data source reads a FIFO nobody writes.
    let fifo = w.path("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    w.write(
        "stack.yaml",
        &format!(
            "{}data:\n  blocked:\n    type: local_file\n    properties:\n      filename: {}\n",
            k8s_stack(&sb, false),
            fifo.display()
        ),
    );
    let plan = command(w, &["plan", "stack.yaml"]).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while sb.lease().is_none() {
        assert!(Instant::now() < deadline, "the lock was never taken");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(plan.id() as i32, libc::SIGTERM);
    }
    let r = wait_with_guard(plan, Duration::from_secs(60));
    assert_eq!(r.code, 143, "{r:?}");
    assert!(r.stderr.contains("released the state lock"), "{r:?}");
    assert!(sb.lease().is_none());
}

#[test]
fn state_and_lock_survive_injected_faults() {
    // A fifth of the requests answered 409, 429 or 500, and some connections dropped.
    let sb = Sandbox::up_with(&["--error-rate", "0.2", "--drop-rate", "0.05"]);
    let w = &sb.w;
    w.write("stack.yaml", &k8s_stack(&sb, true));
    for _ in 0..3 {
        let r = run(
            w,
            &["apply", "stack.yaml", "--auto-approve", "--replace", "pw"],
        );
        assert_eq!(r.code, 0, "{r:?}");
    }
    let state = pulled(w);
    assert!(state["serial"].as_u64().unwrap() >= 3, "{state}");
    let r = run(w, &["plan", "stack.yaml", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(sb.lease().is_none(), "released");
    // The faults really were injected into the API holding state and lock (at least ⌊n·rate⌋
    // of each, the sandbox never falls behind), and survived.
    let r = run(w, &["sandbox", "status", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let s: Json = serde_json::from_str(&r.stdout).expect("status JSON");
    let kube = &s["apis"]["kubernetes"];
    let errors: u64 = kube["errors"]
        .as_object()
        .map(|e| e.values().filter_map(Json::as_u64).sum())
        .unwrap_or(0);
    assert!(errors > 0, "{s}");
    assert!(kube["dropped"].as_u64().unwrap_or(0) > 0, "{s}");
}
