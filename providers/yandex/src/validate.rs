//! Static checks the API would reject: name patterns, zones, CIDR ranges, the scale policy's
//! single kind, enumerations and password lengths. Unknown values are not checked.

use mlstack_provider_api::{PathStep, ValidationIssue, Value};

fn issue(path: &[&str], message: String, hint: Option<&str>) -> ValidationIssue {
    ValidationIssue {
        path: path.iter().map(|s| PathStep::Key(s.to_string())).collect(),
        message,
        hint: hint.map(str::to_string),
    }
}

fn text<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut cur = v;
    for p in path {
        cur = cur.unmarked().get(p)?;
    }
    cur.unmarked().as_str()
}

fn number(v: &Value, path: &[&str]) -> Option<f64> {
    let mut cur = v;
    for p in path {
        cur = cur.unmarked().get(p)?;
    }
    cur.unmarked().as_f64()
}

/// `[a-z]([-a-z0-9]{0,61}[a-z0-9])?`: the names of networks, subnets, accounts, clusters.
pub fn is_cloud_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
}

/// `[a-zA-Z0-9_]+`, at most 63: Kafka and PostgreSQL users, PostgreSQL databases.
fn is_db_name(name: &str, dash: bool) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || (dash && c == b'-'))
}

/// An IPv4 CIDR `a.b.c.d/n`; the prefix length when well-formed.
pub fn cidr_prefix(cidr: &str) -> Option<u8> {
    let (ip, len) = cidr.split_once('/')?;
    let octets: Vec<&str> = ip.split('.').collect();
    if octets.len() != 4 || octets.iter().any(|o| o.parse::<u8>().is_err()) {
        return None;
    }
    len.parse::<u8>().ok().filter(|n| *n <= 32)
}

const ZONES: &[&str] = &["ru-central1-a", "ru-central1-b", "ru-central1-d"];

fn check_zone(props: &Value, path: &[&str], out: &mut Vec<ValidationIssue>) {
    if let Some(z) = text(props, path) {
        if !ZONES.contains(&z) {
            out.push(issue(
                path,
                format!("`{z}` is not an availability zone"),
                Some("ru-central1-a, ru-central1-b or ru-central1-d"),
            ));
        }
    }
}

fn check_enum(props: &Value, path: &[&str], allowed: &[&str], out: &mut Vec<ValidationIssue>) {
    if let Some(v) = text(props, path) {
        if !allowed.contains(&v) {
            out.push(issue(
                path,
                format!("`{v}` is not one of {}", allowed.join(", ")),
                None,
            ));
        }
    }
}

fn check_name(props: &Value, key: &str, out: &mut Vec<ValidationIssue>) {
    if let Some(n) = text(props, &[key]) {
        if !is_cloud_name(n) {
            out.push(issue(
                &[key],
                format!("`{n}` is not a valid name"),
                Some("lowercase letters, digits and dashes, starting with a letter, at most 63"),
            ));
        }
    }
}

fn check_password(props: &Value, out: &mut Vec<ValidationIssue>) {
    if let Some(p) = text(props, &["password"]) {
        let n = p.chars().count();
        if !(8..=128).contains(&n) {
            // The value is secret: say only how long it is.
            out.push(issue(
                &["password"],
                format!("the password has {n} characters; 8 to 128 are needed"),
                None,
            ));
        }
    }
}

fn check_cidrs(props: &Value, out: &mut Vec<ValidationIssue>) {
    let Some(list) = props.get("v4_cidr_blocks").map(Value::unmarked) else {
        return;
    };
    let Some(items) = list.as_list() else {
        return;
    };
    if items.is_empty() {
        out.push(issue(
            &["v4_cidr_blocks"],
            "a subnet needs at least one IPv4 range".into(),
            None,
        ));
    }
    for item in items {
        let Some(c) = item.unmarked().as_str() else {
            continue;
        };
        match cidr_prefix(c) {
            None => out.push(issue(
                &["v4_cidr_blocks"],
                format!("`{c}` is not an IPv4 CIDR"),
                Some("e.g. 10.10.0.0/24"),
            )),
            Some(n) if !(16..=28).contains(&n) => out.push(issue(
                &["v4_cidr_blocks"],
                format!("`{c}`: a subnet is /16 to /28"),
                None,
            )),
            _ => {}
        }
    }
}

fn check_scale_policy(props: &Value, out: &mut Vec<ValidationIssue>) {
    let Some(sp) = props.get("scale_policy").map(Value::unmarked) else {
        return;
    };
    if sp.is_unknown() {
        return;
    }
    let fixed = sp.get("fixed_scale").is_some();
    let auto = sp.get("auto_scale").is_some();
    if fixed == auto {
        out.push(issue(
            &["scale_policy"],
            "the scale policy needs exactly one of `fixed_scale` and `auto_scale`".into(),
            Some("fixed_scale: {size: 3} or auto_scale: {min: 1, max: 5, initial: 2}"),
        ));
        return;
    }
    if auto {
        let at = |k| number(sp, &["auto_scale", k]);
        let (min, max, initial) = (at("min"), at("max"), at("initial"));
        if let (Some(min), Some(max)) = (min, max) {
            if min > max {
                out.push(issue(
                    &["scale_policy", "auto_scale"],
                    format!("min ({min}) must not exceed max ({max})"),
                    None,
                ));
            }
            if let Some(i) = initial.filter(|i| *i < min || *i > max) {
                out.push(issue(
                    &["scale_policy", "auto_scale", "initial"],
                    format!("initial ({i}) must lie between min ({min}) and max ({max})"),
                    None,
                ));
            }
        }
        if sp.get("auto_scale").and_then(|a| a.get("max")).is_none() {
            out.push(issue(
                &["scale_policy", "auto_scale"],
                "auto_scale needs `max`".into(),
                None,
            ));
        }
    }
}

fn check_member(props: &Value, out: &mut Vec<ValidationIssue>) {
    if let Some(m) = text(props, &["member"]) {
        let ok = m.split_once(':').is_some_and(|(kind, id)| {
            !id.is_empty()
                && [
                    "serviceAccount",
                    "userAccount",
                    "federatedUser",
                    "group",
                    "system",
                ]
                .contains(&kind)
        });
        if !ok {
            out.push(issue(
                &["member"],
                format!("`{m}` is not a member"),
                Some("serviceAccount:${sa.id}, userAccount:<id>, group:<id>, system:allUsers"),
            ));
        }
    }
}

/// Whether `path` is allowed by the nested attribute patterns.
fn nested_allowed(patterns: &[&str], path: &str) -> bool {
    patterns.iter().any(|p| match p.strip_suffix(".*") {
        Some(base) => {
            path == base
                || path.starts_with(&format!("{base}."))
                || base.starts_with(&format!("{path}."))
        }
        None => *p == path || p.starts_with(&format!("{path}.")),
    })
}

/// The keys allowed right below `path` (for the hint).
fn nested_children(patterns: &[&str], path: &str) -> Vec<String> {
    let mut out: Vec<String> = patterns
        .iter()
        .filter_map(|p| p.strip_prefix(&format!("{path}.")))
        .map(|rest| rest.split('.').next().unwrap_or(rest).to_string())
        .filter(|k| k != "*")
        .collect();
    out.dedup();
    out
}

/// Unknown keys inside nested blocks (`master.publicip`).
fn check_nested(
    patterns: &[&str],
    v: &Value,
    at: &mut Vec<PathStep>,
    dotted: &str,
    out: &mut Vec<ValidationIssue>,
) {
    match v.unmarked() {
        Value::Map(m) => {
            for (k, x) in m {
                let p = format!("{dotted}.{k}");
                at.push(PathStep::Key(k.clone()));
                if nested_allowed(patterns, &p) {
                    check_nested(patterns, x, at, &p, out);
                } else {
                    let allowed = nested_children(patterns, dotted);
                    out.push(ValidationIssue {
                        path: at.clone(),
                        message: format!("`{p}` is not an attribute of this block"),
                        hint: (!allowed.is_empty())
                            .then(|| format!("one of: {}", allowed.join(", "))),
                    });
                }
                at.pop();
            }
        }
        Value::List(items) => {
            for (i, x) in items.iter().enumerate() {
                at.push(PathStep::Index(i));
                check_nested(patterns, x, at, dotted, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// Every problem of one resource's properties.
pub fn resource(type_name: &str, props: &Value) -> Vec<ValidationIssue> {
    let mut out = Vec::new();
    let patterns = crate::schema::nested_attributes(type_name);
    if let Some(m) = props.unmarked().as_map() {
        for (k, x) in m {
            if patterns.iter().any(|p| p.starts_with(&format!("{k}."))) {
                let mut at = vec![PathStep::Key(k.clone())];
                check_nested(patterns, x, &mut at, k, &mut out);
            }
        }
    }
    match type_name {
        "yandex_vpc_network"
        | "yandex_iam_service_account"
        | "yandex_kubernetes_cluster"
        | "yandex_kubernetes_node_group" => check_name(props, "name", &mut out),
        "yandex_vpc_subnet" => {
            check_name(props, "name", &mut out);
            check_zone(props, &["zone"], &mut out);
            check_cidrs(props, &mut out);
        }
        "yandex_mdb_kafka_cluster" | "yandex_mdb_postgresql_cluster" => {
            check_name(props, "name", &mut out);
            check_enum(
                props,
                &["environment"],
                &["PRODUCTION", "PRESTABLE"],
                &mut out,
            );
        }
        "yandex_resourcemanager_folder_iam_member" => check_member(props, &mut out),
        "yandex_mdb_kafka_user" | "yandex_mdb_postgresql_user" => {
            check_password(props, &mut out);
            if let Some(n) = text(props, &["name"]).filter(|n| !is_db_name(n, false)) {
                out.push(issue(
                    &["name"],
                    format!("`{n}` is not a valid user name"),
                    Some("letters, digits and underscores, at most 63"),
                ));
            }
        }
        "yandex_mdb_postgresql_database" => {
            if let Some(n) = text(props, &["name"]).filter(|n| !is_db_name(n, false)) {
                out.push(issue(
                    &["name"],
                    format!("`{n}` is not a valid database name"),
                    Some("letters, digits and underscores, at most 63"),
                ));
            }
        }
        "yandex_mdb_kafka_topic" => {
            if let Some(n) = text(props, &["name"]).filter(|n| !is_db_name(n, true)) {
                out.push(issue(
                    &["name"],
                    format!("`{n}` is not a valid topic name"),
                    Some("letters, digits, `_` and `-`, at most 63"),
                ));
            }
            for k in ["partitions", "replication_factor"] {
                if let Some(p) = number(props, &[k]).filter(|p| *p < 1.0 || p.fract() != 0.0) {
                    out.push(issue(
                        &[k],
                        format!("`{k}` must be a whole number ≥ 1, found {p}"),
                        None,
                    ));
                }
            }
        }
        _ => {}
    }
    match type_name {
        "yandex_kubernetes_node_group" => check_scale_policy(props, &mut out),
        "yandex_kubernetes_cluster" => {
            check_zone(props, &["master", "zonal", "zone"], &mut out);
            check_enum(
                props,
                &["release_channel"],
                &["RAPID", "REGULAR", "STABLE"],
                &mut out,
            );
            check_enum(props, &["network_policy_provider"], &["CALICO"], &mut out);
        }
        _ => {}
    }
    out
}

/// Problems of the provider block.
pub fn config(props: &Value) -> Vec<ValidationIssue> {
    let mut out = Vec::new();
    check_zone(props, &["zone"], &mut out);
    if props
        .get("token")
        .is_some_and(|t| !matches!(t.unmarked(), Value::Null))
        && props
            .get("service_account_key_file")
            .is_some_and(|t| !matches!(t.unmarked(), Value::Null))
    {
        out.push(issue(
            &["token"],
            "set either `token` or `service_account_key_file`, not both".into(),
            None,
        ));
    }
    out
}
