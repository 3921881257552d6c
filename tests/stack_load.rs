//! The stack loader as a library: good stacks load into the expected model, bad ones give
//! diagnostics with the right code and `file:line:col`.

use mlstack::diag::Diagnostics;
use mlstack::provider_api::{parse_path, PathStep, Value};
use mlstack::providers::Registry;
use mlstack::stack::{self, Expr, LoadOptions, Mode, Reference, Stack, TemplatePart};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/stack")
        .join(name)
}

fn repo_modules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("modules")
}

/// A temp dir holding `files` (path → text); returns it and the path of `stack.yaml`.
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

fn load_ok(path: &Path, options: &LoadOptions) -> Stack {
    match stack::load(path, options) {
        Ok(s) => s,
        Err(d) => panic!("expected the stack to load:\n{}", d.render(false)),
    }
}

fn load_err(path: &Path, options: &LoadOptions) -> Diagnostics {
    match stack::load(path, options) {
        Ok(_) => panic!("expected diagnostics for {}", path.display()),
        Err(d) => d,
    }
}

/// `(code, file-name:line:col, message)` of every diagnostic (file name without directories).
fn summary(d: &Diagnostics) -> Vec<(String, String, String)> {
    d.items
        .iter()
        .map(|i| {
            let loc = i.span.map(|s| d.sources.location(s)).unwrap_or_default();
            let loc = loc.rsplit('/').next().unwrap_or(&loc).to_string();
            (i.code.to_string(), loc, i.message.clone())
        })
        .collect()
}

fn has(d: &Diagnostics, code: &str, loc: &str, words: &[&str]) {
    let all = summary(d);
    let found = all
        .iter()
        .any(|(c, l, m)| c == code && l.ends_with(loc) && words.iter().all(|w| m.contains(w)));
    assert!(found, "no {code} at {loc} with {words:?} in {all:#?}");
}

fn single_ref(e: &Expr) -> Option<&Reference> {
    match e {
        Expr::Template(parts, _) => match parts.as_slice() {
            [TemplatePart::Ref(r)] => Some(r),
            _ => None,
        },
        _ => None,
    }
}

fn prop<'a>(s: &'a Stack, address: &str, key: &str) -> &'a Expr {
    let r = s
        .resource(address)
        .unwrap_or_else(|| panic!("no {address}"));
    match &r.properties {
        Expr::Map(m, _) => &m.get(key).unwrap_or_else(|| panic!("no {key}")).1,
        other => panic!("properties of {address} are {other:?}"),
    }
}

#[test]
fn good_fixture_loads_into_the_model() {
    let s = load_ok(&fixture("good.yaml"), &LoadOptions::default());
    assert_eq!(s.name, "demo");
    assert_eq!(s.backend.kind, "local");
    assert_eq!(
        s.backend.config.get("path"),
        Some(&Value::string(".mlstack/demo/state.json"))
    );
    let addresses: Vec<&str> = s.resources.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(
        addresses,
        vec![
            "config",
            "data.ca",
            "db_password",
            "module.app.config",
            "module.app.module.leaf.id",
            "module.app.token",
        ]
    );
    let ca = s.resource("data.ca").expect("data.ca");
    assert_eq!((ca.mode, ca.name.as_str()), (Mode::Data, "ca"));
    assert_eq!(ca.provider, "files");
    let db = s.resource("db_password").expect("db_password");
    assert_eq!(db.provider, "random");
    assert!(db.lifecycle.prevent_destroy);
    assert_eq!(db.lifecycle.ignore_changes, vec![parse_path("keepers.x")]);
    // A whole-string expression keeps the variable's type.
    assert_eq!(
        prop(&s, "db_password", "length"),
        &Expr::Literal(Value::from(24i64), prop(&s, "db_password", "length").span())
    );
    let config = s.resource("config").expect("config");
    assert_eq!(
        config.depends_on,
        vec![
            "db_password".to_string(),
            "module.app.config".into(),
            "module.app.module.leaf.id".into(),
            "module.app.token".into()
        ]
    );
    assert_eq!(
        prop(&s, "config", "filename"),
        &Expr::Literal(
            Value::string("out/ru-central1-a.conf"),
            prop(&s, "config", "filename").span()
        )
    );
    // Sensitive variables stay sensitive inside a string with references; `$${` is literal.
    let content = prop(&s, "config", "content");
    let value = content.eval(&|r| {
        assert_eq!(r.address, "db_password");
        Value::string("pw")
    });
    assert!(value.is_sensitive());
    assert_eq!(
        value.unmarked(),
        &Value::string("password=pw admin=not-a-real-secret home=${HOME}")
    );
    assert!(s.variables["admin_password"].value.is_sensitive());
    assert_eq!(s.variables["region"].origin, "default");
    // Implicit and declared provider blocks.
    assert_eq!(s.providers["files"].type_name, "local");
    assert_eq!(s.providers["random"].type_name, "random");
    assert!(s.providers.contains_key("local"));
    // Outputs: a module output is replaced by its expression.
    let app_file = s
        .outputs
        .iter()
        .find(|o| o.name == "app_file")
        .expect("app_file");
    let r = single_ref(&app_file.value).expect("a reference");
    assert_eq!(r.address, "module.app.config");
    assert_eq!(r.path, parse_path("filename"));
    let tags = s.outputs.iter().find(|o| o.name == "tags").expect("tags");
    assert_eq!(
        tags.value.eval(&|_| Value::Null),
        Value::from(serde_json::json!(["ml", "demo"]))
    );
    assert!(stack::check(&s, &Registry::builtin()).is_empty());
}

#[test]
fn module_instances_expand_with_nested_modules_and_outputs() {
    let text = r#"
stack: { name: mods }
variables:
  pw: { type: string, default: s3cret, sensitive: true }
resources:
  seed: { type: random_string, properties: { length: 8 } }
modules:
  web:
    source: example-app
    inputs:
      name: web
      replicas: 3
      password: "${var.pw}"
      labels: { team: ml }
      upstream: "${seed.result}"
  api:
    source: example-app
    depends_on: [seed]
    inputs:
      name: api
      upstream: "${module.web.settings.path}"
outputs:
  api_settings: { value: "${module.api.settings}" }
  leaf: { value: "${module.web.leaf_hex}" }
  token: { value: "${module.web.token}" }
"#;
    let (_dir, path) = write(&[("stack.yaml", text)]);
    let options = LoadOptions {
        modules_dir: Some(repo_modules()),
        ..LoadOptions::default()
    };
    let s = load_ok(&path, &options);
    let addresses: Vec<&str> = s.resources.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(
        addresses,
        vec![
            "module.api.config",
            "module.api.module.leaf.id",
            "module.api.token",
            "module.web.config",
            "module.web.labels",
            "module.web.module.leaf.id",
            "module.web.token",
            "seed",
        ]
    );
    let leaf = s.resource("module.web.module.leaf.id").expect("leaf");
    assert_eq!(leaf.module_path, vec!["web".to_string(), "leaf".into()]);
    assert_eq!(
        prop(&s, "module.web.module.leaf.id", "prefix").eval(&|_| Value::Null),
        Value::string("web-")
    );
    // Module depends_on reaches every resource inside, nested ones included.
    assert!(s
        .resource("module.api.module.leaf.id")
        .expect("api leaf")
        .depends_on
        .contains(&"seed".to_string()));
    // An input known only after apply is rendered as `${input.NAME}` and resolved to the
    // parent's reference.
    let content = prop(&s, "module.web.config", "content");
    let refs: Vec<&str> = content
        .references()
        .iter()
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(refs, vec!["seed", "module.web.token"]);
    // `${module.web.settings.path}` navigates into the output map onto a reference.
    let api_content = prop(&s, "module.api.config", "content").eval(&|r| {
        if r.address == "module.web.config" && r.path == parse_path("filename") {
            Value::string("WEBFILE")
        } else {
            Value::string("other")
        }
    });
    assert!(api_content
        .as_str()
        .is_some_and(|c| c.contains("upstream=WEBFILE")));
    let settings = s
        .outputs
        .iter()
        .find(|o| o.name == "api_settings")
        .expect("api_settings");
    let v = settings.value.eval(&|_| Value::string("F"));
    assert_eq!(
        v,
        Value::from(serde_json::json!({"name": "api", "path": "F", "replicas": 2}))
    );
    let leaf_out = s.outputs.iter().find(|o| o.name == "leaf").expect("leaf");
    let r = single_ref(&leaf_out.value).expect("ref");
    assert_eq!(r.address, "module.web.module.leaf.id");
    assert_eq!(r.path, vec![PathStep::Key("hex".into())]);
    assert!(stack::check(&s, &Registry::builtin()).is_empty());
    // Rendered templates are registered so diagnostics can point into them.
    let names: Vec<String> = (0..64)
        .filter_map(|i| s.sources.get(i).map(|f| f.name.clone()))
        .collect();
    assert!(names
        .iter()
        .any(|n| n.ends_with("example-app/app.yaml.tera (rendered for module.web)")));
}

#[test]
fn sensitive_module_inputs_never_reach_rendered_text() {
    let module_yaml = "inputs:\n  secret: { type: string, sensitive: true }\noutputs:\n  echo: { value: \"${input.secret}\" }\n";
    let template = "resources:\n  f:\n    type: local_file\n    properties:\n      filename: x\n      content: \"s={{ inputs.secret }}\"\n";
    let stack_text = "stack: {name: s}\nvariables:\n  s: {default: topsecret, sensitive: true}\nmodules:\n  m:\n    source: ./mods/sec\n    inputs: { secret: \"${var.s}\" }\noutputs:\n  o: { value: \"${module.m.echo}\" }\n";
    let (_dir, path) = write(&[
        ("stack.yaml", stack_text),
        ("mods/sec/module.yaml", module_yaml),
        ("mods/sec/main.yaml.tera", template),
    ]);
    let s = load_ok(&path, &LoadOptions::default());
    for i in 0..16 {
        if let Some(f) = s.sources.get(i) {
            if f.name.contains("rendered") {
                assert!(!f.text.contains("topsecret"), "secret in {}", f.name);
            }
        }
    }
    let v = prop(&s, "module.m.f", "content").eval(&|_| Value::Null);
    assert!(v.is_sensitive());
    assert_eq!(v.unmarked(), &Value::string("s=topsecret"));
    assert!(s.outputs[0].value.eval(&|_| Value::Null).is_sensitive());
}

#[test]
fn variable_precedence_and_cli_parsing() {
    let text = "stack: {name: v}\nvariables:\n  n: {type: number, default: 1}\n  l: {type: list(string), default: []}\n  m: {type: map(number)}\n  s: {type: string, default: a}\n";
    let (dir, path) = write(&[
        ("stack.yaml", text),
        ("one.yaml", "n: 2\ns: from-file\nm: {a: 1}\n"),
        ("two.json", "{\"n\": 3}"),
    ]);
    let options = LoadOptions {
        var_files: vec![dir.path().join("one.yaml"), dir.path().join("two.json")],
        vars: vec![
            ("l".into(), "[x, y]".into()),
            ("s".into(), "42".into()),
            ("n".into(), "4.5".into()),
        ],
        ..LoadOptions::default()
    };
    let s = load_ok(&path, &options);
    assert_eq!(s.variables["n"].value.as_f64(), Some(4.5));
    assert_eq!(s.variables["n"].origin, "--var");
    assert_eq!(
        s.variables["l"].value,
        Value::from(serde_json::json!(["x", "y"]))
    );
    assert_eq!(s.variables["s"].value, Value::string("42"));
    assert_eq!(
        s.variables["m"].value,
        Value::from(serde_json::json!({"a": 1}))
    );
    assert!(s.variables["m"].origin.ends_with("one.yaml"));
}

#[test]
fn variable_errors_point_at_their_source() {
    let text =
        "stack: {name: v}\nvariables:\n  n: {type: number, default: 1}\n  req: {type: string}\n";
    let (dir, path) = write(&[("stack.yaml", text), ("bad.yaml", "n: many\nzz: 1\n")]);
    let options = LoadOptions {
        var_files: vec![dir.path().join("bad.yaml")],
        vars: vec![("nope".into(), "1".into()), ("n".into(), "[".into())],
        ..LoadOptions::default()
    };
    let d = load_err(&path, &options);
    has(&d, "undeclared-variable", "bad.yaml:2:1", &["`zz`"]);
    has(&d, "undeclared-variable", "", &["`nope`", "--var"]);
    has(&d, "wrong-type", "", &["--var n", "number"]);
    has(&d, "missing-variable", "stack.yaml:4:3", &["`req`"]);
    // Without the broken --var, the var file's wrong type shows at its line.
    let options = LoadOptions {
        var_files: vec![dir.path().join("bad.yaml")],
        vars: vec![("req".into(), "x".into())],
        ..LoadOptions::default()
    };
    let d = load_err(&path, &options);
    has(
        &d,
        "wrong-type",
        "bad.yaml:1:4",
        &["expected number, found string"],
    );
}

#[test]
fn sensitive_variable_problems_do_not_show_the_value() {
    let text = "stack: {name: v}\nvariables:\n  pw: {type: string, sensitive: true, validation: {min_length: 12}}\n";
    let (dir, path) = write(&[("stack.yaml", text), ("s.yaml", "pw: hunter2\n")]);
    let d = load_err(
        &path,
        &LoadOptions {
            var_files: vec![dir.path().join("s.yaml")],
            ..LoadOptions::default()
        },
    );
    has(
        &d,
        "validation-failed",
        "",
        &["`pw`", "min_length: 12", "s.yaml:1:1"],
    );
    assert!(!d.render(false).contains("hunter2"));
}

#[test]
fn env_references_and_enabled() {
    let text = "stack: {name: e}\nvariables:\n  on: {type: bool, default: false}\nresources:\n  a:\n    type: local_file\n    enabled: ${var.on}\n    properties: {filename: x}\n  b:\n    type: local_file\n    properties: {filename: \"${env.HOME_DIR}/b\"}\n";
    let (_dir, path) = write(&[("stack.yaml", text)]);
    let mut env = BTreeMap::new();
    env.insert("HOME_DIR".to_string(), "/home/u".to_string());
    let s = load_ok(
        &path,
        &LoadOptions {
            env,
            ..LoadOptions::default()
        },
    );
    assert!(s.resource("a").is_none());
    assert_eq!(
        prop(&s, "b", "filename").eval(&|_| Value::Null),
        Value::string("/home/u/b")
    );
    let d = load_err(&path, &LoadOptions::default());
    has(&d, "env-not-set", "stack.yaml:11:29", &["HOME_DIR"]);
}

#[test]
fn enabled_must_be_known_at_load() {
    let text = "stack: {name: e}\nresources:\n  a: {type: random_string, properties: {length: 4}}\n  b:\n    type: random_string\n    enabled: ${a.result}\n    properties: {length: 4}\n";
    let (_dir, path) = write(&[("stack.yaml", text)]);
    let d = load_err(&path, &LoadOptions::default());
    has(&d, "not-known-at-load", "stack.yaml:6:14", &["enabled"]);
}

#[test]
fn reference_paths_and_escapes() {
    let text = r#"stack: {name: p}
resources:
  a: {type: random_string, properties: {length: 4}}
  b:
    type: local_file
    properties:
      filename: '${a.keepers["x.y"][0].z}'
      content: "literal $${not.a.ref} and ${a.result}"
"#;
    let (_dir, path) = write(&[("stack.yaml", text)]);
    let s = load_ok(&path, &LoadOptions::default());
    let r = single_ref(prop(&s, "b", "filename")).expect("ref");
    assert_eq!(
        r.path,
        vec![
            PathStep::Key("keepers".into()),
            PathStep::Key("x.y".into()),
            PathStep::Index(0),
            PathStep::Key("z".into())
        ]
    );
    let loc = s.sources.location(r.span);
    assert!(loc.ends_with("stack.yaml:7:18"), "{loc}");
    let v = prop(&s, "b", "content").eval(&|_| Value::string("R"));
    assert_eq!(v, Value::string("literal ${not.a.ref} and R"));
}

#[test]
fn bad_fixtures_give_located_diagnostics() {
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "unknown_key.yaml",
            "unknown-key",
            "unknown_key.yaml:6:5",
            &["propeties"],
        ),
        (
            "unknown_reference.yaml",
            "unknown-reference",
            "unknown_reference.yaml:11:20",
            &["db_pasword"],
        ),
        (
            "undeclared_variable.yaml",
            "undeclared-variable",
            "undeclared_variable.yaml:10:18",
            &["regoin"],
        ),
        (
            "wrong_type.yaml",
            "wrong-type",
            "wrong_type.yaml:6:14",
            &["expected number"],
        ),
        (
            "duplicate_name.yaml",
            "duplicate-name",
            "duplicate_name.yaml:8:3",
            &["`app`"],
        ),
        (
            "unterminated.yaml",
            "unterminated-expression",
            "unterminated.yaml:7:22",
            &["unterminated"],
        ),
        (
            "invalid_module_input.yaml",
            "invalid-module-input",
            "invalid_module_input.yaml:8:17",
            &["replicas", "max: 10"],
        ),
        (
            "invalid_module_input.yaml",
            "invalid-module-input",
            "invalid_module_input.yaml:9:7",
            &["no input `replica`"],
        ),
        (
            "missing_module_input.yaml",
            "invalid-module-input",
            "missing_module_input.yaml:4:3",
            &["needs input `name`"],
        ),
        (
            "disabled_reference.yaml",
            "disabled-reference",
            "disabled_reference.yaml:14:17",
            &["disabled"],
        ),
        (
            "env_not_set.yaml",
            "env-not-set",
            "env_not_set.yaml:7:18",
            &["MLSTACK_TEST_SURELY_UNSET"],
        ),
        (
            "module_recursion.yaml",
            "module-recursion",
            "(rendered for module.loop):3:13",
            &["module.loop (example-loop) → module.loop.module.again"],
        ),
        (
            "bad_yaml.yaml",
            "yaml-syntax",
            "bad_yaml.yaml:4:4",
            &["invalid YAML"],
        ),
        (
            "duplicate_key.yaml",
            "yaml-duplicate-key",
            "duplicate_key.yaml:6:5",
            &["`type`"],
        ),
        (
            "missing_variable.yaml",
            "missing-variable",
            "missing_variable.yaml:4:3",
            &["cluster_id"],
        ),
        (
            "validation_failed.yaml",
            "validation-failed",
            "validation_failed.yaml:6:14",
            &["allowed"],
        ),
        (
            "invalid_stack_name.yaml",
            "invalid-name",
            "invalid_stack_name.yaml:2:9",
            &["Demo_Stack"],
        ),
    ];
    for (file, code, loc, words) in cases {
        let d = load_err(&fixture(file), &LoadOptions::default());
        has(&d, code, loc, words);
    }
}

#[test]
fn hints_name_the_nearest_choice() {
    let d = load_err(&fixture("unknown_key.yaml"), &LoadOptions::default());
    assert_eq!(
        d.items[0].help.as_deref(),
        Some("did you mean `properties`?")
    );
    let d = load_err(&fixture("unknown_reference.yaml"), &LoadOptions::default());
    let help = d.items[0].help.clone().unwrap_or_default();
    assert!(help.contains("did you mean `db_password`?"), "{help}");
    assert!(
        help.contains("names in the stack: config, db_password"),
        "{help}"
    );
    let d = load_err(&fixture("duplicate_name.yaml"), &LoadOptions::default());
    assert_eq!(d.items[0].related.len(), 1, "the first definition is noted");
}

#[test]
fn check_reports_schema_problems() {
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "unknown_attribute.yaml",
            "unknown-attribute",
            "unknown_attribute.yaml:7:7",
            &["lenght"],
        ),
        (
            "unknown_type.yaml",
            "unknown-resource-type",
            "unknown_type.yaml:5:11",
            &["random_pasword"],
        ),
        (
            "computed_attribute.yaml",
            "computed-attribute",
            "computed_attribute.yaml:8:7",
            &["result"],
        ),
        (
            "missing_attribute.yaml",
            "missing-attribute",
            "missing_attribute.yaml:4:3",
            &["length"],
        ),
        (
            "bad_attribute_reference.yaml",
            "unknown-attribute",
            "bad_attribute_reference.yaml:11:17",
            &["resullt"],
        ),
        (
            "provider_validation.yaml",
            "provider-validation",
            "provider_validation.yaml:7:15",
            &["length"],
        ),
    ];
    for (file, code, loc, words) in cases {
        let s = load_ok(&fixture(file), &LoadOptions::default());
        let problems = stack::check(&s, &Registry::builtin());
        let d = Diagnostics::new(s.sources.clone(), problems);
        assert_eq!(d.items.len(), 1, "{file}: {:#?}", summary(&d));
        has(&d, code, loc, words);
    }
}

#[test]
fn collects_many_problems_without_cascades() {
    let text = r#"stack: {name: many}
variables:
  n: {type: number, default: x}
resources:
  a:
    type: random_string
    propertis: {length: 4}
  b:
    type: local_file
    properties:
      filename: "${var.n}"
      content: "${a.result} ${c.result}"
"#;
    let (_dir, path) = write(&[("stack.yaml", text)]);
    let d = load_err(&path, &LoadOptions::default());
    let codes: Vec<String> = summary(&d)
        .into_iter()
        .map(|(c, l, _)| format!("{c}@{l}"))
        .collect();
    // `var.n` is broken already and `a` exists (its bad key does not make it unknown).
    assert_eq!(
        codes,
        vec![
            "wrong-type@stack.yaml:3:30",
            "unknown-key@stack.yaml:7:5",
            "unknown-reference@stack.yaml:12:29",
        ]
    );
}

#[test]
fn pathological_inputs_fail_cleanly() {
    let deep_flow = "[".repeat(20_000);
    let mut deep_map = "a: ".to_string();
    for _ in 0..20_000 {
        deep_map.push_str("{a: ");
    }
    let mut bomb =
        String::from("stack: {name: b}\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        bomb.push_str(&format!("x{i}: &a{i} [{refs}]\n"));
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("deep_flow.yaml", deep_flow.into_bytes(), "yaml-too-deep"),
        ("deep_map.yaml", deep_map.into_bytes(), "yaml-too-deep"),
        ("bomb.yaml", bomb.into_bytes(), "yaml-alias-bomb"),
        (
            "latin1.yaml",
            b"stack:\n  name: caf\xe9\n".to_vec(),
            "not-utf8",
        ),
        ("empty.yaml", b"# nothing here\n\n".to_vec(), "empty-file"),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, bytes, code) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        let d = load_err(&p, &LoadOptions::default());
        assert_eq!(d.items[0].code, code, "{name}: {}", d.render(false));
    }
    let d = load_err(dir.path(), &LoadOptions::default());
    assert_eq!(d.items[0].code, "not-a-file");
    let d = load_err(&dir.path().join("missing.yaml"), &LoadOptions::default());
    assert_eq!(d.items[0].code, "file-not-found");
    let d = load_err(&dir.path().join("latin1.yaml"), &LoadOptions::default());
    assert!(
        d.items[0].message.contains("line 2, column 12"),
        "{}",
        d.items[0].message
    );
}

#[test]
fn ten_thousand_resources_load() {
    let mut text = String::from("stack:\n  name: big\nresources:\n");
    for i in 0..10_000 {
        text.push_str(&format!(
            "  r{i}:\n    type: local_file\n    depends_on: [r{}]\n    properties:\n      filename: \"out/${{r{}.id}}-{i}.txt\"\n      content: \"x\"\n",
            i.max(1) - 1,
            i.max(1) - 1
        ));
    }
    let (_dir, path) = write(&[("stack.yaml", &text)]);
    let s = load_ok(&path, &LoadOptions::default());
    assert_eq!(s.resources.len(), 10_000);
    assert!(s.resource("r9999").is_some());
    assert!(stack::check(&s, &Registry::builtin()).is_empty());
}

#[test]
fn the_documented_example_is_valid() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/stack-file.md"))
            .expect("docs/stack-file.md");
    let start = doc.find("```yaml\n").expect("an example") + "```yaml\n".len();
    let end = start + doc[start..].find("```").expect("its end");
    let options = LoadOptions {
        vars: vec![("admin_password".into(), "x".into())],
        modules_dir: Some(repo_modules()),
        ..LoadOptions::default()
    };
    let s = stack::load_str(Path::new("docs/stack-file.md"), &doc[start..end], &options)
        .unwrap_or_else(|d| panic!("{}", d.render(false)));
    assert!(stack::check(&s, &Registry::builtin()).is_empty());
    assert!(s.resource("module.app.config").is_some());
}

#[test]
fn a_loaded_stack_can_cross_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Stack>();
    shareable::<Diagnostics>();
}
