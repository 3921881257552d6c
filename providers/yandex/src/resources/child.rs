//! The one [`Kind`] of every MDB cluster child keyed by name (Kafka topics and users,
//! PostgreSQL databases and users): their calls and plan rules are the same and only the
//! collection, the attribute mapping and a few lists differ, so each is a [`ChildKind`] value.

use super::mdb::{child_import, child_lookup_possible, config_key, derive_child_id, sort_list};
use super::rest::{attr, Children, Collection};
use super::{Cx, Kind, Timeouts};
use crate::mask::{rules, Rule};
use mlstack_provider_api::{ProviderError, Value};
use serde_json::{json, Value as Json};

/// A child resource type: `id` = `<cluster id>:<name>`, 10-minute timeouts, no atomic maps.
pub struct ChildKind {
    pub type_name: &'static str,
    pub children: Children,
    /// Updatable attributes and their mask paths.
    pub mask: &'static [(&'static str, &'static str)],
    /// Lists whose unset value is `[]` (the only known defaults of children).
    pub empty_lists: &'static [&'static str],
    /// Write-only attributes (passwords) a read keeps from the prior.
    pub kept: &'static [&'static str],
    /// Lists sorted by these string fields, so order never reads as a change.
    pub sorted: &'static [(&'static str, &'static [&'static str])],
    /// The API's item as attributes, given the cluster id.
    pub attrs: fn(&str, &Json) -> Json,
    /// The create spec from the attributes and the settings key (see [`Settings`]; "" if none).
    pub spec: fn(&Json, &str) -> Json,
    /// The update body (before masking) from the planned attributes and the settings key.
    pub update_body: fn(&Json, &str) -> Json,
    /// Whether an update renames the child in place (it is read back by the planned name).
    pub renames: bool,
    /// Settings whose wire key follows the cluster's version (`topicConfig_3`).
    pub settings: Option<Settings>,
}

/// A versioned settings message of a child: its key is looked up from the cluster only when
/// the settings are sent (otherwise the key of `default_version` is used).
pub struct Settings {
    pub clusters: &'static Collection,
    /// The attribute holding the settings (`topic_config`).
    pub attr: &'static str,
    /// The unversioned mask path (`topicSpec.topicConfig`), rewritten to the versioned key.
    pub mask: &'static str,
    /// `topicConfig`; see [`config_key`].
    pub prefix: &'static str,
    pub default_version: &'static str,
    pub major_only_from: u32,
}

impl ChildKind {
    /// The settings key: the cluster's version when `needed`, else the default's ("" if none).
    async fn settings_key(
        &self,
        cx: &Cx<'_>,
        cluster_id: &str,
        needed: bool,
    ) -> Result<String, ProviderError> {
        let Some(s) = &self.settings else {
            return Ok(String::new());
        };
        let mut version = s.default_version.to_string();
        if needed {
            let c = s.clusters.get(cx, self, cluster_id).await?;
            if let Some(v) = c
                .as_ref()
                .and_then(|c| c.pointer("/config/version"))
                .and_then(Json::as_str)
            {
                version = v.to_string();
            }
        }
        Ok(config_key(s.prefix, &version, s.major_only_from))
    }

    /// The mask with the settings path renamed to its versioned key (`topicSpec.topicConfig_3`).
    fn versioned_mask(&self, mask: &[String], key: &str) -> Vec<String> {
        let Some(s) = &self.settings else {
            return mask.to_vec();
        };
        let parent = s.mask.rsplit_once('.').map_or("", |(p, _)| p);
        let versioned = format!("{parent}.{key}");
        mask.iter()
            .map(|m| m.replacen(s.mask, &versioned, 1))
            .collect()
    }
}

#[async_trait::async_trait]
impl Kind for ChildKind {
    fn type_name(&self) -> &'static str {
        self.type_name
    }

    fn timeouts(&self) -> Timeouts {
        Timeouts::minutes(10, 10, 10)
    }

    fn mask_rules(&self, _planned: &Json) -> Vec<Rule> {
        rules(self.mask)
    }

    fn zero_defaults(&self) -> Vec<(&'static str, Json)> {
        self.empty_lists.iter().map(|k| (*k, json!([]))).collect()
    }

    fn atomic(&self) -> &'static [&'static str] {
        &[]
    }

    fn kept(&self) -> &'static [&'static str] {
        self.kept
    }

    fn normalize(&self, attrs: &mut Value) {
        for (key, by) in self.sorted {
            sort_list(attrs, key, by);
        }
    }

    fn derive(&self, planned: &mut Value, _changed: &[String]) {
        derive_child_id(planned);
    }

    fn lookup_possible(&self, d: &Value) -> bool {
        child_lookup_possible(d)
    }

    async fn read(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Option<Json>, ProviderError> {
        let cid = attr(attrs, "cluster_id");
        Ok(self
            .children
            .get(cx, self, cid, attr(attrs, "name"))
            .await?
            .map(|c| (self.attrs)(cid, &c)))
    }

    async fn find(&self, cx: &Cx<'_>, d: &Json) -> Result<Option<Json>, ProviderError> {
        self.read(cx, d).await
    }

    async fn create(&self, cx: &Cx<'_>, d: &Json) -> Result<Json, ProviderError> {
        let cid = attr(d, "cluster_id");
        let needed = self
            .settings
            .as_ref()
            .is_some_and(|s| d.get(s.attr).is_some());
        let key = self.settings_key(cx, cid, needed).await?;
        let c = self
            .children
            .create(cx, self, cid, attr(d, "name"), (self.spec)(d, &key))
            .await?;
        Ok((self.attrs)(cid, &c))
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
        let new_name = if self.renames {
            attr(planned, "name")
        } else {
            name
        };
        let needed =
            (self.settings.as_ref()).is_some_and(|s| mask.iter().any(|m| m.starts_with(s.mask)));
        let key = self.settings_key(cx, cid, needed).await?;
        let mask = self.versioned_mask(mask, &key);
        let body = (self.update_body)(planned, &key);
        let c = self
            .children
            .update(cx, self, cid, name, new_name, &body, &mask)
            .await?;
        Ok((self.attrs)(cid, &c))
    }

    async fn delete(&self, cx: &Cx<'_>, attrs: &Json) -> Result<(), ProviderError> {
        self.children
            .delete(cx, self, attr(attrs, "cluster_id"), attr(attrs, "name"))
            .await
    }

    fn import_attrs(&self, id: &str) -> Result<Json, String> {
        child_import(id)
    }
}

#[cfg(test)]
mod tests {
    use crate::resources::kafka_children::{TOPIC, USER};

    #[test]
    fn settings_mask_is_versioned() {
        let mask = vec![
            "topicSpec.partitions".to_string(),
            "topicSpec.topicConfig.cleanupPolicy".to_string(),
        ];
        assert_eq!(
            TOPIC.versioned_mask(&mask, "topicConfig_2_8"),
            [
                "topicSpec.partitions",
                "topicSpec.topicConfig_2_8.cleanupPolicy"
            ]
        );
        assert_eq!(USER.versioned_mask(&mask, ""), mask);
    }
}
