//! The CI examples cannot rot: every `mlstack-ci.sh` command the GitHub and GitLab pipelines
//! under examples/ci/ run is run here, on a real stack, with the real binary: a preview keeps
//! its exit-code promise (changes pending is not a failure), writes one Markdown comment per
//! stack with its marker and the right label, holds no lock, and never prints a secret; apply
//! applies; the drift check tells in-sync (0) from drifted (2) from broken (1).

mod common;

use common::moto::Moto;
use common::{bin, tool, wait_with_guard, Run, SandboxDown, Work};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/ci/mlstack-ci.sh")
}

/// Runs the CI script the way the pipelines do, in `w`.
fn ci(w: &Work, args: &[&str]) -> Run {
    ci_with(w, args, &[])
}

/// [`ci`] with the environment a pipeline sets (credentials, the state key, extra arguments).
fn ci_with(w: &Work, args: &[&str], env: &[(&str, &str)]) -> Run {
    let child = Command::new("bash")
        .arg(script())
        .args(args)
        .current_dir(w.dir.path())
        .env("MLSTACK", bin())
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .env_remove("AWS_SESSION_TOKEN")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bash");
    wait_with_guard(child, Duration::from_secs(120))
}

const STACK: &str = r#"
stack:
  name: ci-example
variables:
  greeting:
    type: string
    default: hello
  keep_extra:
    type: bool
    default: true
resources:
  token:
    type: random_password
    properties: { length: 20, special: false }
  config:
    type: local_file
    properties:
      filename: out/config.txt
      content: "greeting=${var.greeting}\n"
  extra:
    type: local_file
    enabled: ${var.keep_extra}
    properties:
      filename: out/extra.txt
      sensitive_content: ${token.result}
"#;

#[test]
fn the_pipelines_commands_preview_apply_and_detect_drift() {
    let w = Work::new();
    w.write("stacks/app.yaml", STACK);

    // First preview: everything is new; changes pending is success for the check.
    let r = ci(&w, &["preview", "stacks/app.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(w.read(".mlstack-ci/app.exit").trim(), "2");
    assert_eq!(
        w.read(".mlstack-ci/app.label").trim(),
        "mlstack:add-or-update"
    );
    let md = w.read(".mlstack-ci/app.md");
    assert!(
        md.starts_with("<!-- mlstack plan: stacks/app.yaml -->\n"),
        "{md}"
    );
    assert!(md.contains("3 to add"), "{md}");
    assert!(md.len() <= 65_536);
    // A preview takes no lock and writes no state.
    assert!(!w.path(".mlstack/ci-example/state.json").exists());

    // Apply on merge.
    let r = ci(&w, &["apply", "stacks/app.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    let secret = w.read("out/extra.txt");
    assert_eq!(secret.len(), 20);

    let r = ci(&w, &["preview", "stacks/app.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(w.read(".mlstack-ci/app.exit").trim(), "0");
    assert_eq!(w.read(".mlstack-ci/app.label").trim(), "mlstack:no-changes");

    // Nightly drift check: in sync, then drifted after an out-of-band edit.
    let r = ci(&w, &["drift", "stacks/app.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    w.write("out/config.txt", "greeting=edited by hand\n");
    let r = ci(&w, &["drift", "stacks/app.yaml"]);
    assert_eq!(r.code, 2, "{r:?}");
    let drift = w.read(".mlstack-ci/app-drift.md");
    assert!(drift.contains("config"), "{drift}");

    // A pull request that removes a resource is labelled as a destroy.
    w.write(
        "stacks/app.yaml",
        &STACK.replace("default: true", "default: false"),
    );
    let r = ci(&w, &["preview", "stacks/app.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(w.read(".mlstack-ci/app.label").trim(), "mlstack:destroy");
    let md = w.read(".mlstack-ci/app.md");
    assert!(!md.contains(&secret), "the comment leaks the secret");

    // A broken stack fails the check, and the comment says why.
    w.write(
        "stacks/app.yaml",
        "stack: {name: ci-example}\nresources: {x: {type: nope}}\n",
    );
    let r = ci(&w, &["preview", "stacks/app.yaml"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(w.read(".mlstack-ci/app.label").trim(), "mlstack:error");
    assert!(w.read(".mlstack-ci/app.md").contains("plan failed"));
    let r = ci(&w, &["drift", "stacks/app.yaml"]);
    assert_eq!(r.code, 1, "{r:?}");
}

/// Every call of the script in the pipeline files uses a command this test runs.
#[test]
fn the_pipelines_call_only_tested_commands() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/ci");
    let files = [
        "github/mlstack.yml",
        "github/mlstack-drift.yml",
        "gitlab/.gitlab-ci.yml",
    ];
    let mut seen = std::collections::BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(root.join(f)).expect(f);
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        for (i, _) in code.match_indices("mlstack-ci.sh ") {
            let cmd: String = code[i + "mlstack-ci.sh ".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            assert!(
                ["preview", "apply", "drift"].contains(&cmd.as_str()),
                "{f} runs an untested command `{cmd}`"
            );
            seen.insert(cmd);
        }
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
}

const STATE_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The pipelines' environment for remote state: the bucket's keys and the state key, as the
/// workflow files pass them from secrets.
const REMOTE_ENV: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("MLSTACK_STATE_KEY", STATE_KEY),
];

#[test]
fn the_pipelines_commands_work_on_encrypted_state_in_a_bucket() {
    let moto = Moto::start();
    let bucket = moto.bucket("ci-state");
    let w = Work::new();
    let backend = format!(
        "backend:\n  s3:\n    bucket: ci-state\n    key: ci/app.json\n    endpoint: {}\n    region: us-east-1\n    encryption: {{key_env: MLSTACK_STATE_KEY}}\nvariables:",
        moto.endpoint
    );
    w.write(
        "stacks/app.yaml",
        &STACK.replacen("variables:", &backend, 1),
    );
    let ci = |args: &[&str]| ci_with(&w, args, REMOTE_ENV);
    let stored = || bucket.client().get("ci/app.json").unwrap();

    let r = ci(&["preview", "stacks/app.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(w.read(".mlstack-ci/app.exit").trim(), "2");
    assert_eq!(
        w.read(".mlstack-ci/app.label").trim(),
        "mlstack:add-or-update"
    );
    assert!(w.read(".mlstack-ci/app.md").contains("3 to add"));
    // The saved plan (a CI artifact) is encrypted with the state key; the preview wrote no
    // state and left no lock.
    assert!(w.read(".mlstack-ci/app.plan").contains("\"encrypted\""));
    assert!(stored().is_none());
    assert!(bucket.client().get("ci/app.json.lock").unwrap().is_none());

    let r = ci(&["apply", "stacks/app.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    let secret = w.read("out/extra.txt");
    assert_eq!(secret.len(), 20);
    let object = String::from_utf8(stored().expect("state in the bucket")).unwrap();
    assert!(object.contains("mlstack_encrypted") && !object.contains(&secret));
    assert!(bucket.client().get("ci/app.json.lock").unwrap().is_none());

    let r = ci(&["preview", "stacks/app.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(w.read(".mlstack-ci/app.label").trim(), "mlstack:no-changes");
    let r = ci(&["drift", "stacks/app.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    w.write("out/config.txt", "greeting=edited by hand\n");
    let r = ci(&["drift", "stacks/app.yaml"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(w.read(".mlstack-ci/app-drift.md").contains("config"));

    // Without the state key, the check fails and says which variable to set.
    let r = ci_with(
        &w,
        &["preview", "stacks/app.yaml"],
        &[
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(w.read(".mlstack-ci/app.md").contains("MLSTACK_STATE_KEY"));
    for f in ["app.md", "app.txt", "app-drift.md", "app-drift.txt"] {
        assert!(
            !w.read(&format!(".mlstack-ci/{f}")).contains(&secret),
            "{f}"
        );
    }
}

const K8S_STACK: &str = r#"
stack:
  name: ci-k8s
backend:
  kubernetes:
    encryption: {key_env: MLSTACK_STATE_KEY}
variables:
  greeting:
    type: string
    default: hello
resources:
  token:
    type: random_password
    properties: { length: 20, special: false }
  app:
    type: kubernetes_manifests
    properties:
      manifests:
        - apiVersion: v1
          kind: Namespace
          metadata: {name: ci-app}
        - apiVersion: v1
          kind: ConfigMap
          metadata: {name: settings, namespace: ci-app}
          data: {greeting: "${var.greeting}"}
"#;

#[test]
fn the_pipelines_commands_work_in_the_sandbox_with_state_in_the_cluster() {
    let w = Work::new();
    let _down = SandboxDown(&w);
    w.write("stacks/app.yaml", K8S_STACK);
    let env = [
        ("MLSTACK_STATE_KEY", STATE_KEY),
        ("MLSTACK_EXTRA_ARGS", "--sandbox"),
    ];
    let ci = |args: &[&str]| ci_with(&w, args, &env);

    let r = ci(&["preview", "stacks/app.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(w.read(".mlstack-ci/app.exit").trim(), "2");
    assert!(w.read(".mlstack-ci/app.md").contains("3 to add"));
    let r = ci(&["apply", "stacks/app.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = ci(&["preview", "stacks/app.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(w.read(".mlstack-ci/app.label").trim(), "mlstack:no-changes");
    let r = ci(&["drift", "stacks/app.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");

    // Someone edits the ConfigMap by hand: the nightly check reports drift.
    let kc = w.run(&["sandbox", "kubeconfig"]);
    assert_eq!(kc.code, 0, "{kc:?}");
    let kc = w.write("kc", &kc.stdout);
    let out = Command::new(tool("kubectl"))
        .args(["--kubeconfig", &kc.display().to_string()])
        .args(["--cache-dir", &w.path("kcache").display().to_string()])
        .args([
            "-n",
            "ci-app",
            "patch",
            "configmap",
            "settings",
            "--type=merge",
        ])
        .args(["-p", r#"{"data":{"greeting":"edited by hand"}}"#])
        .env("HOME", w.path("home"))
        .output()
        .expect("kubectl");
    assert!(out.status.success(), "{out:?}");
    let r = ci(&["drift", "stacks/app.yaml"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(w.read(".mlstack-ci/app-drift.md").contains("settings"));

    // The state is in the cluster, encrypted; the generated token is in no Secret in clear.
    let pulled = w
        .command(&["state", "pull", "stacks/app.yaml"])
        .env("MLSTACK_STATE_KEY", STATE_KEY)
        .output()
        .unwrap();
    assert!(pulled.status.success(), "{pulled:?}");
    let state: serde_json::Value = serde_json::from_slice(&pulled.stdout).unwrap();
    let token = state["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["address"] == "token"))
        .and_then(|r| r["attributes"]["result"].as_str())
        .unwrap()
        .to_string();
    let secrets = Command::new(tool("kubectl"))
        .args(["--kubeconfig", &kc.display().to_string()])
        .args(["--cache-dir", &w.path("kcache").display().to_string()])
        .args(["get", "secrets", "-A", "-o", "json"])
        .env("HOME", w.path("home"))
        .output()
        .expect("kubectl");
    let text = String::from_utf8_lossy(&secrets.stdout).to_string();
    assert!(text.contains("mlstack-state-ci-k8s"), "{text}");
    for item in serde_json::from_str::<serde_json::Value>(&text).unwrap()["items"]
        .as_array()
        .unwrap()
    {
        use base64::Engine;
        for v in item["data"].as_object().into_iter().flatten() {
            let data = base64::engine::general_purpose::STANDARD
                .decode(v.1.as_str().unwrap())
                .unwrap();
            assert!(!String::from_utf8_lossy(&data).contains(&token));
        }
    }
}
