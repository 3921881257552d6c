//! VPC networks and subnets (reference §3.1, §3.2).

use super::folder::{common_attrs, common_body, FolderKind};
use super::rest::Collection;
use super::Timeouts;
use crate::client::Service;
use crate::convert::{strings, Obj};
use serde_json::{json, Value as Json};

/// `yandex_vpc_network`.
pub static NETWORK: FolderKind = FolderKind {
    type_name: "yandex_vpc_network",
    collection: Collection {
        service: Service::Vpc,
        path: "/vpc/v1/networks",
        list_key: "networks",
        id_key: "networkId",
    },
    timeouts: Timeouts::minutes(1, 1, 1),
    mask: &[
        ("name", "name"),
        ("description", "description"),
        ("labels", "labels"),
    ],
    attrs: network_attrs,
    body: |d| common_body(d).build(),
};

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

/// `yandex_vpc_subnet`.
pub static SUBNET: FolderKind = FolderKind {
    type_name: "yandex_vpc_subnet",
    collection: Collection {
        service: Service::Vpc,
        path: "/vpc/v1/subnets",
        list_key: "subnets",
        id_key: "subnetId",
    },
    timeouts: Timeouts::minutes(3, 3, 3),
    mask: &[
        ("name", "name"),
        ("description", "description"),
        ("labels", "labels"),
        ("route_table_id", "routeTableId"),
        ("dhcp_options", "dhcpOptions"),
        ("v4_cidr_blocks", "v4CidrBlocks"),
    ],
    attrs: subnet_attrs,
    body: subnet_body,
};

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
