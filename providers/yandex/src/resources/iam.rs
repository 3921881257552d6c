//! IAM service accounts (reference §3.3) and one role bound to one member on a folder
//! (`updateAccessBindings` / `listAccessBindings`, §3.4), one folder at a time as Terraform does.

use super::folder::{common_attrs, common_body, FolderKind};
use super::rest::{attr, list_pages, Collection};
use super::Timeouts;
use super::{Cx, Kind};
use crate::client::{Method, Request, Service};
use crate::mask::Rule;
use crate::operation;
use mlstack_provider_api::{ProviderError, Value};
use serde_json::{json, Value as Json};

/// `yandex_iam_service_account`: only the attributes every folder resource has.
pub static SERVICE_ACCOUNT: FolderKind = FolderKind {
    type_name: "yandex_iam_service_account",
    collection: Collection {
        service: Service::Iam,
        path: "/iam/v1/serviceAccounts",
        list_key: "serviceAccounts",
        id_key: "serviceAccountId",
    },
    timeouts: Timeouts::minutes(1, 1, 1),
    mask: &[
        ("name", "name"),
        ("description", "description"),
        ("labels", "labels"),
    ],
    attrs: |api| common_attrs(api).build(),
    body: |d| common_body(d).build(),
};

/// One role bound to one member on a folder. Every attribute is immutable.
pub struct FolderMember;

/// `serviceAccount:<id>` → the API's subject `{id, type}`.
pub fn subject(member: &str) -> Option<Json> {
    let (kind, id) = member.split_once(':')?;
    (!kind.is_empty() && !id.is_empty()).then(|| json!({"id": id, "type": kind}))
}

fn member_of(binding: &Json) -> Option<(String, String)> {
    let role = binding.get("roleId")?.as_str()?;
    let s = binding.get("subject")?;
    let member = format!("{}:{}", s.get("type")?.as_str()?, s.get("id")?.as_str()?);
    Some((role.to_string(), member))
}

fn member_attrs(folder: &str, role: &str, member: &str) -> Json {
    json!({
        "folder_id": folder,
        "role": role,
        "member": member,
        "id": format!("{folder}/{role}/{member}"),
    })
}

impl FolderMember {
    async fn lookup(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Option<Json>, ProviderError> {
        let (folder, role, member) = (
            attr(attrs, "folder_id"),
            attr(attrs, "role"),
            attr(attrs, "member"),
        );
        if folder.is_empty() {
            return Ok(None);
        }
        let req = Request::get(
            Service::ResourceManager,
            format!("/resource-manager/v1/folders/{folder}:listAccessBindings"),
        );
        let bindings = match list_pages(cx, req, "accessBindings").await {
            Ok(b) => b,
            Err(e) if e.not_found() => return Ok(None),
            Err(e) => return Err(operation::fail(&cx.what("reading", self), e)),
        };
        let found = bindings
            .iter()
            .filter_map(member_of)
            .any(|(r, m)| r == role && m == member);
        Ok(found.then(|| member_attrs(folder, role, member)))
    }

    async fn change(&self, cx: &Cx<'_>, attrs: &Json, action: &str) -> Result<(), ProviderError> {
        let (folder, role, member) = (
            attr(attrs, "folder_id"),
            attr(attrs, "role"),
            attr(attrs, "member"),
        );
        let verb = if action == "ADD" {
            "creating"
        } else {
            "deleting"
        };
        let what = cx.what(verb, self);
        let subject = subject(member)
            .ok_or_else(|| ProviderError::new(format!("{what}: `{member}` is not a member")))?;
        let body = json!({"accessBindingDeltas": [{
            "action": action,
            "accessBinding": {"roleId": role, "subject": subject},
        }]});
        let lock = cx.session.lock(&format!("iam-folder-{folder}"));
        let _held = lock.lock().await;
        let req = Request::mutation(
            Method::Post,
            Service::ResourceManager,
            format!("/resource-manager/v1/folders/{folder}:updateAccessBindings"),
            Some(body),
        );
        let t = if action == "ADD" {
            self.timeouts().create
        } else {
            self.timeouts().delete
        };
        operation::mutate(cx.session, req, t, &what).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Kind for FolderMember {
    fn type_name(&self) -> &'static str {
        "yandex_resourcemanager_folder_iam_member"
    }

    fn mask_rules(&self, _planned: &Json) -> Vec<Rule> {
        Vec::new()
    }

    fn zero_defaults(&self) -> Vec<(&'static str, Json)> {
        Vec::new()
    }

    fn derive(&self, planned: &mut Value, _changed: &[String]) {
        let known = |k: &str| planned.get(k).and_then(Value::as_str).map(str::to_string);
        if let (Some(f), Some(r), Some(m)) = (known("folder_id"), known("role"), known("member")) {
            planned.set_path(
                &crate::diff::keys("id"),
                Value::from(format!("{f}/{r}/{m}")),
            );
        }
    }

    fn lookup_possible(&self, d: &Value) -> bool {
        ["folder_id", "role", "member"]
            .iter()
            .all(|k| d.get(k).is_some_and(|v| v.as_str().is_some()))
    }

    async fn read(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Option<Json>, ProviderError> {
        self.lookup(cx, attrs).await
    }

    async fn find(&self, cx: &Cx<'_>, d: &Json) -> Result<Option<Json>, ProviderError> {
        self.lookup(cx, d).await
    }

    async fn create(&self, cx: &Cx<'_>, d: &Json) -> Result<Json, ProviderError> {
        self.change(cx, d, "ADD").await?;
        Ok(member_attrs(
            attr(d, "folder_id"),
            attr(d, "role"),
            attr(d, "member"),
        ))
    }

    async fn update(
        &self,
        cx: &Cx<'_>,
        _planned: &Json,
        _prior: &Json,
        _mask: &[String],
    ) -> Result<Json, ProviderError> {
        Err(ProviderError::new(format!(
            "{}: a role binding cannot be changed in place",
            cx.what("updating", self)
        )))
    }

    async fn delete(&self, cx: &Cx<'_>, attrs: &Json) -> Result<(), ProviderError> {
        self.change(cx, attrs, "REMOVE").await
    }

    fn import_attrs(&self, id: &str) -> Result<Json, String> {
        let mut parts = id.splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(f), Some(r), Some(m)) if !f.is_empty() && !r.is_empty() && subject(m).is_some() => {
                Ok(member_attrs(f, r, m))
            }
            _ => Err(format!(
                "`{id}` is not <folder id>/<role>/<member>, e.g. b1g.../editor/serviceAccount:aje..."
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_subjects() {
        assert_eq!(
            subject("serviceAccount:aje1"),
            Some(json!({"id": "aje1", "type": "serviceAccount"}))
        );
        assert_eq!(subject("system:allUsers").unwrap()["type"], "system");
        assert_eq!(subject("nobody"), None);
        let b = json!({"roleId": "editor", "subject": {"id": "aje1", "type": "serviceAccount"}});
        assert_eq!(
            member_of(&b),
            Some(("editor".into(), "serviceAccount:aje1".into()))
        );
        let a = FolderMember
            .import_attrs("b1gf/k8s.clusters.agent/serviceAccount:aje1")
            .unwrap();
        assert_eq!(a["id"], "b1gf/k8s.clusters.agent/serviceAccount:aje1");
        assert_eq!(a["member"], "serviceAccount:aje1");
        assert!(FolderMember.import_attrs("b1gf/editor").is_err());
    }
}
