//! Managed Kubernetes node groups (reference §3.6): memory and disk in GB in the stack, bytes on
//! the wire; fixed or auto scale; taints as `key=value:Effect`.

use super::folder::common_attrs;
use super::maintenance;
use super::rest::{attr, list_pages, Collection};
use super::{Cx, Kind, Readiness, Timeouts};
use crate::client::{Request, Service};
use crate::convert::{bytes_to_gb, gb_to_bytes, int64, int_attr, strings, text, Obj};
use crate::mask::{rules, Rule};
use crate::operation::fail;
use mlstack_provider_api::{ProviderError, Value};
use serde_json::{json, Value as Json};

const GROUPS: Collection = Collection {
    service: Service::Kubernetes,
    path: "/managed-kubernetes/v1/nodeGroups",
    list_key: "nodeGroups",
    id_key: "nodeGroupId",
};

pub struct NodeGroup;

const EFFECTS: &[(&str, &str)] = &[
    ("NoSchedule", "NO_SCHEDULE"),
    ("PreferNoSchedule", "PREFER_NO_SCHEDULE"),
    ("NoExecute", "NO_EXECUTE"),
];

/// `key=value:NoSchedule` → `{key, value, effect: NO_SCHEDULE}`.
fn taint_to_api(t: &str) -> Json {
    let (kv, effect) = t.rsplit_once(':').unwrap_or((t, "NoSchedule"));
    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
    let effect = EFFECTS
        .iter()
        .find(|(tf, api)| tf.eq_ignore_ascii_case(effect) || api.eq_ignore_ascii_case(effect))
        .map(|(_, api)| *api)
        .unwrap_or("NO_SCHEDULE");
    json!({"key": k, "value": v, "effect": effect})
}

fn taint_from_api(t: &Json) -> Json {
    let effect = t.get("effect").and_then(Json::as_str).unwrap_or("");
    let effect = EFFECTS
        .iter()
        .find(|(_, api)| *api == effect)
        .map(|(tf, _)| *tf)
        .unwrap_or(effect);
    json!(format!(
        "{}={}:{effect}",
        t.get("key").and_then(Json::as_str).unwrap_or(""),
        t.get("value").and_then(Json::as_str).unwrap_or("")
    ))
}

fn template_attrs(t: &Json) -> Json {
    let r = t.get("resourcesSpec").cloned().unwrap_or(Json::Null);
    let disk = t.get("bootDiskSpec").cloned().unwrap_or(Json::Null);
    let nics: Vec<Json> = t
        .get("networkInterfaceSpecs")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|n| {
            json!({
                "subnet_ids": strings(n.get("subnetIds")),
                "nat": n.pointer("/primaryV4AddressSpec/oneToOneNatSpec").is_some(),
                "security_group_ids": strings(n.get("securityGroupIds")),
            })
        })
        .collect();
    Obj::new()
        .copy("platform_id", t, "platformId")
        .nested(
            "resources",
            Obj::new()
                .set("memory", bytes_to_gb(r.get("memory")))
                .set("cores", int_attr(r.get("cores")))
                .set("core_fraction", int_attr(r.get("coreFraction")))
                .set("gpus", int_attr(r.get("gpus"))),
        )
        .nested(
            "boot_disk",
            Obj::new()
                .copy("type", &disk, "diskTypeId")
                .set("size", bytes_to_gb(disk.get("diskSize"))),
        )
        .set("network_interface", Json::Array(nics))
        .set(
            "scheduling_policy",
            json!({"preemptible": t.pointer("/schedulingPolicy/preemptible").and_then(Json::as_bool).unwrap_or(false)}),
        )
        .copy("metadata", t, "metadata")
        .copy("name", t, "name")
        .copy("labels", t, "labels")
        .set(
            "container_runtime",
            t.pointer("/containerRuntimeSettings/type")
                .map(|ty| json!({"type": ty}))
                .unwrap_or(Json::Null),
        )
        .set(
            "network_acceleration_type",
            t.pointer("/networkSettings/type")
                .and_then(Json::as_str)
                .map(|s| json!(s.to_ascii_lowercase()))
                .unwrap_or(Json::Null),
        )
        .build()
}

fn scale_attrs(s: Option<&Json>) -> Json {
    let Some(s) = s else { return Json::Null };
    if let Some(f) = s.get("fixedScale") {
        return json!({"fixed_scale": {"size": int_attr(f.get("size"))}});
    }
    if let Some(a) = s.get("autoScale") {
        return json!({"auto_scale": {
            "min": int_attr(a.get("minSize")),
            "max": int_attr(a.get("maxSize")),
            "initial": int_attr(a.get("initialSize")),
        }});
    }
    Json::Null
}

fn group_attrs(api: &Json) -> Json {
    let locations: Vec<Json> = api
        .pointer("/allocationPolicy/locations")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|l| {
            Obj::new()
                .copy("zone", l, "zoneId")
                .set(
                    "subnet_id",
                    l.get("subnetId")
                        .filter(|s| s.as_str().is_some_and(|s| !s.is_empty()))
                        .cloned()
                        .unwrap_or(Json::Null),
                )
                .build()
        })
        .collect();
    let version = api
        .pointer("/versionInfo/currentVersion")
        .or_else(|| api.get("nodeVersion"))
        .or_else(|| api.get("version"))
        .cloned()
        .unwrap_or(Json::Null);
    let deploy = api.get("deployPolicy").map(|d| {
        json!({"max_expansion": int_attr(d.get("maxExpansion")), "max_unavailable": int_attr(d.get("maxUnavailable"))})
    });
    common_attrs(api)
        .copy("cluster_id", api, "clusterId")
        .set("version", version)
        .set(
            "instance_template",
            template_attrs(api.get("nodeTemplate").unwrap_or(&Json::Null)),
        )
        .set("scale_policy", scale_attrs(api.get("scalePolicy")))
        .set("allocation_policy", json!({"location": locations}))
        .set(
            "node_labels",
            api.get("nodeLabels").cloned().unwrap_or_else(|| json!({})),
        )
        .set(
            "node_taints",
            Json::Array(
                api.get("nodeTaints")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .map(taint_from_api)
                    .collect(),
            ),
        )
        .set(
            "maintenance_policy",
            maintenance::from_api(api.get("maintenancePolicy"), true),
        )
        .set("deploy_policy", deploy.unwrap_or(Json::Null))
        .copy("status", api, "status")
        .set("instance_group_id", json!(text(api, "/instanceGroupId")))
        .build()
}

fn template_body(t: &Json) -> Json {
    let r = t.get("resources").cloned().unwrap_or(Json::Null);
    let disk = t.get("boot_disk").cloned().unwrap_or(Json::Null);
    let nics: Vec<Json> = t
        .get("network_interface")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|n| {
            let nat = n.get("nat").and_then(Json::as_bool).unwrap_or(false);
            Obj::new()
                .copy("subnetIds", n, "subnet_ids")
                .set(
                    "primaryV4AddressSpec",
                    if nat {
                        json!({"oneToOneNatSpec": {"ipVersion": "IPV4"}})
                    } else {
                        json!({})
                    },
                )
                .copy("securityGroupIds", n, "security_group_ids")
                .build()
        })
        .collect();
    Obj::new()
        .copy("platformId", t, "platform_id")
        .nested(
            "resourcesSpec",
            Obj::new()
                .set(
                    "memory",
                    r.get("memory").map(gb_to_bytes).unwrap_or(Json::Null),
                )
                .set("cores", r.get("cores").map(int64).unwrap_or(Json::Null))
                .set(
                    "coreFraction",
                    r.get("core_fraction").map(int64).unwrap_or(Json::Null),
                )
                .set("gpus", r.get("gpus").map(int64).unwrap_or(Json::Null)),
        )
        .nested(
            "bootDiskSpec",
            Obj::new().copy("diskTypeId", &disk, "type").set(
                "diskSize",
                disk.get("size").map(gb_to_bytes).unwrap_or(Json::Null),
            ),
        )
        .copy("metadata", t, "metadata")
        .set(
            "schedulingPolicy",
            t.pointer("/scheduling_policy/preemptible")
                .map(|p| json!({"preemptible": p}))
                .unwrap_or(Json::Null),
        )
        .set(
            "networkInterfaceSpecs",
            if nics.is_empty() {
                Json::Null
            } else {
                Json::Array(nics)
            },
        )
        .copy("name", t, "name")
        .copy("labels", t, "labels")
        .set(
            "containerRuntimeSettings",
            t.pointer("/container_runtime/type")
                .map(|ty| json!({"type": ty}))
                .unwrap_or(Json::Null),
        )
        .set(
            "networkSettings",
            t.get("network_acceleration_type")
                .and_then(Json::as_str)
                .map(|s| json!({"type": s.to_ascii_uppercase()}))
                .unwrap_or(Json::Null),
        )
        .build()
}

fn scale_body(s: Option<&Json>) -> Json {
    let Some(s) = s else { return Json::Null };
    if let Some(f) = s.get("fixed_scale") {
        return json!({"fixedScale": {"size": f.get("size").map(int64).unwrap_or(Json::Null)}});
    }
    if let Some(a) = s.get("auto_scale") {
        let n = |k: &str| a.get(k).map(int64).unwrap_or(Json::Null);
        return json!({"autoScale": Obj::new()
            .set("minSize", n("min"))
            .set("maxSize", n("max"))
            .set("initialSize", n("initial"))
            .build()});
    }
    Json::Null
}

/// The body shared by create and update (the update leaves `clusterId` and taints out).
fn group_body(d: &Json, create: bool) -> Json {
    let locations: Vec<Json> = d
        .pointer("/allocation_policy/location")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|l| {
            Obj::new()
                .copy("zoneId", l, "zone")
                .copy("subnetId", l, "subnet_id")
                .build()
        })
        .collect();
    let deploy = d.get("deploy_policy").map(|p| {
        Obj::new()
            .set(
                "maxExpansion",
                p.get("max_expansion").map(int64).unwrap_or(Json::Null),
            )
            .set(
                "maxUnavailable",
                p.get("max_unavailable").map(int64).unwrap_or(Json::Null),
            )
            .build()
    });
    let version = d.get("version").cloned().unwrap_or(Json::Null);
    let mut o = Obj::new()
        .copy("name", d, "name")
        .copy("description", d, "description")
        .copy("labels", d, "labels")
        .set(
            "nodeTemplate",
            template_body(d.get("instance_template").unwrap_or(&Json::Null)),
        )
        .set("scalePolicy", scale_body(d.get("scale_policy")))
        .set(
            "maintenancePolicy",
            maintenance::to_api(d.get("maintenance_policy"), true),
        )
        .set("deployPolicy", deploy.unwrap_or(Json::Null))
        .copy("nodeLabels", d, "node_labels");
    if create {
        let taints: Vec<Json> = d
            .get("node_taints")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .map(taint_to_api)
            .collect();
        o = o
            .copy("clusterId", d, "cluster_id")
            .set("version", version)
            .set(
                "allocationPolicy",
                if locations.is_empty() {
                    Json::Null
                } else {
                    json!({"locations": locations})
                },
            )
            .set(
                "nodeTaints",
                if taints.is_empty() {
                    Json::Null
                } else {
                    Json::Array(taints)
                },
            );
    } else if !version.is_null() {
        o = o.set("version", json!({"version": version}));
    }
    o.build()
}

#[async_trait::async_trait]
impl Kind for NodeGroup {
    fn type_name(&self) -> &'static str {
        "yandex_kubernetes_node_group"
    }

    fn timeouts(&self) -> Timeouts {
        Timeouts::minutes(60, 60, 20)
    }

    fn mask_rules(&self, _planned: &Json) -> Vec<Rule> {
        rules(&[
            ("name", "name"),
            ("description", "description"),
            ("labels", "labels"),
            ("node_labels", "nodeLabels"),
            ("version", "version"),
            ("maintenance_policy", "maintenancePolicy"),
            ("deploy_policy.max_expansion", "deployPolicy.maxExpansion"),
            (
                "deploy_policy.max_unavailable",
                "deployPolicy.maxUnavailable",
            ),
            ("instance_template.platform_id", "nodeTemplate.platformId"),
            ("instance_template.metadata", "nodeTemplate.metadata"),
            (
                "instance_template.resources.memory",
                "nodeTemplate.resourcesSpec.memory",
            ),
            (
                "instance_template.resources.cores",
                "nodeTemplate.resourcesSpec.cores",
            ),
            (
                "instance_template.resources.core_fraction",
                "nodeTemplate.resourcesSpec.coreFraction",
            ),
            (
                "instance_template.resources.gpus",
                "nodeTemplate.resourcesSpec.gpus",
            ),
            (
                "instance_template.boot_disk.type",
                "nodeTemplate.bootDiskSpec.diskTypeId",
            ),
            (
                "instance_template.boot_disk.size",
                "nodeTemplate.bootDiskSpec.diskSize",
            ),
            (
                "instance_template.scheduling_policy.preemptible",
                "nodeTemplate.schedulingPolicy.preemptible",
            ),
            (
                "instance_template.network_interface",
                "nodeTemplate.networkInterfaceSpecs",
            ),
            ("instance_template.name", "nodeTemplate.name"),
            ("instance_template.labels", "nodeTemplate.labels"),
            (
                "instance_template.container_runtime.type",
                "nodeTemplate.containerRuntimeSettings.type",
            ),
            (
                "instance_template.network_acceleration_type",
                "nodeTemplate.networkSettings",
            ),
            (
                "scale_policy.fixed_scale.size",
                "scalePolicy.fixedScale.size",
            ),
            (
                "scale_policy.auto_scale.min",
                "scalePolicy.autoScale.minSize",
            ),
            (
                "scale_policy.auto_scale.max",
                "scalePolicy.autoScale.maxSize",
            ),
            (
                "scale_policy.auto_scale.initial",
                "scalePolicy.autoScale.initialSize",
            ),
        ])
    }

    fn atomic(&self) -> &'static [&'static str] {
        // `scale_policy` holds one of two blocks: the stack's choice is taken whole.
        &[
            "labels",
            "node_labels",
            "scale_policy",
            "instance_template.metadata",
            "instance_template.labels",
        ]
    }

    /// Node groups have no folder of their own: `folder_id` is what the stack recorded.
    fn folder_default(&self) -> bool {
        false
    }

    fn kept(&self) -> &'static [&'static str] {
        &["folder_id"]
    }

    fn normalize(&self, attrs: &mut Value) {
        maintenance::normalize(attrs, &["maintenance_policy"]);
    }

    fn lookup_possible(&self, d: &Value) -> bool {
        ["name", "cluster_id"]
            .iter()
            .all(|k| d.get(k).is_some_and(|v| v.as_str().is_some()))
    }

    async fn read(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Option<Json>, ProviderError> {
        Ok(GROUPS
            .get(cx, self, attr(attrs, "id"))
            .await?
            .map(|a| group_attrs(&a)))
    }

    async fn find(&self, cx: &Cx<'_>, d: &Json) -> Result<Option<Json>, ProviderError> {
        let cluster = attr(d, "cluster_id");
        let name = attr(d, "name");
        let req = Request::get(
            Service::Kubernetes,
            format!("/managed-kubernetes/v1/clusters/{cluster}/nodeGroups"),
        )
        .query("filter", format!("name=\"{name}\""));
        let items = match list_pages(cx, req, "nodeGroups").await {
            Ok(i) => i,
            // The cluster itself is gone: so is any node group of it.
            Err(e) if e.not_found() => return Ok(None),
            Err(e) => return Err(fail(&cx.what("looking up by name", self), e)),
        };
        Ok(items
            .iter()
            .find(|g| g.get("name").and_then(Json::as_str) == Some(name))
            .map(group_attrs))
    }

    async fn create(&self, cx: &Cx<'_>, d: &Json) -> Result<Json, ProviderError> {
        let api = GROUPS.create(cx, self, group_body(d, true)).await?;
        Ok(group_attrs(&api))
    }

    async fn update(
        &self,
        cx: &Cx<'_>,
        planned: &Json,
        prior: &Json,
        mask: &[String],
    ) -> Result<Json, ProviderError> {
        let api = GROUPS
            .update(
                cx,
                self,
                attr(prior, "id"),
                &group_body(planned, false),
                mask,
            )
            .await?;
        Ok(group_attrs(&api))
    }

    async fn delete(&self, cx: &Cx<'_>, attrs: &Json) -> Result<(), ProviderError> {
        GROUPS.delete(cx, self, attr(attrs, "id")).await
    }

    async fn ready(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Readiness, ProviderError> {
        let Some(api) = GROUPS.get(cx, self, attr(attrs, "id")).await? else {
            return Ok(Readiness::Failed("the node group disappeared".into()));
        };
        let status = text(&api, "/status");
        Ok(match status.as_str() {
            "RUNNING" => Readiness::Ready,
            "STOPPING" | "STOPPED" | "DELETING" => {
                Readiness::Failed(format!("the node group is {status}"))
            }
            _ => Readiness::Waiting(format!("status {status}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack_group() -> Json {
        json!({
            "cluster_id": "cat1", "name": "workers", "description": "", "labels": {},
            "version": "1.30",
            "instance_template": {
                "platform_id": "standard-v3",
                "resources": {"cores": 4, "memory": 16, "core_fraction": 100},
                "boot_disk": {"type": "network-ssd", "size": 64},
                "network_interface": [{"subnet_ids": ["sub"], "nat": true}]
            },
            "scale_policy": {"auto_scale": {"min": 3, "max": 6, "initial": 3}},
            "allocation_policy": {"location": [{"zone": "ru-central1-a"}]},
            "node_taints": ["dedicated=gpu:NoSchedule"]
        })
    }

    #[test]
    fn sizes_are_bytes_on_the_wire_and_gb_in_the_stack() {
        let b = group_body(&stack_group(), true);
        assert_eq!(b["nodeTemplate"]["resourcesSpec"]["memory"], "17179869184");
        assert_eq!(b["nodeTemplate"]["resourcesSpec"]["cores"], "4");
        assert_eq!(b["nodeTemplate"]["bootDiskSpec"]["diskSize"], "68719476736");
        assert_eq!(
            b["nodeTemplate"]["networkInterfaceSpecs"][0]["primaryV4AddressSpec"],
            json!({"oneToOneNatSpec": {"ipVersion": "IPV4"}})
        );
        assert_eq!(
            b["scalePolicy"],
            json!({"autoScale": {"minSize": "3", "maxSize": "6", "initialSize": "3"}})
        );
        assert_eq!(
            b["nodeTaints"],
            json!([{"key": "dedicated", "value": "gpu", "effect": "NO_SCHEDULE"}])
        );
        assert_eq!(
            b["allocationPolicy"],
            json!({"locations": [{"zoneId": "ru-central1-a"}]})
        );
        let mut api = b.clone();
        api["id"] = json!("ng1");
        api["status"] = json!("RUNNING");
        api["versionInfo"] = json!({"currentVersion": "1.30"});
        let a = group_attrs(&api);
        let s = stack_group();
        for k in [
            "version",
            "scale_policy",
            "allocation_policy",
            "node_taints",
            "cluster_id",
        ] {
            assert_eq!(a[k], s[k], "{k}");
        }
        assert_eq!(a["instance_template"]["resources"]["memory"], 16);
        assert_eq!(
            a["instance_template"]["boot_disk"],
            json!({"type": "network-ssd", "size": 64})
        );
        assert_eq!(a["instance_template"]["network_interface"][0]["nat"], true);
    }

    #[test]
    fn update_bodies_wrap_the_version() {
        let b = group_body(&stack_group(), false);
        assert_eq!(b["version"], json!({"version": "1.30"}));
        assert!(b.get("clusterId").is_none() && b.get("nodeTaints").is_none());
    }
}
