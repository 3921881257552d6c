//! Module expansion edge cases: tera errors, disabled instances, instances that depend on each
//! other (in order and in a cycle), inputs of the wrong type, and `load_str`.

use mlstack::diag::Diagnostics;
use mlstack::provider_api::Value;
use mlstack::stack::{self, Expr, LoadOptions, Stack};
use std::path::{Path, PathBuf};

fn write(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
    }
    let stack = dir.path().join("stack.yaml");
    (dir, stack)
}

fn load(path: &Path) -> Result<Stack, Diagnostics> {
    stack::load(path, &LoadOptions::default())
}

fn located(d: &Diagnostics) -> Vec<String> {
    d.items
        .iter()
        .map(|i| {
            let loc = i.span.map(|s| d.sources.location(s)).unwrap_or_default();
            let loc = loc.rsplit('/').next().unwrap_or(&loc).to_string();
            format!("{} {loc} {}", i.code, i.message)
        })
        .collect()
}

const ECHO_MODULE: &str = "inputs:\n  n: {type: number, default: 1}\n  s: {type: string, default: x}\noutputs:\n  file: {value: \"${f.filename}\"}\n  n: {value: \"${input.n}\"}\n";
const ECHO_TEMPLATE: &str = "resources:\n  f:\n    type: local_file\n    properties:\n      filename: \"{{ module.name }}-{{ inputs.s }}.txt\"\n      content: \"n={{ inputs.n }}\"\n";

#[test]
fn tera_errors_name_the_template() {
    let stack = "stack: {name: t}\nmodules:\n  one: {source: broken}\n";
    let (_d, path) = write(&[
        ("stack.yaml", stack),
        ("modules/broken/module.yaml", "description: broken\n"),
        (
            "modules/broken/main.yaml.tera",
            "resources: {{ inputs.nope.deeper }}\n",
        ),
    ]);
    let d = load(&path).expect_err("render error");
    let all = located(&d);
    assert!(
        all.iter()
            .any(|l| l.starts_with("template-error stack.yaml:3:17")
                && l.contains("modules/broken/main.yaml.tera")
                && l.contains("module.one")),
        "{all:#?}"
    );
    let (_d, path) = write(&[
        ("stack.yaml", stack),
        ("modules/broken/module.yaml", "description: broken\n"),
        ("modules/broken/main.yaml.tera", "resources: {% if %}\n"),
    ]);
    let d = load(&path).expect_err("parse error");
    let all = located(&d);
    assert!(
        all.iter()
            .any(|l| l.starts_with("template-error main.yaml.tera:1:1")
                && l.contains("does not parse")),
        "{all:#?}"
    );
}

#[test]
fn rendered_yaml_problems_point_into_the_rendered_text() {
    let stack = "stack: {name: t}\nmodules:\n  one: {source: m}\n";
    let (_d, path) = write(&[
        ("stack.yaml", stack),
        ("modules/m/module.yaml", "{}\n"),
        (
            "modules/m/main.yaml.tera",
            "resources:\n  r:\n    type: local_file\n    propertiez: {filename: \"{{ module.address }}\"}\n",
        ),
    ]);
    let d = load(&path).expect_err("unknown key");
    let all = located(&d);
    assert_eq!(
        all,
        vec!["unknown-key main.yaml.tera (rendered for module.one):4:5 unknown key `propertiez` in resource `r`"]
    );
}

#[test]
fn disabled_modules_leave_nothing_and_cannot_be_referenced() {
    let stack = "stack: {name: t}\nvariables:\n  on: {default: false}\nmodules:\n  a: {source: echo, enabled: \"${var.on}\"}\noutputs:\n  f: {value: \"${module.a.file}\"}\n";
    let (_d, path) = write(&[
        ("stack.yaml", stack),
        ("modules/echo/module.yaml", ECHO_MODULE),
        ("modules/echo/main.yaml.tera", ECHO_TEMPLATE),
    ]);
    let d = load(&path).expect_err("disabled");
    assert_eq!(
        located(&d),
        vec!["disabled-reference stack.yaml:7:15 `module.a.file` refers to module `module.a`, which is disabled"]
    );
    let fixed = stack.replace("outputs:\n  f: {value: \"${module.a.file}\"}\n", "");
    std::fs::write(&path, fixed).expect("write");
    let s = load(&path).expect("loads");
    assert!(s.resources.is_empty());
}

#[test]
fn sibling_instances_load_in_dependency_order() {
    // `b` is written first but takes an input from `a`.
    let stack = "stack: {name: t}\nmodules:\n  b: {source: echo, inputs: {s: \"${module.a.file}\"}}\n  a: {source: echo, inputs: {n: 7}}\noutputs:\n  an: {value: \"${module.a.n}\"}\n";
    let (_d, path) = write(&[
        ("stack.yaml", stack),
        ("modules/echo/module.yaml", ECHO_MODULE),
        ("modules/echo/main.yaml.tera", ECHO_TEMPLATE),
    ]);
    let s = load(&path).unwrap_or_else(|d| panic!("{}", d.render(false)));
    let b = s.resource("module.b.f").expect("module.b.f");
    let Expr::Map(m, _) = &b.properties else {
        panic!("map")
    };
    // The unknown input was rendered as `${input.s}` and resolved to module.a's reference.
    let refs: Vec<&str> = m["filename"]
        .1
        .references()
        .iter()
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(refs, vec!["module.a.f"]);
    assert_eq!(s.outputs[0].value.eval(&|_| Value::Null), Value::from(7i64));
}

#[test]
fn instances_in_a_cycle_are_reported_once() {
    let stack = "stack: {name: t}\nmodules:\n  a: {source: echo, inputs: {s: \"${module.b.file}\"}}\n  b: {source: echo, inputs: {s: \"${module.a.file}\"}}\n";
    let (_d, path) = write(&[
        ("stack.yaml", stack),
        ("modules/echo/module.yaml", ECHO_MODULE),
        ("modules/echo/main.yaml.tera", ECHO_TEMPLATE),
    ]);
    let d = load(&path).expect_err("cycle");
    assert_eq!(
        located(&d),
        vec!["module-cycle stack.yaml:3:3 module instances depend on each other: module.a → module.b → module.a"]
    );
}

#[test]
fn input_types_are_checked_even_when_known_only_after_apply() {
    let stack = "stack: {name: t}\nresources:\n  r: {type: random_string, properties: {length: 4}}\nmodules:\n  a: {source: echo, inputs: {n: \"id-${r.result}\", s: [1]}}\n";
    let (_d, path) = write(&[
        ("stack.yaml", stack),
        ("modules/echo/module.yaml", ECHO_MODULE),
        ("modules/echo/main.yaml.tera", ECHO_TEMPLATE),
    ]);
    let d = load(&path).expect_err("types");
    let all = located(&d);
    assert_eq!(
        all,
        vec![
            "invalid-module-input stack.yaml:5:33 wrong type for input `n` of module.a: expected number, found string",
            "invalid-module-input stack.yaml:5:54 wrong type for input `s` of module.a: expected string, found list",
        ]
    );
}

#[test]
fn load_str_needs_no_file() {
    let s = stack::load_str(
        Path::new("inline.yaml"),
        "stack: {name: inline}\nresources:\n  r: {type: random_id, properties: {byte_length: 4}}\n",
        &LoadOptions::default(),
    )
    .expect("loads");
    assert_eq!(s.resources[0].address, "r");
    assert_eq!(s.sources.location(s.resources[0].span), "inline.yaml:3:3");
}
