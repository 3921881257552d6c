//! Resources that are nothing but an item of a folder's [`Collection`] (networks, subnets,
//! service accounts): every call maps the API's item through one pair of functions, so each
//! type is a [`FolderKind`] value; also the attributes every folder resource shares.

use super::rest::{attr, Collection};
use super::{Cx, Kind, Timeouts};
use crate::convert::Obj;
use crate::mask::{rules, Rule};
use mlstack_provider_api::ProviderError;
use serde_json::{json, Value as Json};

/// `id, name, description, labels, folder_id, created_at` of any resource that has them.
pub fn common_attrs(api: &Json) -> Obj {
    Obj::new()
        .copy("id", api, "id")
        .set(
            "name",
            json!(api.get("name").and_then(Json::as_str).unwrap_or("")),
        )
        .set(
            "description",
            json!(api.get("description").and_then(Json::as_str).unwrap_or("")),
        )
        .set(
            "labels",
            api.get("labels")
                .filter(|l| l.is_object())
                .cloned()
                .unwrap_or_else(|| json!({})),
        )
        .copy("folder_id", api, "folderId")
        .copy("created_at", api, "createdAt")
}

/// `folderId, name, description, labels` of a create body.
pub fn common_body(d: &Json) -> Obj {
    Obj::new()
        .copy("folderId", d, "folder_id")
        .copy("name", d, "name")
        .copy("description", d, "description")
        .copy("labels", d, "labels")
}

/// A folder resource type whose calls are the [`Collection`]'s, mapped by `attrs` and `body`.
pub struct FolderKind {
    pub type_name: &'static str,
    pub collection: Collection,
    pub timeouts: Timeouts,
    /// Updatable attributes and their mask paths.
    pub mask: &'static [(&'static str, &'static str)],
    /// The API's item as attributes.
    pub attrs: fn(&Json) -> Json,
    /// The create and (before masking) update body.
    pub body: fn(&Json) -> Json,
}

#[async_trait::async_trait]
impl Kind for FolderKind {
    fn type_name(&self) -> &'static str {
        self.type_name
    }

    fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    fn mask_rules(&self, _planned: &Json) -> Vec<Rule> {
        rules(self.mask)
    }

    async fn read(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Option<Json>, ProviderError> {
        let api = self.collection.get(cx, self, attr(attrs, "id")).await?;
        Ok(api.map(|a| (self.attrs)(&a)))
    }

    async fn find(&self, cx: &Cx<'_>, d: &Json) -> Result<Option<Json>, ProviderError> {
        let (folder, name) = (attr(d, "folder_id"), attr(d, "name"));
        let api = self.collection.find(cx, self, folder, name).await?;
        Ok(api.map(|a| (self.attrs)(&a)))
    }

    async fn create(&self, cx: &Cx<'_>, d: &Json) -> Result<Json, ProviderError> {
        let api = self.collection.create(cx, self, (self.body)(d)).await?;
        Ok((self.attrs)(&api))
    }

    async fn update(
        &self,
        cx: &Cx<'_>,
        planned: &Json,
        prior: &Json,
        mask: &[String],
    ) -> Result<Json, ProviderError> {
        let (id, body) = (attr(prior, "id"), (self.body)(planned));
        let api = self.collection.update(cx, self, id, &body, mask).await?;
        Ok((self.attrs)(&api))
    }

    async fn delete(&self, cx: &Cx<'_>, attrs: &Json) -> Result<(), ProviderError> {
        self.collection.delete(cx, self, attr(attrs, "id")).await
    }
}
