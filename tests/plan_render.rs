//! The three plan renderings: Terraform's look for people, a PR comment, Terraform's plan JSON.

mod plan_render_fixture;
use plan_render_fixture::*;

use mlstack::plan::render::{self, MARKDOWN_LIMIT};
use mlstack::plan::{Action, Plan, PlanMode};
use mlstack::provider_api::{parse_path, Value};
use serde_json::json;

fn human_of(changes: Vec<mlstack::plan::ResourceChange>) -> String {
    render::human(&plan_of(changes), false)
}

/// The block of one resource in human output (from its `#` header to the blank line after).
fn block<'a>(text: &'a str, address: &str) -> &'a str {
    let start = text
        .find(&format!("  # {address} "))
        .unwrap_or_else(|| panic!("no block for {address} in:\n{text}"));
    let rest = &text[start..];
    &rest[..rest.find("\n\n").unwrap_or(rest.len())]
}

#[test]
fn human_create() {
    let out = human_of(vec![create()]);
    let b = block(&out, "db_password");
    assert!(
        b.starts_with(
            "  # db_password will be created\n  + resource \"random_password\" \"db_password\" {"
        ),
        "{b}"
    );
    assert!(b.contains("      + id      = (known after apply)"), "{b}");
    assert!(b.contains("      + length  = 16"), "{b}");
    assert!(b.contains("      + result  = (sensitive value)"), "{b}");
    assert!(
        b.contains("      + keepers = {\n          + rotate = \"2024\"\n        }"),
        "{b}"
    );
    assert!(out.contains("mlstack will perform the following actions:"));
    assert!(out
        .trim_end()
        .ends_with("Plan: 1 to add, 0 to change, 0 to destroy."));
}

#[test]
fn human_update_shows_only_changes_nested() {
    let out = human_of(vec![update()]);
    let b = block(&out, "app_config");
    assert!(
        b.contains("  ~ resource \"local_file\" \"app_config\" {"),
        "{b}"
    );
    // Unchanged attributes are counted, not shown.
    assert!(!b.contains("filename"), "{b}");
    assert!(
        b.contains("        # (3 unchanged attributes hidden)"),
        "{b}"
    );
    // Nested map: added, removed, changed, unchanged counted; non-identifier keys quoted.
    assert!(
        b.contains("          ~ tier                     = \"api\" -> \"web\""),
        "{b}"
    );
    assert!(
        b.contains("          + owner                    = \"ml\""),
        "{b}"
    );
    assert!(
        b.contains("          - \"app.kubernetes.io/name\" = \"model\" -> null"),
        "{b}"
    );
    assert!(
        b.contains("            # (1 unchanged attribute hidden)"),
        "{b}"
    );
    // Lists: element diff, and objects inside lists diffed in place.
    assert!(b.contains("          - 443,\n          + 8443,"), "{b}");
    assert!(
        b.contains("              ~ image = \"model:v1\" -> \"model:v2\""),
        "{b}"
    );
    // Unknown after apply.
    assert!(
        b.contains("      + checksum   = (known after apply)"),
        "{b}"
    );
    assert!(b.contains("      ~ token      = (sensitive value)"), "{b}");
    assert!(out.contains("Plan: 0 to add, 1 to change, 0 to destroy."));
}

#[test]
fn human_multiline_strings_are_a_line_diff() {
    let out = human_of(vec![update()]);
    let b = block(&out, "app_config");
    let expected = "      ~ content    = <<-EOT
            alpha
            beta
            gamma
          - delta
          + DELTA
            epsilon
            zeta
            eta
            # (2 unchanged lines hidden)
        EOT";
    assert!(b.contains(expected), "{b}");
}

#[test]
fn human_replace_names_the_forcing_attribute() {
    let out = human_of(vec![replace(), replace_requested()]);
    let b = block(&out, "k8s_cluster");
    assert!(
        b.starts_with("  # k8s_cluster must be replaced\n-/+ resource"),
        "{b}"
    );
    assert!(
        b.contains("      ~ zone = \"ru-central1-a\" -> \"ru-central1-b\" # forces replacement"),
        "{b}"
    );
    assert!(
        b.contains("      ~ id   = \"cat123\" -> (known after apply)"),
        "{b}"
    );
    let b = block(&out, "admin_password");
    assert!(
        b.starts_with(
            "  # admin_password must be replaced (requested with --replace)\n+/- resource"
        ),
        "{b}"
    );
    assert!(out.contains("-/+ destroy and then create replacement"));
    assert!(out.contains("+/- create replacement and then destroy"));
    assert!(out.contains("Plan: 2 to add, 0 to change, 2 to destroy."));
}

#[test]
fn human_replace_path_not_in_diff_is_still_named() {
    let mut c = replace();
    c.replace_paths = vec![parse_path("name")]; // unchanged attribute
    let out = human_of(vec![c]);
    assert!(out.contains("# forces replacement: name"), "{out}");
}

#[test]
fn human_delete_read_noop() {
    let out = human_of(vec![delete(), read(), noop()]);
    let b = block(
        &out,
        r#"module.monitoring.object["v1/ConfigMap/monitoring/<old>"]"#,
    );
    assert!(
        b.contains("will be destroyed (no longer in the stack)"),
        "{b}"
    );
    assert!(
        b.contains("  - resource \"kubernetes_object\" \"object\" {"),
        "{b}"
    );
    assert!(b.contains("      - kind = \"ConfigMap\" -> null"), "{b}");
    assert!(
        b.contains("          - password = (sensitive value) -> null"),
        "{b}"
    );
    let b = block(&out, "data.zone");
    assert!(b.contains(" <= data \"yandex_zone\" \"zone\" {"), "{b}");
    assert!(b.contains("will be read during apply"), "{b}");
    assert!(!out.contains("network"), "no-ops are not shown:\n{out}");
    assert!(out.contains("Plan: 0 to add, 0 to change, 1 to destroy."));
}

#[test]
fn human_no_changes() {
    let out = human_of(vec![noop()]);
    assert!(
        out.contains("No changes. Your infrastructure matches the configuration."),
        "{out}"
    );
    assert!(!out.contains("Plan:"), "{out}");
}

#[test]
fn human_drift_notes_outputs_warnings() {
    let out = render::human(&full_plan(), false);
    assert!(out.starts_with("Warning: provider kubernetes"), "{out}");
    assert!(
        out.contains("Note: Objects have changed outside of mlstack"),
        "{out}"
    );
    assert!(out.contains("  # app_config has changed"), "{out}");
    assert!(
        out.contains("    # mode was changed by manager \"chmod\""),
        "{out}"
    );
    assert!(out.contains("Changes to Outputs:\n  + api_url     = (known after apply)\n  ~ db_password = (sensitive value)\n"), "{out}");
    assert!(!out.contains("region ="), "unchanged output hidden:\n{out}");
    assert!(out
        .trim_end()
        .ends_with("Plan: 3 to add, 1 to change, 3 to destroy."));
}

#[test]
fn human_colour_only_when_asked() {
    let plan = full_plan();
    assert!(!render::human(&plan, false).contains('\x1b'));
    let coloured = render::human(&plan, true);
    assert!(coloured.contains("\x1b[32m+\x1b[0m"), "{coloured}");
    assert!(coloured.contains("\x1b[33m~\x1b[0m"));
    assert!(coloured.contains("\x1b[31m-\x1b[0m"));
}

#[test]
fn human_escapes_control_characters() {
    let mut c = create();
    c.after = Some(v(json!({"motd": "hi\u{1b}[2J"})));
    let out = human_of(vec![c]);
    assert!(!out.contains('\x1b'), "{out:?}");
}

#[test]
fn renderings_are_deterministic() {
    let plan = full_plan();
    assert_eq!(render::human(&plan, true), render::human(&plan, true));
    assert_eq!(render::markdown(&plan), render::markdown(&plan));
    assert_eq!(
        render::json(&plan).to_string(),
        render::json(&plan).to_string()
    );
}

#[test]
fn sensitive_values_never_appear_anywhere() {
    let plan = full_plan();
    assert_no_secrets("human", &render::human(&plan, false));
    assert_no_secrets("human (colour)", &render::human(&plan, true));
    assert_no_secrets("markdown", &render::markdown(&plan));
    assert_no_secrets(
        "json",
        &serde_json::to_string_pretty(&render::json(&plan)).unwrap(),
    );
}

#[test]
fn sensitive_multiline_is_not_diffed() {
    let mut c = update();
    c.before = Some(v(json!({"key": "a"})).with_sensitive_paths(&[]));
    let mut before = v(json!({}));
    before.set_path(
        &parse_path("key"),
        Value::from("line1\nold-SECRET-token\n").into_sensitive(),
    );
    let mut after = v(json!({}));
    after.set_path(
        &parse_path("key"),
        Value::from("line1\nnew-SECRET-token\n").into_sensitive(),
    );
    c.before = Some(before);
    c.after = Some(after);
    let out = human_of(vec![c]);
    assert!(out.contains("~ key = (sensitive value)"), "{out}");
    assert!(!out.contains("line1"), "{out}");
    assert_no_secrets("human", &out);
}

#[test]
fn markdown_layout() {
    let out = render::markdown(&full_plan());
    let warning = out.find("> [!WARNING]").expect("warning block");
    let summary = out
        .find("**Plan: 3 to add, 1 to change, 3 to destroy.**")
        .expect("summary");
    let first_details = out.find("<details>").expect("details");
    assert!(warning < summary && summary < first_details, "{out}");
    assert!(out.contains("> - `k8s_cluster` replaced"), "{out}");
    assert!(out.contains("| `-/+` replace | 1 |"), "{out}");
    assert!(out.contains("<details><summary><code>-/+</code> <code>k8s_cluster</code> must be replaced</summary>\n\n```diff\n"), "{out}");
    assert!(
        out.contains("!       zone = \"ru-central1-a\" -> \"ru-central1-b\" # forces replacement"),
        "{out}"
    );
    assert!(
        out.contains("Objects have changed outside of mlstack"),
        "{out}"
    );
    // HTML-escaped address in the summary.
    assert!(out.contains("<code>module.monitoring.object[&quot;v1/ConfigMap/monitoring/&lt;old&gt;&quot;]</code>"), "{out}");
    assert!(
        out.trim_end()
            .ends_with("Plan: 3 to add, 1 to change, 3 to destroy."),
        "{out}"
    );
}

#[test]
fn markdown_no_warning_without_destroys() {
    let out = render::markdown(&plan_of(vec![create(), update()]));
    assert!(!out.contains("[!WARNING]"), "{out}");
    let out = render::markdown(&plan_of(vec![noop()]));
    assert!(out.contains("No changes."), "{out}");
    assert!(
        out.trim_end()
            .ends_with("Plan: 0 to add, 0 to change, 0 to destroy."),
        "{out}"
    );
}

#[test]
fn markdown_fence_longer_than_backticks_inside() {
    let mut c = create();
    c.after = Some(v(json!({"script": "echo ```` done", "x": "`"})));
    let out = render::markdown(&plan_of(vec![c]));
    assert!(out.contains("`````diff\n"), "{out}");
}

#[test]
fn markdown_fits_one_comment_with_5000_changes() {
    let mut changes = Vec::new();
    for i in 0..5000 {
        let action = match i % 4 {
            0 => Action::Create,
            1 => Action::Update,
            2 => Action::Delete,
            _ => Action::DeleteThenCreate,
        };
        let mut c = change(
            &format!("module.apps.object[\"apps/v1/Deployment/ns/app-{i:05}\"]"),
            "kubernetes_object",
            action,
        );
        let body =
            v(json!({"spec": {"replicas": i, "image": format!("img:{i}")}, "labels": {"a": "b"}}));
        if action != Action::Create {
            c.before = Some(body.clone());
        }
        if action != Action::Delete {
            let mut after = body;
            after.set_path(
                &parse_path("spec.image"),
                Value::from(format!("img:{}", i + 1)),
            );
            after.set_path(
                &parse_path("secret"),
                Value::from("hunter2-SECRET-create").into_sensitive(),
            );
            c.after = Some(after);
        }
        changes.push(c);
    }
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    let plan = plan_of(changes);
    let out = render::markdown(&plan);
    assert!(
        out.chars().count() <= MARKDOWN_LIMIT,
        "{} chars",
        out.chars().count()
    );
    assert!(out.len() <= MARKDOWN_LIMIT);
    let summary = plan.summary().line();
    assert_eq!(
        summary,
        "Plan: 2500 to add, 1250 to change, 2500 to destroy."
    );
    assert!(
        out.trim_end().ends_with(&summary),
        "{}",
        &out[out.len() - 500..]
    );
    assert!(out.contains("<details>"));
    assert!(out.contains("| Action | Address |"), "overflow table");
    assert!(out.contains("not listed:"), "counts of the rest");
    assert!(out.contains("…and 2480 more"), "warning list capped");
    assert_no_secrets("markdown", &out);
}

#[test]
fn markdown_one_huge_resource_is_cut() {
    let mut c = create();
    let big: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    c.after = Some(v(json!({"content": big})));
    let out = render::markdown(&plan_of(vec![c]));
    assert!(out.len() <= MARKDOWN_LIMIT);
    assert!(out.contains("more lines not shown"), "{}", &out[..500]);
    assert!(out
        .trim_end()
        .ends_with("Plan: 1 to add, 0 to change, 0 to destroy."));
}

#[test]
fn json_shape() {
    let plan = full_plan();
    let j = render::json(&plan);
    assert_eq!(j["format_version"], "1.2");
    assert_eq!(j["mlstack_version"], env!("CARGO_PKG_VERSION"));
    let rc = j["resource_changes"].as_array().unwrap();
    assert_eq!(rc.len(), plan.changes.len(), "no-ops included");
    let by = |addr: &str| rc.iter().find(|r| r["address"] == addr).unwrap().clone();

    let cluster = by("k8s_cluster");
    assert_eq!(cluster["change"]["actions"], json!(["delete", "create"]));
    assert_eq!(cluster["change"]["replace_paths"], json!([["zone"]]));
    assert_eq!(cluster["action_reason"], "replace_because_cannot_update");
    assert_eq!(cluster["change"]["after_unknown"], json!({"id": true}));
    assert_eq!(cluster["change"]["after"]["zone"], "ru-central1-b");
    assert_eq!(cluster["mode"], "managed");
    assert_eq!(cluster["type"], "yandex_kubernetes_cluster");
    assert_eq!(cluster["provider_name"], "yandex");

    let admin = by("admin_password");
    assert_eq!(admin["change"]["actions"], json!(["create", "delete"]));
    assert_eq!(admin["action_reason"], "replace_by_request");
    assert_eq!(
        admin["change"]["before"],
        json!({"length": 20, "result": null})
    );
    assert_eq!(admin["change"]["before_sensitive"], json!({"result": true}));

    let created = by("db_password");
    assert_eq!(created["change"]["actions"], json!(["create"]));
    assert_eq!(created["change"]["before"], json!(null));
    assert_eq!(created["change"]["before_sensitive"], json!(false));
    assert_eq!(
        created["change"]["after_sensitive"],
        json!({"result": true})
    );
    assert_eq!(created["change"]["after_unknown"], json!({"id": true}));

    let deleted = by(r#"module.monitoring.object["v1/ConfigMap/monitoring/<old>"]"#);
    assert_eq!(deleted["module_address"], "module.monitoring");
    assert_eq!(deleted["name"], "object");
    assert_eq!(deleted["index"], "v1/ConfigMap/monitoring/<old>");
    assert_eq!(
        deleted["action_reason"],
        "delete_because_no_resource_config"
    );
    assert_eq!(deleted["change"]["after"], json!(null));

    let data = by("data.zone");
    assert_eq!(data["mode"], "data");
    assert_eq!(data["name"], "zone");
    assert_eq!(data["change"]["actions"], json!(["read"]));

    assert_eq!(by("network")["change"]["actions"], json!(["no-op"]));
    let update = by("app_config");
    assert_eq!(
        update["change"]["after_sensitive"],
        json!({"creds": [false, true], "token": true})
    );

    assert_eq!(j["resource_drift"][0]["address"], "app_config");
    assert_eq!(j["output_changes"]["db_password"]["after"], json!(null));
    assert_eq!(
        j["output_changes"]["db_password"]["after_sensitive"],
        json!(true)
    );
    assert_eq!(j["output_changes"]["api_url"]["after_unknown"], json!(true));
    assert_eq!(j["variables"]["region"]["value"], "ru-central1-a");
    assert_eq!(j["variables"]["db_password"]["value"], json!(null));
    assert_eq!(
        j["variables"]["settings"]["value"],
        json!({"api_key": null, "replicas": 4})
    );
}

#[test]
fn refresh_only_and_destroy_wording() {
    let mut plan = Plan {
        mode: PlanMode::RefreshOnly,
        drift: vec![drift()],
        ..plan_of(vec![])
    };
    let out = render::human(&plan, false);
    assert!(out.contains("This is a refresh-only plan"), "{out}");
    plan.drift.clear();
    plan.mode = PlanMode::Destroy;
    let out = render::human(&plan, false);
    assert!(
        out.contains("No changes. No objects need to be destroyed."),
        "{out}"
    );
}
