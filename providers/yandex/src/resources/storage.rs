//! Object Storage buckets through the management API (reference §3.9): keyed by their globally
//! unique name; `versioning {enabled}` ⇄ the `VERSIONING_*` enum; `force_destroy` lives in
//! state only.

use super::rest::{attr, masked, mutate, Collection};
use super::{Cx, Kind, Timeouts};
use crate::client::Request;
use crate::client::{Method, Service};
use crate::convert::{int64, int_attr, Obj};
use crate::diff::keys;
use crate::mask::{rules, Rule};
use crate::operation::fail;
use crate::status::ApiError;
use mlstack_provider_api::{ProviderError, Value};
use serde_json::{json, Value as Json};

const BUCKETS: Collection = Collection {
    service: Service::Storage,
    path: "/storage/v1/buckets",
    list_key: "buckets",
    id_key: "name",
};

pub struct Bucket;

/// Where a bucket is served (virtual-hosted style).
pub fn domain(bucket: &str) -> String {
    format!("{bucket}.storage.yandexcloud.net")
}

fn bucket_attrs(api: &Json) -> Json {
    let name = api.get("name").and_then(Json::as_str).unwrap_or("");
    let flags = api.get("anonymousAccessFlags").map(|f| {
        json!({
            "read": f.get("read").and_then(Json::as_bool).unwrap_or(false),
            "list": f.get("list").and_then(Json::as_bool).unwrap_or(false),
            "config_read": f.get("configRead").and_then(Json::as_bool).unwrap_or(false),
        })
    });
    let versioning = api.get("versioning").and_then(Json::as_str).unwrap_or("");
    Obj::new()
        .set("id", json!(name))
        .set("bucket", json!(name))
        .copy("folder_id", api, "folderId")
        .set(
            "max_size",
            int_attr(api.get("maxSize"))
                .as_i64()
                .map(Json::from)
                .unwrap_or(json!(0)),
        )
        .copy("default_storage_class", api, "defaultStorageClass")
        .set("anonymous_access_flags", flags.unwrap_or(Json::Null))
        .set(
            "versioning",
            json!({"enabled": versioning == "VERSIONING_ENABLED"}),
        )
        .set("bucket_domain_name", json!(domain(name)))
        .build()
}

fn flags_body(d: &Json) -> Json {
    d.get("anonymous_access_flags")
        .map(|f| {
            Obj::new()
                .copy("read", f, "read")
                .copy("list", f, "list")
                .copy("configRead", f, "config_read")
                .build()
        })
        .unwrap_or(Json::Null)
}

fn versioning_body(d: &Json, create: bool) -> Json {
    match d.pointer("/versioning/enabled").and_then(Json::as_bool) {
        Some(true) => json!("VERSIONING_ENABLED"),
        // Once enabled, versioning can only be suspended.
        Some(false) if !create => json!("VERSIONING_SUSPENDED"),
        _ => Json::Null,
    }
}

fn body(d: &Json, create: bool) -> Json {
    let mut o = Obj::new();
    if create {
        o = o.copy("name", d, "bucket").copy("folderId", d, "folder_id");
    }
    o.copy("defaultStorageClass", d, "default_storage_class")
        .set(
            "maxSize",
            d.get("max_size").map(int64).unwrap_or(Json::Null),
        )
        .set("anonymousAccessFlags", flags_body(d))
        .set("versioning", versioning_body(d, create))
        .build()
}

impl Bucket {
    /// The bucket with everything (`view=VIEW_FULL`); `None` when there is none.
    async fn get(&self, cx: &Cx<'_>, name: &str) -> Result<Option<Json>, ApiError> {
        if name.is_empty() {
            return Ok(None);
        }
        let req = Request::get(Service::Storage, BUCKETS.item(name)).query("view", "VIEW_FULL");
        match cx.session.call(&req).await {
            Ok(j) => Ok(Some(j)),
            Err(e) if e.not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The bucket's attributes after a change.
    async fn live(&self, cx: &Cx<'_>, name: &str, what: &str) -> Result<Json, ProviderError> {
        match self.get(cx, name).await {
            Ok(Some(b)) => Ok(bucket_attrs(&b)),
            Ok(None) => Err(ProviderError::new(format!(
                "{what}: the bucket cannot be read"
            ))),
            Err(e) => Err(fail(what, e)),
        }
    }
}

#[async_trait::async_trait]
impl Kind for Bucket {
    fn type_name(&self) -> &'static str {
        "yandex_storage_bucket"
    }

    fn timeouts(&self) -> Timeouts {
        Timeouts::minutes(5, 5, 5)
    }

    fn mask_rules(&self, _planned: &Json) -> Vec<Rule> {
        rules(&[
            ("max_size", "maxSize"),
            ("default_storage_class", "defaultStorageClass"),
            ("anonymous_access_flags", "anonymousAccessFlags"),
            ("versioning", "versioning"),
            ("force_destroy", ""),
        ])
    }

    fn zero_defaults(&self) -> Vec<(&'static str, Json)> {
        vec![("force_destroy", json!(false))]
    }

    fn atomic(&self) -> &'static [&'static str] {
        &[]
    }

    fn kept(&self) -> &'static [&'static str] {
        &["force_destroy"]
    }

    fn derive(&self, planned: &mut Value, _changed: &[String]) {
        let (id, domain_name) = match planned.get("bucket").and_then(Value::as_str) {
            Some(b) => (Value::from(b), Value::from(domain(b))),
            None => (Value::Unknown, Value::Unknown),
        };
        planned.set_path(&keys("id"), id);
        planned.set_path(&keys("bucket_domain_name"), domain_name);
    }

    fn lookup_possible(&self, d: &Value) -> bool {
        d.get("bucket").is_some_and(|b| b.as_str().is_some())
    }

    async fn read(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Option<Json>, ProviderError> {
        Ok(self
            .get(cx, attr(attrs, "bucket"))
            .await
            .map_err(|e| fail(&cx.what("reading", self), e))?
            .map(|b| bucket_attrs(&b)))
    }

    /// A bucket of the same name in this folder (names are global: one in another folder, or
    /// another cloud, is not ours to adopt; the create will then say the name is taken).
    async fn find(&self, cx: &Cx<'_>, d: &Json) -> Result<Option<Json>, ProviderError> {
        let found = match self.get(cx, attr(d, "bucket")).await {
            Ok(b) => b,
            // Someone else's bucket.
            Err(e) if e.code == 7 => None,
            Err(e) => return Err(fail(&cx.what("looking up by name", self), e)),
        };
        Ok(found
            .filter(|b| b.get("folderId").and_then(Json::as_str) == Some(attr(d, "folder_id")))
            .map(|b| bucket_attrs(&b)))
    }

    async fn create(&self, cx: &Cx<'_>, d: &Json) -> Result<Json, ProviderError> {
        let what = cx.what("creating", self);
        let t = self.timeouts().create;
        mutate(
            cx,
            Method::Post,
            Service::Storage,
            BUCKETS.path,
            Some(body(d, true)),
            t,
            &what,
        )
        .await?;
        self.live(cx, attr(d, "bucket"), &what).await
    }

    async fn update(
        &self,
        cx: &Cx<'_>,
        planned: &Json,
        prior: &Json,
        mask: &[String],
    ) -> Result<Json, ProviderError> {
        let what = cx.what("updating", self);
        let name = attr(prior, "bucket");
        let b = masked(&body(planned, false), mask);
        let t = self.timeouts().update;
        mutate(
            cx,
            Method::Patch,
            Service::Storage,
            &BUCKETS.item(name),
            Some(b),
            t,
            &what,
        )
        .await?;
        self.live(cx, name, &what).await
    }

    async fn delete(&self, cx: &Cx<'_>, attrs: &Json) -> Result<(), ProviderError> {
        BUCKETS.delete(cx, self, attr(attrs, "bucket")).await
    }

    fn import_attrs(&self, id: &str) -> Result<Json, String> {
        Ok(json!({"id": id, "bucket": id}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_map_both_ways() {
        let d = json!({"bucket": "arts", "folder_id": "f", "max_size": 107374182400u64,
            "versioning": {"enabled": true}, "anonymous_access_flags": {"read": false, "list": false, "config_read": false}});
        let b = body(&d, true);
        assert_eq!(
            b,
            json!({"name": "arts", "folderId": "f", "maxSize": "107374182400",
                "anonymousAccessFlags": {"read": false, "list": false, "configRead": false},
                "versioning": "VERSIONING_ENABLED"})
        );
        let a = bucket_attrs(
            &json!({"name": "arts", "folderId": "f", "maxSize": "107374182400",
            "defaultStorageClass": "STANDARD", "versioning": "VERSIONING_ENABLED",
            "anonymousAccessFlags": {"read": false, "list": false, "configRead": false}}),
        );
        assert_eq!(a["bucket_domain_name"], "arts.storage.yandexcloud.net");
        assert_eq!(a["max_size"], 107374182400u64);
        assert_eq!(a["versioning"], json!({"enabled": true}));
        assert_eq!(a["anonymous_access_flags"], d["anonymous_access_flags"]);
        assert_eq!(
            body(&json!({"versioning": {"enabled": false}}), false),
            json!({"versioning": "VERSIONING_SUSPENDED"})
        );
    }
}
