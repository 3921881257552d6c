//! The JSON field names the provider reads from the API's answers, held to the published
//! API (tests/fixtures/yandex_api/rest.json): every API path the source reads
//! (`text(api, "/master/endpoints/externalV4Endpoint")`, `pointer("/versionInfo/currentVersion")`,
//! `.copy("zone", h, "zoneId")`, `.get("camelCaseName")`) must be a field path of some
//! published message. The requests it writes are checked on the wire (`common::Rig`).

mod common;

use common::published_api;
use std::path::{Path, PathBuf};

/// The string literal starting at `s` (just after the opening quote), unescaped enough for
/// field names.
fn literal(s: &str) -> Option<&str> {
    s.find('"').map(|end| &s[..end])
}

/// (file:line, what it reads) for every API read found in `text`.
fn reads(file: &str, text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // The unit tests at the bottom of a file speak in fixtures, not reads.
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    for (n, line) in code.lines().enumerate() {
        let at = format!("{file}:{}", n + 1);
        let mut push = |s: &str| out.push((at.clone(), s.to_string()));
        for (i, _) in line.match_indices("pointer(\"") {
            if let Some(l) = literal(&line[i + 9..]).filter(|_| !of_attributes(&line[..i])) {
                push(l);
            }
        }
        for pat in ["text(api, \"", "text(&api, \""] {
            for (i, _) in line.match_indices(pat) {
                if let Some(l) = literal(&line[i + pat.len()..]) {
                    push(l);
                }
            }
        }
        for (i, _) in line.match_indices(".get(\"") {
            if let Some(l) = literal(&line[i + 6..]) {
                if l.chars().any(|c| c.is_ascii_uppercase()) {
                    push(l);
                }
            }
        }
        // `.copy(attr, from, "apiField")`: a read when the attribute is the provider's
        // (no capitals); the other direction writes a request, checked on the wire.
        for (i, _) in line.match_indices(".copy(\"") {
            let rest = &line[i + 7..];
            let Some(key) = literal(rest) else { continue };
            if key.chars().any(|c| c.is_ascii_uppercase()) {
                continue;
            }
            if let Some(q) = rest[key.len() + 1..].find(", \"") {
                let from = &rest[key.len() + 1..key.len() + 1 + q];
                let tail = &rest[key.len() + 1 + q + 3..];
                if let Some(src) = literal(tail).filter(|_| !of_attributes(from)) {
                    push(src);
                }
            }
        }
    }
    out
}

/// The provider's own values (desired, planned, prior attributes), not API answers.
const ATTRIBUTE_VARS: &[&str] = &["d", "desired", "planned", "prior", "attrs"];

/// Whether the expression ending `before` (`d.` of `d.pointer(`, `, d` of a copy) names
/// one of [`ATTRIBUTE_VARS`].
fn of_attributes(before: &str) -> bool {
    let t = before.trim_end_matches('.').trim_end();
    let ident: String = t
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    ATTRIBUTE_VARS.contains(&ident.as_str())
}

/// snake_case segments are the provider's own attributes (`/scheduling_policy/preemptible`).
fn is_attribute_path(segs: &[&str]) -> bool {
    segs.iter().any(|s| {
        s.as_bytes()
            .windows(2)
            .any(|w| w[0] == b'_' && w[1].is_ascii_lowercase())
    })
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("tests.rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_field_the_provider_reads_is_published() {
    let api = published_api();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    files.sort();
    let mut checked = 0;
    let mut problems = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let name = f.strip_prefix(&root).unwrap().display().to_string();
        for (at, read) in reads(&name, &text) {
            let segs: Vec<&str> = read.split('/').filter(|s| !s.is_empty()).collect();
            if segs.is_empty() || is_attribute_path(&segs) {
                continue;
            }
            checked += 1;
            if !api.resolves(&segs) {
                problems.push(format!(
                    "{at}: reads {read}, which no published message has"
                ));
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} reads found: the scanner broke"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_scanner_finds_reads_and_the_check_refuses_unknown_ones() {
    let src = r#"let e = text(api, "/master/endpoints/externalV4Endpoint");
        let x = api.pointer("/versionInfo/currentVersion");
        Obj::new().copy("zone", h, "zoneId").copy("zoneId", d, "zone");
        let y = api.get("nodeServiceAccountId");
        let z = t.pointer("/scheduling_policy/preemptible");
        let w = d.pointer("/versioning/enabled");
        o.copy("name", d, "bucket");"#;
    let found: Vec<String> = reads("x.rs", src).into_iter().map(|(_, r)| r).collect();
    assert_eq!(
        found,
        [
            "/master/endpoints/externalV4Endpoint",
            "/versionInfo/currentVersion",
            "zoneId",
            "nodeServiceAccountId",
            "/scheduling_policy/preemptible"
        ]
    );
    let api = published_api();
    assert!(api.resolves(&["master", "endpoints", "externalV4Endpoint"]));
    assert!(!api.resolves(&["master", "endpoints", "externalV4Endpiont"]));
    assert!(!api.resolves(&["masterAuth", "clusterCaCertificate", "pem"]));
    assert!(is_attribute_path(&["scheduling_policy", "preemptible"]));
    assert!(!is_attribute_path(&["config", "kafkaConfig_3"]));
}
