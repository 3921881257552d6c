//! Databases and users of a Managed PostgreSQL cluster (reference §3.8): children keyed by
//! name, `id` = `<cluster id>:<name>`; databases are renamed in place (`newDatabaseName`); a
//! user's password is write-only.

use super::child::ChildKind;
use super::postgresql::CLUSTERS_PATH;
use super::rest::{attr, Children};
use crate::client::Service;
use crate::convert::{int64, int_attr, Obj};
use serde_json::{json, Value as Json};

/// `yandex_mdb_postgresql_database`: renamed in place; extensions are sorted.
pub static DATABASE: ChildKind = ChildKind {
    type_name: "yandex_mdb_postgresql_database",
    children: Children {
        service: Service::Mdb,
        parent: CLUSTERS_PATH,
        child: "databases",
        spec_key: "databaseSpec",
    },
    mask: &[("name", "newDatabaseName"), ("extension", "extensions")],
    empty_lists: &["extension"],
    kept: &[],
    sorted: &[("extension", &["name"])],
    attrs: database_attrs,
    spec: |d, _| database_spec(d),
    update_body: |planned, _| json!({"newDatabaseName": attr(planned, "name"), "extensions": extensions_body(planned)}),
    renames: true,
    settings: None,
};

fn database_attrs(cluster_id: &str, d: &Json) -> Json {
    let name = d.get("name").and_then(Json::as_str).unwrap_or("");
    let ext: Vec<Json> = d
        .get("extensions")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|e| {
            Obj::new()
                .copy("name", e, "name")
                .set(
                    "version",
                    e.get("version")
                        .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
                        .cloned()
                        .unwrap_or(Json::Null),
                )
                .build()
        })
        .collect();
    Obj::new()
        .set("id", json!(format!("{cluster_id}:{name}")))
        .set("cluster_id", json!(cluster_id))
        .set("name", json!(name))
        .copy("owner", d, "owner")
        .copy("lc_collate", d, "lcCollate")
        .copy("lc_type", d, "lcCtype")
        .set(
            "template_db",
            d.get("templateDb")
                .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
                .cloned()
                .unwrap_or(Json::Null),
        )
        .set("extension", Json::Array(ext))
        .build()
}

fn extensions_body(d: &Json) -> Json {
    Json::Array(
        d.get("extension")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(|e| {
                Obj::new()
                    .copy("name", e, "name")
                    .copy("version", e, "version")
                    .build()
            })
            .collect(),
    )
}

fn database_spec(d: &Json) -> Json {
    Obj::new()
        .copy("name", d, "name")
        .copy("owner", d, "owner")
        .copy("lcCollate", d, "lc_collate")
        .copy("lcCtype", d, "lc_type")
        .copy("templateDb", d, "template_db")
        .set("extensions", extensions_body(d))
        .build()
}

/// `yandex_mdb_postgresql_user`: the password is write-only; permissions are sorted.
pub static USER: ChildKind = ChildKind {
    type_name: "yandex_mdb_postgresql_user",
    children: Children {
        service: Service::Mdb,
        parent: CLUSTERS_PATH,
        child: "users",
        spec_key: "userSpec",
    },
    mask: &[
        ("password", "password"),
        ("permission", "permissions"),
        ("conn_limit", "connLimit"),
        ("login", "login"),
    ],
    empty_lists: &["permission"],
    kept: &["password"],
    sorted: &[("permission", &["database_name"])],
    attrs: user_attrs,
    spec: |d, _| user_spec(d),
    update_body: |planned, _| user_spec(planned),
    renames: false,
    settings: None,
};

fn user_attrs(cluster_id: &str, u: &Json) -> Json {
    let name = u.get("name").and_then(Json::as_str).unwrap_or("");
    let perms: Vec<Json> = u
        .get("permissions")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|p| Obj::new().copy("database_name", p, "databaseName").build())
        .collect();
    Obj::new()
        .set("id", json!(format!("{cluster_id}:{name}")))
        .set("cluster_id", json!(cluster_id))
        .set("name", json!(name))
        .set("permission", Json::Array(perms))
        .set("conn_limit", int_attr(u.get("connLimit")))
        .copy("login", u, "login")
        .build()
}

fn user_spec(d: &Json) -> Json {
    let perms: Vec<Json> = d
        .get("permission")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|p| Obj::new().copy("databaseName", p, "database_name").build())
        .collect();
    Obj::new()
        .copy("name", d, "name")
        .copy("password", d, "password")
        .set("permissions", Json::Array(perms))
        .set(
            "connLimit",
            d.get("conn_limit").map(int64).unwrap_or(Json::Null),
        )
        .copy("login", d, "login")
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn databases_and_users() {
        let s = database_spec(
            &json!({"name": "mlflow", "owner": "mlflow", "extension": [{"name": "uuid-ossp"}]}),
        );
        assert_eq!(
            s,
            json!({"name": "mlflow", "owner": "mlflow", "extensions": [{"name": "uuid-ossp"}]})
        );
        let mut api = s.clone();
        api["lcCollate"] = json!("C");
        api["lcCtype"] = json!("C");
        let a = database_attrs("c1", &api);
        assert_eq!(a["lc_type"], "C");
        assert_eq!(a["id"], "c1:mlflow");
        let u = user_spec(
            &json!({"name": "mlflow", "password": "pw", "conn_limit": 50, "permission": [{"database_name": "mlflow"}]}),
        );
        assert_eq!(u["connLimit"], "50");
        let a = user_attrs(
            "c1",
            &json!({"name": "mlflow", "connLimit": "50", "login": true, "permissions": [{"databaseName": "mlflow"}]}),
        );
        assert_eq!(a["conn_limit"], 50);
        assert_eq!(a["permission"], json!([{"database_name": "mlflow"}]));
        assert!(a.get("password").is_none());
    }
}
