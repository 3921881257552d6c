//! Databases and users of a Managed PostgreSQL cluster (reference §3.8): children keyed by
//! name, `id` = `<cluster id>:<name>`; databases are renamed in place (`newDatabaseName`); a
//! user's password is write-only.

use super::mdb::{child_import, child_lookup_possible, derive_child_id, sort_list};
use super::postgresql::CLUSTERS_PATH;
use super::rest::{attr, Children};
use super::{Cx, Kind, Timeouts};
use crate::client::Service;
use crate::convert::{int64, int_attr, Obj};
use crate::mask::{rules, Rule};
use mlstack_provider_api::{ProviderError, Value};
use serde_json::{json, Value as Json};

const DATABASES: Children = Children {
    service: Service::Mdb,
    parent: CLUSTERS_PATH,
    child: "databases",
    spec_key: "databaseSpec",
};

pub struct Database;

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

#[async_trait::async_trait]
impl Kind for Database {
    fn type_name(&self) -> &'static str {
        "yandex_mdb_postgresql_database"
    }

    fn timeouts(&self) -> Timeouts {
        Timeouts::minutes(10, 10, 10)
    }

    fn mask_rules(&self, _planned: &Json) -> Vec<Rule> {
        rules(&[("name", "newDatabaseName"), ("extension", "extensions")])
    }

    fn zero_defaults(&self) -> Vec<(&'static str, Json)> {
        vec![("extension", json!([]))]
    }

    fn atomic(&self) -> &'static [&'static str] {
        &[]
    }

    fn normalize(&self, attrs: &mut Value) {
        sort_list(attrs, "extension", &["name"]);
    }

    fn derive(&self, planned: &mut Value, _changed: &[String]) {
        derive_child_id(planned);
    }

    fn lookup_possible(&self, d: &Value) -> bool {
        child_lookup_possible(d)
    }

    async fn read(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Option<Json>, ProviderError> {
        let cid = attr(attrs, "cluster_id");
        Ok(DATABASES
            .get(cx, self, cid, attr(attrs, "name"))
            .await?
            .map(|d| database_attrs(cid, &d)))
    }

    async fn find(&self, cx: &Cx<'_>, d: &Json) -> Result<Option<Json>, ProviderError> {
        self.read(cx, d).await
    }

    async fn create(&self, cx: &Cx<'_>, d: &Json) -> Result<Json, ProviderError> {
        let cid = attr(d, "cluster_id");
        let db = DATABASES
            .create(cx, self, cid, attr(d, "name"), database_spec(d))
            .await?;
        Ok(database_attrs(cid, &db))
    }

    async fn update(
        &self,
        cx: &Cx<'_>,
        planned: &Json,
        prior: &Json,
        mask: &[String],
    ) -> Result<Json, ProviderError> {
        let cid = attr(prior, "cluster_id");
        let old = attr(prior, "name");
        let new = attr(planned, "name");
        let body = json!({"newDatabaseName": new, "extensions": extensions_body(planned)});
        let db = DATABASES
            .update(cx, self, cid, old, new, &body, mask)
            .await?;
        Ok(database_attrs(cid, &db))
    }

    async fn delete(&self, cx: &Cx<'_>, attrs: &Json) -> Result<(), ProviderError> {
        DATABASES
            .delete(cx, self, attr(attrs, "cluster_id"), attr(attrs, "name"))
            .await
    }

    fn import_attrs(&self, id: &str) -> Result<Json, String> {
        child_import(id)
    }
}

const USERS: Children = Children {
    service: Service::Mdb,
    parent: CLUSTERS_PATH,
    child: "users",
    spec_key: "userSpec",
};

pub struct User;

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

#[async_trait::async_trait]
impl Kind for User {
    fn type_name(&self) -> &'static str {
        "yandex_mdb_postgresql_user"
    }

    fn timeouts(&self) -> Timeouts {
        Timeouts::minutes(10, 10, 10)
    }

    fn mask_rules(&self, _planned: &Json) -> Vec<Rule> {
        rules(&[
            ("password", "password"),
            ("permission", "permissions"),
            ("conn_limit", "connLimit"),
            ("login", "login"),
        ])
    }

    fn zero_defaults(&self) -> Vec<(&'static str, Json)> {
        vec![("permission", json!([]))]
    }

    fn atomic(&self) -> &'static [&'static str] {
        &[]
    }

    fn kept(&self) -> &'static [&'static str] {
        &["password"]
    }

    fn normalize(&self, attrs: &mut Value) {
        sort_list(attrs, "permission", &["database_name"]);
    }

    fn derive(&self, planned: &mut Value, _changed: &[String]) {
        derive_child_id(planned);
    }

    fn lookup_possible(&self, d: &Value) -> bool {
        child_lookup_possible(d)
    }

    async fn read(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Option<Json>, ProviderError> {
        let cid = attr(attrs, "cluster_id");
        Ok(USERS
            .get(cx, self, cid, attr(attrs, "name"))
            .await?
            .map(|u| user_attrs(cid, &u)))
    }

    async fn find(&self, cx: &Cx<'_>, d: &Json) -> Result<Option<Json>, ProviderError> {
        self.read(cx, d).await
    }

    async fn create(&self, cx: &Cx<'_>, d: &Json) -> Result<Json, ProviderError> {
        let cid = attr(d, "cluster_id");
        let u = USERS
            .create(cx, self, cid, attr(d, "name"), user_spec(d))
            .await?;
        Ok(user_attrs(cid, &u))
    }

    async fn update(
        &self,
        cx: &Cx<'_>,
        planned: &Json,
        prior: &Json,
        mask: &[String],
    ) -> Result<Json, ProviderError> {
        let cid = attr(prior, "cluster_id");
        let name = attr(prior, "name");
        let u = USERS
            .update(cx, self, cid, name, name, &user_spec(planned), mask)
            .await?;
        Ok(user_attrs(cid, &u))
    }

    async fn delete(&self, cx: &Cx<'_>, attrs: &Json) -> Result<(), ProviderError> {
        USERS
            .delete(cx, self, attr(attrs, "cluster_id"), attr(attrs, "name"))
            .await
    }

    fn import_attrs(&self, id: &str) -> Result<Json, String> {
        child_import(id)
    }
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
