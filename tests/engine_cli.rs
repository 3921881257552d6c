//! End-to-end: plan, apply, destroy and saved plans through the real binary, with the built-in
//! `random` and `local` providers doing real work in a scratch directory.

mod common;

use common::{wait_for_file, wait_with_guard, Work};
use std::io::{BufRead, BufReader};
use std::time::Duration;

const BASIC: &str = r#"
stack:
  name: demo
variables:
  greeting:
    type: string
    default: hello
resources:
  password:
    type: random_password
    properties:
      length: 20
  id:
    type: random_id
    properties:
      byte_length: 4
  config:
    type: local_file
    properties:
      filename: out/config.txt
      content: "${var.greeting} ${id.hex}\n"
  secret:
    type: local_file
    properties:
      filename: out/secret.txt
      sensitive_content: ${password.result}
      file_permission: "0600"
outputs:
  suffix:
    value: ${id.hex}
  password:
    value: ${password.result}
    sensitive: true
"#;

fn password_in_state(w: &Work) -> String {
    let state = w.state("demo");
    state["resources"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["address"] == "password"))
        .and_then(|r| r["attributes"]["result"].as_str())
        .map(str::to_string)
        .expect("password in state")
}

#[test]
fn apply_creates_everything_and_the_next_plan_is_empty() {
    let w = Work::new();
    w.write("stack.yaml", BASIC);
    let plan = w.run(&["plan", "stack.yaml", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(
        plan.stdout
            .contains("Plan: 4 to add, 0 to change, 0 to destroy."),
        "{plan:?}"
    );
    assert!(plan.stdout.contains("(known after apply)"), "{plan:?}");

    let apply = w.run(&["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        apply
            .stdout
            .contains("Apply complete! Resources: 4 added, 0 changed, 0 destroyed."),
        "{apply:?}"
    );
    let secret = password_in_state(&w);
    assert_eq!(secret.len(), 20);
    assert_eq!(w.read("out/secret.txt"), secret);
    assert!(w.read("out/config.txt").starts_with("hello "));

    // State file: 0600, with a backup of the previous version.
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(w.path(".mlstack/demo/state.json")).expect("state file");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(w.path(".mlstack/demo/state.json.backup").exists());

    let again = w.run(&["plan", "stack.yaml", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("No changes."), "{again:?}");

    // The secret never appears in any output.
    for args in [
        vec!["plan", "stack.yaml"],
        vec!["plan", "stack.yaml", "--format", "json"],
        vec!["plan", "stack.yaml", "--format", "markdown"],
        vec!["output", "stack.yaml"],
        vec!["output", "stack.yaml", "--json"],
        vec!["state", "show", "stack.yaml", "password"],
    ] {
        let r = w.run(&args);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
        assert!(!r.all().contains(&secret), "{args:?} printed the secret");
    }
    assert!(!apply.all().contains(&secret));
    let shown = w.run(&["output", "stack.yaml", "password", "--show-sensitive"]);
    assert!(shown.stdout.contains(&secret), "{shown:?}");
}

#[test]
fn updates_replacements_and_deletions_are_planned_and_applied() {
    let w = Work::new();
    w.write("stack.yaml", BASIC);
    assert_eq!(w.run(&["apply", "stack.yaml", "--auto-approve"]).code, 0);

    // A variable change updates the file in place.
    let p = w.run(&["plan", "stack.yaml", "--var", "greeting=bonjour"]);
    assert_eq!(p.code, 0, "{p:?}");
    assert!(
        p.stdout.contains("# config will be updated in-place"),
        "{p:?}"
    );
    assert!(
        p.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{p:?}"
    );

    // A new filename forces replacement, naming the attribute.
    let moved = BASIC.replace("out/config.txt", "out/config2.txt");
    w.write("stack.yaml", &moved);
    let p = w.run(&["plan", "stack.yaml"]);
    assert!(p.stdout.contains("# config must be replaced"), "{p:?}");
    assert!(p.stdout.contains("forces replacement"), "{p:?}");
    assert!(p.stdout.contains("filename"), "{p:?}");
    assert!(
        p.stdout
            .contains("Plan: 1 to add, 0 to change, 1 to destroy."),
        "{p:?}"
    );
    let a = w.run(&["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(a.code, 0, "{a:?}");
    assert!(!w.path("out/config.txt").exists());
    assert!(w.path("out/config2.txt").exists());

    // Removing a resource from the stack deletes it.
    let without: String = moved.replace(
        "  config:\n    type: local_file\n    properties:\n      filename: out/config2.txt\n      content: \"${var.greeting} ${id.hex}\\n\"\n",
        "",
    );
    assert_ne!(without, moved);
    w.write("stack.yaml", &without);
    let p = w.run(&["plan", "stack.yaml"]);
    assert!(p.stdout.contains("# config will be destroyed"), "{p:?}");
    assert!(
        p.stdout
            .contains("Plan: 0 to add, 0 to change, 1 to destroy."),
        "{p:?}"
    );
    assert_eq!(w.run(&["apply", "stack.yaml", "--auto-approve"]).code, 0);
    assert!(!w.path("out/config2.txt").exists());
    assert!(!w.state_addresses("demo").contains(&"config".to_string()));
}

#[test]
fn drift_shows_in_the_plan_and_apply_repairs_it() {
    let w = Work::new();
    w.write("stack.yaml", BASIC);
    assert_eq!(w.run(&["apply", "stack.yaml", "--auto-approve"]).code, 0);
    let good = w.read("out/config.txt");
    w.write("out/config.txt", "edited by hand\n");
    let p = w.run(&["plan", "stack.yaml", "--detailed-exitcode"]);
    assert_eq!(p.code, 2, "{p:?}");
    assert!(p.stdout.contains("changed outside"), "{p:?}");
    assert!(p.stdout.contains("edited by hand"), "{p:?}");
    let refresh = w.run(&[
        "plan",
        "stack.yaml",
        "--refresh-only",
        "--detailed-exitcode",
    ]);
    assert_eq!(refresh.code, 2, "{refresh:?}");
    assert_eq!(w.run(&["apply", "stack.yaml", "--auto-approve"]).code, 0);
    assert_eq!(w.read("out/config.txt"), good);
    // A file deleted by hand is created again.
    std::fs::remove_file(w.path("out/secret.txt")).expect("rm");
    let p = w.run(&["plan", "stack.yaml"]);
    assert!(p.stdout.contains("# secret will be created"), "{p:?}");
    assert_eq!(w.run(&["apply", "stack.yaml", "--auto-approve"]).code, 0);
    assert!(w.path("out/secret.txt").exists());
    assert_eq!(
        w.run(&["plan", "stack.yaml", "--detailed-exitcode"]).code,
        0
    );
}

const FAILING: &str = r#"
stack:
  name: demo
resources:
  broken:
    type: local_command
    properties:
      command: ["sh", "-c", "echo it broke >&2; exit 3"]
  after_broken:
    type: local_file
    depends_on: [broken]
    properties:
      filename: out/after.txt
      content: x
  independent:
    type: local_file
    properties:
      filename: out/independent.txt
      content: y
"#;

#[test]
fn a_failure_stops_its_dependents_and_lets_independent_work_finish() {
    let w = Work::new();
    w.write("stack.yaml", FAILING);
    let r = w.run(&["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("broken"), "{r:?}");
    assert!(r.stderr.contains("exit status 3"), "{r:?}");
    assert!(r.stderr.contains("it broke"), "{r:?}");
    assert!(r.stderr.contains("after_broken"), "{r:?}");
    assert!(w.path("out/independent.txt").exists());
    assert!(!w.path("out/after.txt").exists());
    assert_eq!(w.state_addresses("demo"), vec!["independent".to_string()]);
}

fn sleepers(n: usize, log: &str) -> String {
    let mut s = String::from("stack:\n  name: demo\nresources:\n");
    for i in 0..n {
        s.push_str(&format!(
            "  s{i}:\n    type: local_command\n    properties:\n      command: [\"sh\", \"-c\", \"echo start >> {log}; sleep 0.3; echo end >> {log}\"]\n"
        ));
    }
    s
}

#[test]
fn parallelism_bounds_concurrent_work() {
    let w = Work::new();
    let log = w.path("log").display().to_string();
    w.write("stack.yaml", &sleepers(4, &log));
    let r = w.run(&[
        "apply",
        "stack.yaml",
        "--auto-approve",
        "--parallelism",
        "1",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let serial = w.read("log");
    assert_eq!(
        serial,
        "start\nend\n".repeat(4),
        "parallelism 1 must run one at a time"
    );

    let w = Work::new();
    let log = w.path("log").display().to_string();
    w.write("stack.yaml", &sleepers(4, &log));
    let r = w.run(&[
        "apply",
        "stack.yaml",
        "--auto-approve",
        "--parallelism",
        "4",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let parallel = w.read("log");
    assert!(
        parallel.starts_with("start\nstart\n"),
        "independent work must overlap: {parallel}"
    );
}

#[test]
fn destroy_runs_in_reverse_dependency_order() {
    let w = Work::new();
    let log = w.path("log").display().to_string();
    w.write(
        "stack.yaml",
        &format!(
            r#"
stack:
  name: demo
resources:
  base:
    type: local_command
    properties:
      command: ["true"]
      destroy_command: ["sh", "-c", "echo base >> {log}"]
  top:
    type: local_command
    properties:
      command: ["true"]
      destroy_command: ["sh", "-c", "echo top >> {log}"]
      triggers:
        base: ${{base.id}}
"#
        ),
    );
    assert_eq!(w.run(&["apply", "stack.yaml", "--auto-approve"]).code, 0);
    let r = w.run(&["destroy", "stack.yaml", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("Destroy complete! Resources: 2 destroyed."),
        "{r:?}"
    );
    assert_eq!(w.read("log"), "top\nbase\n");
    assert!(w.state_addresses("demo").is_empty());
}

#[test]
fn ctrl_c_waits_for_running_work_and_saves_state() {
    let w = Work::new();
    let started = w.path("started").display().to_string();
    w.write(
        "stack.yaml",
        &format!(
            r#"
stack:
  name: demo
resources:
  slow:
    type: local_command
    properties:
      command: ["sh", "-c", "touch {started}; sleep 1.5"]
  after:
    type: local_file
    depends_on: [slow]
    properties:
      filename: out/after.txt
      content: x
"#
        ),
    );
    let child = w
        .command(&["apply", "stack.yaml", "--auto-approve"])
        .spawn()
        .expect("spawn");
    wait_for_file(&w.path("started"));
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let r = wait_with_guard(child, Duration::from_secs(60));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("interrupted"), "{r:?}");
    assert_eq!(w.state_addresses("demo"), vec!["slow".to_string()]);
    assert!(!w.path("out/after.txt").exists());
}

#[test]
fn a_saved_plan_applies_exactly_and_is_refused_when_stale() {
    let w = Work::new();
    w.write("stack.yaml", BASIC);
    let p = w.run(&[
        "plan",
        "stack.yaml",
        "--out",
        "first.plan",
        "--var",
        "greeting=hi",
    ]);
    assert_eq!(p.code, 0, "{p:?}");
    let stale = w.run(&["plan", "stack.yaml", "--out", "stale.plan"]);
    assert_eq!(stale.code, 0, "{stale:?}");
    let a = w.run(&["apply", "first.plan"]);
    assert_eq!(a.code, 0, "{a:?}");
    assert!(
        w.read("out/config.txt").starts_with("hi "),
        "the saved plan's variables apply"
    );
    let secret = password_in_state(&w);
    assert!(!w.read("first.plan").contains(&secret));
    let r = w.run(&["apply", "stale.plan"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("stale"), "{r:?}");
    // A plan whose stack changed after saving is refused too.
    assert_eq!(
        w.run(&[
            "plan",
            "stack.yaml",
            "--var",
            "greeting=hi",
            "--out",
            "third.plan"
        ])
        .code,
        0
    );
    w.write("stack.yaml", &BASIC.replace("length: 20", "length: 21"));
    let r = w.run(&["apply", "third.plan"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("no longer matches"), "{r:?}");
}

#[test]
fn deleting_everything_is_refused_unless_allowed() {
    let w = Work::new();
    w.write("stack.yaml", BASIC);
    assert_eq!(w.run(&["apply", "stack.yaml", "--auto-approve"]).code, 0);
    w.write("stack.yaml", "stack:\n  name: demo\n");
    let r = w.run(&["plan", "stack.yaml"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("--allow-delete-all"), "{r:?}");
    let ok = w.run(&["plan", "stack.yaml", "--allow-delete-all"]);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(ok.stdout.contains("4 to destroy"), "{ok:?}");
}

#[test]
fn prevent_destroy_blocks_deletion_even_after_leaving_the_stack() {
    let w = Work::new();
    let protected = BASIC.replace(
        "  id:\n    type: random_id\n",
        "  id:\n    type: random_id\n    lifecycle:\n      prevent_destroy: true\n",
    );
    w.write("stack.yaml", &protected);
    assert_eq!(w.run(&["apply", "stack.yaml", "--auto-approve"]).code, 0);
    let r = w.run(&["destroy", "stack.yaml", "--auto-approve"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("prevent_destroy"), "{r:?}");
    assert!(r.stderr.contains("id"), "{r:?}");
    assert_eq!(w.state_addresses("demo").len(), 4, "nothing was destroyed");
}

#[test]
fn target_limits_the_plan_to_a_resource_and_its_dependencies() {
    let w = Work::new();
    w.write("stack.yaml", BASIC);
    let r = w.run(&["plan", "stack.yaml", "--target", "config"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("# config will be created"), "{r:?}");
    assert!(r.stdout.contains("# id will be created"), "{r:?}");
    assert!(!r.stdout.contains("# password"), "{r:?}");
    assert!(r.stdout.contains("Plan: 2 to add"), "{r:?}");
    let bad = w.run(&["plan", "stack.yaml", "--target", "confg"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("did you mean `config`"), "{bad:?}");
}

#[test]
fn replace_flag_regenerates_a_password() {
    let w = Work::new();
    w.write("stack.yaml", BASIC);
    assert_eq!(w.run(&["apply", "stack.yaml", "--auto-approve"]).code, 0);
    let before = password_in_state(&w);
    let r = w.run(&[
        "apply",
        "stack.yaml",
        "--auto-approve",
        "--replace",
        "password",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let after = password_in_state(&w);
    assert_ne!(before, after);
    assert_eq!(
        w.read("out/secret.txt"),
        after,
        "dependents follow the new value"
    );
}

#[test]
fn the_lock_names_its_holder_and_is_honoured() {
    let w = Work::new();
    let started = w.path("started").display().to_string();
    w.write(
        "stack.yaml",
        &format!(
            "stack:\n  name: demo\nresources:\n  slow:\n    type: local_command\n    properties:\n      command: [\"sh\", \"-c\", \"touch {started}; sleep 2\"]\n"
        ),
    );
    let child = w
        .command(&["apply", "stack.yaml", "--auto-approve"])
        .spawn()
        .expect("spawn");
    wait_for_file(&w.path("started"));
    let r = w.run(&["plan", "stack.yaml"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("locked"), "{r:?}");
    assert!(
        r.stderr.contains("apply"),
        "the holder's command is named: {r:?}"
    );
    // A read-only preview does not need the lock.
    let preview = w.run(&["plan", "stack.yaml", "--lock=false"]);
    assert_eq!(preview.code, 0, "{preview:?}");
    // Waiting for the lock succeeds once the holder finishes.
    let waited = w.run(&["plan", "stack.yaml", "--lock-timeout", "30s"]);
    assert_eq!(waited.code, 0, "{waited:?}");
    let first = wait_with_guard(child, Duration::from_secs(60));
    assert_eq!(first.code, 0, "{first:?}");
}

#[test]
fn apply_without_a_terminal_needs_auto_approve() {
    let w = Work::new();
    w.write("stack.yaml", BASIC);
    let r = w.run(&["apply", "stack.yaml"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("--auto-approve"), "{r:?}");
    assert!(w.state_addresses("demo").is_empty());
}

#[test]
fn json_progress_events_are_one_object_per_line() {
    let w = Work::new();
    w.write("stack.yaml", BASIC);
    let mut child = w
        .command(&["apply", "stack.yaml", "--auto-approve", "--json"])
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .collect();
    let r = wait_with_guard(child, Duration::from_secs(60));
    assert_eq!(r.code, 0, "{r:?}");
    let events: Vec<serde_json::Value> = lines
        .iter()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let complete = events
        .iter()
        .filter(|e| e["type"] == "apply_complete")
        .count();
    assert_eq!(complete, 4, "{lines:?}");
}

#[test]
fn colour_follows_no_color_and_the_flag() {
    let w = Work::new();
    w.write("stack.yaml", BASIC);
    let coloured = w
        .command(&["plan", "stack.yaml"])
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&coloured.stdout).contains('\u{1b}'));
    let flag = w
        .command(&["plan", "stack.yaml", "--no-color"])
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .expect("run");
    assert!(!String::from_utf8_lossy(&flag.stdout).contains('\u{1b}'));
    let env = w
        .command(&["plan", "stack.yaml"])
        .env("NO_COLOR", "1")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .expect("run");
    assert!(!String::from_utf8_lossy(&env.stdout).contains('\u{1b}'));
}

#[test]
fn graph_prints_dot_and_mermaid_and_reports_cycles() {
    let w = Work::new();
    w.write("stack.yaml", BASIC);
    let dot = w.run(&["graph", "stack.yaml", "--format", "dot"]);
    assert_eq!(dot.code, 0, "{dot:?}");
    assert!(dot.stdout.starts_with("digraph"), "{dot:?}");
    assert!(dot.stdout.contains("\"config\" -> \"id\""), "{dot:?}");
    let mermaid = w.run(&["graph", "stack.yaml", "--format", "mermaid"]);
    assert!(mermaid.stdout.starts_with("flowchart"), "{mermaid:?}");
    assert!(mermaid.stdout.contains("-->"), "{mermaid:?}");

    w.write(
        "cycle.yaml",
        r#"stack:
  name: demo
resources:
  a:
    type: random_string
    properties:
      length: 4
      keepers: { other: "${b.result}" }
  b:
    type: random_string
    properties:
      length: 4
      keepers: { other: "${c.result}" }
  c:
    type: random_string
    properties:
      length: 4
      keepers: { other: "${a.result}" }
"#,
    );
    for cmd in ["validate", "graph", "plan"] {
        let r = w.run(&[cmd, "cycle.yaml"]);
        assert_eq!(r.code, 1, "{cmd}: {r:?}");
        assert!(
            r.stderr.contains("dependency cycle: a → b → c → a"),
            "{cmd}: {r:?}"
        );
        assert!(r.stderr.contains("cycle.yaml:8:"), "{cmd}: {r:?}");
    }
}

#[test]
fn import_adopts_an_existing_object_and_the_next_plan_previews_it() {
    let w = Work::new();
    w.write(
        "stack.yaml",
        "stack:\n  name: demo\nresources:\n  adopted:\n    type: local_file\n    properties:\n      filename: existing.txt\n      content: \"hello\\n\"\n",
    );
    w.write("existing.txt", "hello\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        w.path("existing.txt"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let bad = w.run(&["import", "stack.yaml", "adopte", "existing.txt"]);
    assert_eq!(bad.code, 1, "{bad:?}");
    assert!(bad.stderr.contains("did you mean `adopted`"), "{bad:?}");
    let r = w.run(&["import", "stack.yaml", "adopted", "existing.txt"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(w.state_addresses("demo"), vec!["adopted".to_string()]);
    let p = w.run(&["plan", "stack.yaml", "--detailed-exitcode"]);
    assert_eq!(p.code, 0, "an identical object needs no change: {p:?}");
    let again = w.run(&["import", "stack.yaml", "adopted", "existing.txt"]);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("already managed"), "{again:?}");
    // A differing object is adopted too, and the plan shows what apply would change.
    w.write("existing.txt", "changed\n");
    let p = w.run(&["plan", "stack.yaml", "--detailed-exitcode"]);
    assert_eq!(p.code, 2, "{p:?}");
    assert!(
        p.stdout.contains("# adopted will be updated in-place"),
        "{p:?}"
    );
}

#[test]
fn schema_describes_sections_and_resource_types() {
    let w = Work::new();
    let r = w.run(&["schema"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json schema");
    assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let sections: Vec<&str> = v["properties"]
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for s in mlstack::stack::keys::STACK_KEYS {
        assert!(sections.contains(s), "{s} missing from {sections:?}");
    }
    let types = &v["properties"]["resources"]["additionalProperties"]["properties"]["type"]["enum"];
    assert!(
        types
            .as_array()
            .is_some_and(|t| t.contains(&serde_json::json!("random_password"))),
        "{types}"
    );
    let text = r.stdout;
    assert!(
        text.contains("\"length\""),
        "per-type properties are described"
    );
}

#[test]
fn secrets_read_by_data_sources_are_used_but_never_stored() {
    let w = Work::new();
    w.write("token.txt", "t0ken-9f8e7d6c5b4a");
    w.write(
        "stack.yaml",
        r#"stack:
  name: demo
data:
  token:
    type: local_sensitive_file
    properties:
      filename: token.txt
resources:
  copy:
    type: local_file
    properties:
      filename: out/token.copy
      sensitive_content: ${data.token.content}
      file_permission: "0600"
"#,
    );
    let r = w.run(&["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.all().contains("t0ken-9f8e7d6c5b4a"));
    assert_eq!(w.read("out/token.copy"), "t0ken-9f8e7d6c5b4a");
    let state = w.read(".mlstack/demo/state.json");
    let data_entry = w.state("demo")["resources"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["address"] == "data.token").cloned())
        .expect("the data source is recorded");
    assert!(
        data_entry["attributes"]["content"].is_null(),
        "{data_entry}"
    );
    // The managed copy is the user's own resource and is kept (state is 0600); the data
    // source's secret is not.
    assert_eq!(
        state.matches("t0ken-9f8e7d6c5b4a").count(),
        1,
        "only the managed copy holds it"
    );
    let p = w.run(&["plan", "stack.yaml", "--detailed-exitcode"]);
    assert_eq!(p.code, 0, "{p:?}");
}

#[test]
fn destroy_and_leaving_the_stack_forget_data_sources() {
    let w = Work::new();
    w.write("in.txt", "read me");
    w.write("secret.txt", "s3cret");
    w.write(
        "modules/reader/module.yaml",
        "inputs:\n  file: {type: string}\noutputs:\n  text: {value: \"${data.src.content}\"}\n",
    );
    w.write(
        "modules/reader/main.yaml.tera",
        "data:\n  src:\n    type: local_file\n    properties:\n      filename: {{ inputs.file }}\n",
    );
    let stack = r#"stack:
  name: demo
variables:
  extra: {type: bool, default: true}
data:
  greeting:
    type: local_file
    properties:
      filename: in.txt
  secret:
    type: local_sensitive_file
    enabled: ${var.extra}
    properties:
      filename: secret.txt
modules:
  reader:
    source: reader
    inputs: {file: in.txt}
resources:
  copy:
    type: local_file
    properties:
      filename: out/copy.txt
      content: "${data.greeting.content} ${module.reader.text}"
"#;
    w.write("stack.yaml", stack);
    let r = w.run(&["apply", "stack.yaml", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(w.read("out/copy.txt"), "read me read me");
    let mut listed = w.state_addresses("demo");
    listed.sort();
    assert_eq!(
        listed,
        [
            "copy",
            "data.greeting",
            "data.secret",
            "module.reader.data.src"
        ]
    );

    // A data source that leaves the stack leaves state with the next apply (nothing to plan).
    let r = w.run(&[
        "apply",
        "stack.yaml",
        "--auto-approve",
        "--var",
        "extra=false",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("0 added, 0 changed, 0 destroyed"),
        "{r:?}"
    );
    assert!(
        !w.state_addresses("demo")
            .contains(&"data.secret".to_string()),
        "{:?}",
        w.state_addresses("demo")
    );

    // Destroy forgets every data source, the module's too: state list is empty.
    let r = w.run(&[
        "destroy",
        "stack.yaml",
        "--auto-approve",
        "--var",
        "extra=false",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("1 destroyed"), "{r:?}");
    let r = w.run(&["state", "list", "stack.yaml"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.trim(), "", "{r:?}");
    assert!(w.state_addresses("demo").is_empty());
    let r = w.run(&["plan", "stack.yaml", "--destroy", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "nothing left to destroy: {r:?}");
}
