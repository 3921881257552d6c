//! VPC networks and subnets (reference §3.1, §3.2).

use super::rest::{attr, Collection};
use super::{Cx, Kind, Timeouts};
use crate::client::Service;
use crate::convert::{strings, Obj};
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

const NETWORKS: Collection = Collection {
    service: Service::Vpc,
    path: "/vpc/v1/networks",
    list_key: "networks",
    id_key: "networkId",
};

pub struct Network;

fn network_attrs(api: &Json) -> Json {
    common_attrs(api)
        .set(
            "default_security_group_id",
            json!(api
                .get("defaultSecurityGroupId")
                .and_then(Json::as_str)
                .unwrap_or("")),
        )
        .build()
}

#[async_trait::async_trait]
impl Kind for Network {
    fn type_name(&self) -> &'static str {
        "yandex_vpc_network"
    }

    fn mask_rules(&self, _planned: &Json) -> Vec<Rule> {
        rules(&[
            ("name", "name"),
            ("description", "description"),
            ("labels", "labels"),
        ])
    }

    async fn read(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Option<Json>, ProviderError> {
        Ok(NETWORKS
            .get(cx, self, attr(attrs, "id"))
            .await?
            .map(|a| network_attrs(&a)))
    }

    async fn find(&self, cx: &Cx<'_>, d: &Json) -> Result<Option<Json>, ProviderError> {
        Ok(NETWORKS
            .find(cx, self, attr(d, "folder_id"), attr(d, "name"))
            .await?
            .map(|a| network_attrs(&a)))
    }

    async fn create(&self, cx: &Cx<'_>, d: &Json) -> Result<Json, ProviderError> {
        let api = NETWORKS.create(cx, self, common_body(d).build()).await?;
        Ok(network_attrs(&api))
    }

    async fn update(
        &self,
        cx: &Cx<'_>,
        planned: &Json,
        prior: &Json,
        mask: &[String],
    ) -> Result<Json, ProviderError> {
        let api = NETWORKS
            .update(
                cx,
                self,
                attr(prior, "id"),
                &common_body(planned).build(),
                mask,
            )
            .await?;
        Ok(network_attrs(&api))
    }

    async fn delete(&self, cx: &Cx<'_>, attrs: &Json) -> Result<(), ProviderError> {
        NETWORKS.delete(cx, self, attr(attrs, "id")).await
    }
}

const SUBNETS: Collection = Collection {
    service: Service::Vpc,
    path: "/vpc/v1/subnets",
    list_key: "subnets",
    id_key: "subnetId",
};

pub struct Subnet;

fn subnet_attrs(api: &Json) -> Json {
    let dhcp = api.get("dhcpOptions").filter(|d| d.is_object()).map(|d| {
        Obj::new()
            .copy("domain_name", d, "domainName")
            .copy("domain_name_servers", d, "domainNameServers")
            .copy("ntp_servers", d, "ntpServers")
            .build()
    });
    common_attrs(api)
        .copy("network_id", api, "networkId")
        .copy("zone", api, "zoneId")
        .set("v4_cidr_blocks", strings(api.get("v4CidrBlocks")))
        .set("v6_cidr_blocks", strings(api.get("v6CidrBlocks")))
        .set(
            "route_table_id",
            api.get("routeTableId")
                .filter(|r| r.as_str().is_some_and(|s| !s.is_empty()))
                .cloned()
                .unwrap_or(Json::Null),
        )
        .set("dhcp_options", dhcp.unwrap_or(Json::Null))
        .build()
}

fn subnet_body(d: &Json) -> Json {
    let dhcp = d.get("dhcp_options").map(|o| {
        Obj::new()
            .copy("domainName", o, "domain_name")
            .copy("domainNameServers", o, "domain_name_servers")
            .copy("ntpServers", o, "ntp_servers")
            .build()
    });
    common_body(d)
        .copy("networkId", d, "network_id")
        .copy("zoneId", d, "zone")
        .copy("v4CidrBlocks", d, "v4_cidr_blocks")
        .copy("routeTableId", d, "route_table_id")
        .set("dhcpOptions", dhcp.unwrap_or(Json::Null))
        .build()
}

#[async_trait::async_trait]
impl Kind for Subnet {
    fn type_name(&self) -> &'static str {
        "yandex_vpc_subnet"
    }

    fn timeouts(&self) -> Timeouts {
        Timeouts::minutes(3, 3, 3)
    }

    fn mask_rules(&self, _planned: &Json) -> Vec<Rule> {
        rules(&[
            ("name", "name"),
            ("description", "description"),
            ("labels", "labels"),
            ("route_table_id", "routeTableId"),
            ("dhcp_options", "dhcpOptions"),
            ("v4_cidr_blocks", "v4CidrBlocks"),
        ])
    }

    async fn read(&self, cx: &Cx<'_>, attrs: &Json) -> Result<Option<Json>, ProviderError> {
        Ok(SUBNETS
            .get(cx, self, attr(attrs, "id"))
            .await?
            .map(|a| subnet_attrs(&a)))
    }

    async fn find(&self, cx: &Cx<'_>, d: &Json) -> Result<Option<Json>, ProviderError> {
        Ok(SUBNETS
            .find(cx, self, attr(d, "folder_id"), attr(d, "name"))
            .await?
            .map(|a| subnet_attrs(&a)))
    }

    async fn create(&self, cx: &Cx<'_>, d: &Json) -> Result<Json, ProviderError> {
        let api = SUBNETS.create(cx, self, subnet_body(d)).await?;
        Ok(subnet_attrs(&api))
    }

    async fn update(
        &self,
        cx: &Cx<'_>,
        planned: &Json,
        prior: &Json,
        mask: &[String],
    ) -> Result<Json, ProviderError> {
        let api = SUBNETS
            .update(cx, self, attr(prior, "id"), &subnet_body(planned), mask)
            .await?;
        Ok(subnet_attrs(&api))
    }

    async fn delete(&self, cx: &Cx<'_>, attrs: &Json) -> Result<(), ProviderError> {
        SUBNETS.delete(cx, self, attr(attrs, "id")).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_map_both_ways() {
        let tf = json!({"name": "a", "description": "", "labels": {}, "folder_id": "f",
            "network_id": "n", "zone": "ru-central1-a", "v4_cidr_blocks": ["10.0.0.0/24"],
            "dhcp_options": {"domain_name": "x.internal"}});
        let body = subnet_body(&tf);
        assert_eq!(
            body,
            json!({"folderId": "f", "name": "a", "description": "", "labels": {},
                "networkId": "n", "zoneId": "ru-central1-a", "v4CidrBlocks": ["10.0.0.0/24"],
                "dhcpOptions": {"domainName": "x.internal"}})
        );
        let mut api = body.clone();
        api["id"] = json!("e9b1");
        api["createdAt"] = json!("2024-01-01T00:00:00Z");
        let back = subnet_attrs(&api);
        assert_eq!(back["zone"], "ru-central1-a");
        assert_eq!(back["v6_cidr_blocks"], json!([]));
        assert_eq!(back["dhcp_options"], json!({"domain_name": "x.internal"}));
        assert!(back.get("route_table_id").is_none());
        assert_eq!(back["id"], "e9b1");
    }
}
