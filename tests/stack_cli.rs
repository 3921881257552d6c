//! `mlstack validate` run as a binary on good and bad stacks: exit codes, `file:line:col` and
//! the key words of each diagnostic. Pathological inputs are generated in a temp dir and must
//! fail cleanly (a generous hang guard, no timing assertion).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `mlstack ARGS` from the repository root with colour off; kills it after 20 s.
fn mlstack(args: &[&str]) -> Run {
    let child = Command::new(env!("CARGO_BIN_EXE_mlstack"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("MLSTACK_TEST_SURELY_UNSET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mlstack");
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = std::sync::mpsc::channel();
    // Read both pipes to the end in another thread so a large output cannot block the child.
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(out) => out.expect("output"),
        Err(_) => {
            // SAFETY: `pid` is our own child, still unreaped (its waiter has not returned).
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            panic!("mlstack {args:?} hung for 20 s");
        }
    };
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Text with miette's line wrapping undone (words joined by single spaces, gutters removed).
fn flat(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

fn fails_with(args: &[&str], expected: &[&str]) {
    let run = mlstack(args);
    assert_eq!(run.code, Some(1), "{args:?}\n{}", run.stderr);
    let stderr = flat(&run.stderr);
    for e in expected {
        assert!(
            stderr.contains(&flat(e)),
            "{args:?}: `{e}` not in stderr:\n{}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn valid_stack_passes() {
    let run = mlstack(&["validate", "tests/fixtures/stack/good.yaml"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout.trim(),
        "The stack is valid: 6 resources, 3 outputs."
    );
}

#[test]
fn each_bad_fixture_is_reported_at_its_line() {
    let d = "tests/fixtures/stack";
    let cases: &[(&str, &[&str])] = &[
        (
            "unknown_key.yaml",
            &[
                "unknown_key.yaml:6:5",
                "unknown key `propeties`",
                "did you mean `properties`?",
            ],
        ),
        (
            "unknown_reference.yaml",
            &[
                "unknown_reference.yaml:11:20",
                "unknown reference `db_pasword`",
                "did you mean `db_password`?",
            ],
        ),
        (
            "undeclared_variable.yaml",
            &[
                "undeclared_variable.yaml:10:18",
                "undeclared variable `regoin`",
                "did you mean `region`?",
            ],
        ),
        (
            "wrong_type.yaml",
            &["wrong_type.yaml:6:14", "expected number, found string"],
        ),
        (
            "duplicate_name.yaml",
            &[
                "duplicate_name.yaml:8:3",
                "duplicate name `app`",
                "first defined here",
            ],
        ),
        (
            "unterminated.yaml",
            &["unterminated.yaml:7:22", "unterminated `${` expression"],
        ),
        (
            "invalid_module_input.yaml",
            &[
                "invalid_module_input.yaml:8:17",
                "max: 10",
                "invalid_module_input.yaml:9:7",
                "no input `replica`",
                "2 problems found.",
            ],
        ),
        (
            "missing_module_input.yaml",
            &["missing_module_input.yaml:4:3", "needs input `name`"],
        ),
        (
            "disabled_reference.yaml",
            &["disabled_reference.yaml:14:17", "which is disabled"],
        ),
        (
            "env_not_set.yaml",
            &[
                "env_not_set.yaml:7:18",
                "`MLSTACK_TEST_SURELY_UNSET` is not set",
            ],
        ),
        (
            "module_recursion.yaml",
            &[
                "modules/example-loop/main.yaml.tera (rendered for module.loop):3:13",
                "includes itself",
            ],
        ),
        ("bad_yaml.yaml", &["bad_yaml.yaml:4:4", "invalid YAML"]),
        (
            "duplicate_key.yaml",
            &["duplicate_key.yaml:6:5", "duplicate key `type`"],
        ),
        (
            "missing_variable.yaml",
            &[
                "missing_variable.yaml:4:3",
                "has no value",
                "--var cluster_id=VALUE",
            ],
        ),
        (
            "validation_failed.yaml",
            &[
                "validation_failed.yaml:6:14",
                "fails validation rule",
                "only Yandex Cloud zones",
            ],
        ),
        (
            "invalid_stack_name.yaml",
            &["invalid_stack_name.yaml:2:9", "invalid stack name"],
        ),
        (
            "unknown_attribute.yaml",
            &[
                "unknown_attribute.yaml:7:7",
                "no attribute `lenght`",
                "did you mean `length`?",
            ],
        ),
        (
            "unknown_type.yaml",
            &[
                "unknown_type.yaml:5:11",
                "unknown resource type `random_pasword`",
                "did you mean `random_password`?",
            ],
        ),
        (
            "computed_attribute.yaml",
            &[
                "computed_attribute.yaml:8:7",
                "`result` is set by the provider",
            ],
        ),
        (
            "missing_attribute.yaml",
            &["missing_attribute.yaml:4:3", "needs attribute `length`"],
        ),
        (
            "bad_attribute_reference.yaml",
            &[
                "bad_attribute_reference.yaml:11:17",
                "no attribute `resullt`",
            ],
        ),
        (
            "provider_validation.yaml",
            &["provider_validation.yaml:7:15", "whole number"],
        ),
    ];
    for (file, expected) in cases {
        let path = format!("{d}/{file}");
        fails_with(&["validate", &path], expected);
    }
}

#[test]
fn variables_from_the_command_line_and_files() {
    let stack = "tests/fixtures/stack/vars_stack.yaml";
    let ok = mlstack(&["validate", stack, "--var", "replicas=3"]);
    assert_eq!(ok.code, Some(0), "{}", ok.stderr);
    fails_with(
        &["validate", stack, "--var", "replicas=three"],
        &["variable `replicas` (from --var)", "expected number"],
    );
    fails_with(
        &["validate", stack, "--var", "replica=3"],
        &["undeclared variable `replica`", "did you mean `replicas`?"],
    );
    fails_with(
        &[
            "validate",
            stack,
            "--var-file",
            "tests/fixtures/stack/vars/wrong.yaml",
        ],
        &[
            "tests/fixtures/stack/vars/wrong.yaml:2:11",
            "expected number, found string",
            "tests/fixtures/stack/vars/wrong.yaml:3:1",
            "undeclared variable `zone`",
        ],
    );
    fails_with(&["validate", stack, "--var", "novalue"], &["has no `=`"]);
}

#[test]
fn pathological_files_fail_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        p.display().to_string()
    };
    let mut deep_map = String::from("a: ");
    for _ in 0..20_000 {
        deep_map.push_str("{a: ");
    }
    let mut bomb =
        String::from("stack: {name: b}\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        bomb.push_str(&format!("x{i}: &a{i} [{refs}]\n"));
    }
    let big = {
        let mut s = String::from("stack: {name: big}\n# ");
        s.push_str(&"x".repeat(11 * 1024 * 1024));
        s
    };
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            write("deep_flow.yaml", "[".repeat(20_000).as_bytes()),
            vec!["deep_flow.yaml:1:", "nesting deeper than 200 levels"],
        ),
        (
            write("deep_map.yaml", deep_map.as_bytes()),
            vec!["deep_map.yaml:1:", "nesting deeper than 200 levels"],
        ),
        (
            write("bomb.yaml", bomb.as_bytes()),
            vec!["bomb.yaml:", "alias expansion too large"],
        ),
        (
            write("latin1.yaml", b"stack:\n  name: caf\xe9\n"),
            vec!["not valid UTF-8", "line 2, column 12"],
        ),
        (write("empty.yaml", b"# only a comment\n"), vec!["is empty"]),
        (
            write("big.yaml", big.as_bytes()),
            vec!["too large", "10 MiB"],
        ),
        (dir.path().display().to_string(), vec!["is a directory"]),
        (
            dir.path().join("missing.yaml").display().to_string(),
            vec!["not found"],
        ),
    ];
    for (path, expected) in &cases {
        fails_with(&["validate", path], expected);
    }
    assert!(Path::new(&cases[0].0).exists());
}
