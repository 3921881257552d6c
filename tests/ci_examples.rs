//! The CI examples cannot rot: every `mlstack-ci.sh` command the GitHub and GitLab pipelines
//! under examples/ci/ run is run here, on a real stack, with the real binary: a preview keeps
//! its exit-code promise (changes pending is not a failure), writes one Markdown comment per
//! stack with its marker and the right label, holds no lock, and never prints a secret; apply
//! applies; the drift check tells in-sync (0) from drifted (2) from broken (1).

mod common;

use common::{bin, wait_with_guard, Run, Work};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/ci/mlstack-ci.sh")
}

/// Runs the CI script the way the pipelines do, in `w`.
fn ci(w: &Work, args: &[&str]) -> Run {
    let child = Command::new("bash")
        .arg(script())
        .args(args)
        .current_dir(w.dir.path())
        .env("MLSTACK", bin())
        .env("NO_COLOR", "1")
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
