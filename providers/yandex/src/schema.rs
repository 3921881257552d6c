//! The resource types of Yandex Cloud as the stack sees them (Terraform's attribute names), with
//! the fields the API sets (`computed`) and those it cannot change in place (`force_new`, per the
//! API reference and the Terraform provider).

use mlstack_provider_api::{AttrSchema, AttrType, ResourceSchema};

fn s(d: &'static str) -> AttrSchema {
    AttrSchema::input(AttrType::String).describe(d)
}

fn req(ty: AttrType, d: &'static str) -> AttrSchema {
    AttrSchema::input(ty).required().describe(d)
}

fn out(ty: AttrType, d: &'static str) -> AttrSchema {
    AttrSchema::computed(ty).describe(d)
}

/// `name`, `description`, `labels`, `folder_id` (immutable) and the computed `id`.
fn common(description: &'static str) -> ResourceSchema {
    ResourceSchema::new(description)
        .attr("name", req(AttrType::String, "name, unique in the folder"))
        .attr("description", s("free text, at most 256 characters"))
        .attr(
            "labels",
            AttrSchema::input(AttrType::Map).describe("at most 64 labels"),
        )
        .attr(
            "folder_id",
            s("folder; defaults to the provider's folder_id").force_new(),
        )
        .attr("id", out(AttrType::String, "the cloud's id"))
        .attr("created_at", out(AttrType::String, "creation time"))
}

fn network() -> ResourceSchema {
    common("A VPC network").attr(
        "default_security_group_id",
        out(AttrType::String, "the network's default security group"),
    )
}

fn subnet() -> ResourceSchema {
    common("A VPC subnet in one zone")
        .attr(
            "network_id",
            req(AttrType::String, "the network").force_new(),
        )
        .attr(
            "zone",
            s("availability zone; defaults to the provider's zone").force_new(),
        )
        .attr(
            "v4_cidr_blocks",
            req(AttrType::List, "IPv4 ranges, /16 to /28"),
        )
        .attr("route_table_id", s("route table"))
        .attr(
            "dhcp_options",
            AttrSchema::input(AttrType::Map)
                .describe("domain_name, domain_name_servers, ntp_servers"),
        )
        .attr("v6_cidr_blocks", out(AttrType::List, "IPv6 ranges"))
}

fn service_account() -> ResourceSchema {
    common("An IAM service account (its name is unique in the cloud)")
}

fn folder_iam_member() -> ResourceSchema {
    ResourceSchema::new("One role bound to one member on a folder")
        .attr(
            "folder_id",
            req(AttrType::String, "the folder").force_new(),
        )
        .attr(
            "role",
            req(AttrType::String, "role id, e.g. k8s.clusters.agent").force_new(),
        )
        .attr(
            "member",
            req(
                AttrType::String,
                "serviceAccount:<id>, userAccount:<id>, federatedUser:<id>, group:<id> or system:<id>",
            )
            .force_new(),
        )
        .attr("id", out(AttrType::String, "folder/role/member"))
}

fn kubernetes_cluster() -> ResourceSchema {
    common("A Managed Kubernetes cluster (its master)")
        .attr(
            "network_id",
            req(AttrType::String, "the cluster's network").force_new(),
        )
        .attr(
            "master",
            req(
                AttrType::Map,
                "version, public_ip, zonal {zone, subnet_id} or regional {region, location}, maintenance_policy, security_group_ids",
            ),
        )
        .attr(
            "service_account_id",
            req(AttrType::String, "account that manages cloud resources for the cluster"),
        )
        .attr(
            "node_service_account_id",
            req(AttrType::String, "account the nodes use (image pulls)"),
        )
        .attr(
            "release_channel",
            s("RAPID, REGULAR or STABLE").force_new(),
        )
        .attr(
            "network_policy_provider",
            s("CALICO").force_new(),
        )
        .attr("cluster_ipv4_range", s("pod CIDR").force_new())
        .attr("service_ipv4_range", s("service CIDR").force_new())
        .attr(
            "node_ipv4_cidr_mask_size",
            AttrSchema::input(AttrType::Number)
                .describe("pod range per node: 24 to 28")
                .force_new(),
        )
        .attr(
            "kms_provider",
            AttrSchema::input(AttrType::Map)
                .describe("key_id for secrets encryption")
                .force_new(),
        )
        .attr("status", out(AttrType::String, "PROVISIONING, RUNNING, ..."))
        .attr("health", out(AttrType::String, "HEALTHY or UNHEALTHY"))
        .attr(
            "endpoint",
            out(AttrType::String, "the API server's external URL"),
        )
        .attr(
            "internal_endpoint",
            out(AttrType::String, "the API server's URL inside the network"),
        )
        .attr(
            "ca_certificate",
            out(AttrType::String, "PEM of the cluster CA"),
        )
        .attr(
            "kubeconfig",
            out(
                AttrType::String,
                "a kubeconfig that gets its token from `yc` (exec plugin); no token is stored",
            )
            .sensitive(),
        )
}

fn node_group() -> ResourceSchema {
    common("A Managed Kubernetes node group, fixed or auto scale")
        .attr(
            "cluster_id",
            req(AttrType::String, "the cluster").force_new(),
        )
        .attr("version", s("Kubernetes version of the nodes"))
        .attr(
            "instance_template",
            req(
                AttrType::Map,
                "platform_id, resources {memory (GB), cores, core_fraction}, boot_disk {type, size (GB)}, network_interface, scheduling_policy",
            ),
        )
        .attr(
            "scale_policy",
            req(
                AttrType::Map,
                "exactly one of fixed_scale {size} or auto_scale {min, max, initial}",
            ),
        )
        .attr(
            "allocation_policy",
            AttrSchema::input(AttrType::Map)
                .describe("location: [{zone, subnet_id}]")
                .force_new(),
        )
        .attr(
            "node_labels",
            AttrSchema::input(AttrType::Map).describe("Kubernetes labels of the nodes"),
        )
        .attr(
            "node_taints",
            AttrSchema::input(AttrType::List)
                .describe("taints, `key=value:effect`")
                .force_new(),
        )
        .attr(
            "maintenance_policy",
            AttrSchema::input(AttrType::Map)
                .describe("auto_upgrade, auto_repair, maintenance_window [{day, start_time, duration}]"),
        )
        .attr(
            "deploy_policy",
            AttrSchema::input(AttrType::Map).describe("max_expansion, max_unavailable"),
        )
        .attr("status", out(AttrType::String, "PROVISIONING, RUNNING, ..."))
        .attr(
            "instance_group_id",
            out(AttrType::String, "the compute instance group"),
        )
}

fn mdb_cluster(description: &'static str) -> ResourceSchema {
    common(description)
        .attr(
            "environment",
            s("PRODUCTION (default) or PRESTABLE").force_new(),
        )
        .attr(
            "network_id",
            req(AttrType::String, "the cluster's network").force_new(),
        )
        .attr("security_group_ids", AttrSchema::input(AttrType::List))
        .attr("deletion_protection", AttrSchema::input(AttrType::Bool))
        .attr("status", out(AttrType::String, "CREATING, RUNNING, ..."))
        .attr("health", out(AttrType::String, "ALIVE, DEAD, DEGRADED"))
}

fn kafka_cluster() -> ResourceSchema {
    mdb_cluster("A Managed Service for Apache Kafka cluster")
        .attr(
            "subnet_ids",
            AttrSchema::input(AttrType::List).describe("one subnet per zone"),
        )
        .attr(
            "host_group_ids",
            AttrSchema::input(AttrType::List).force_new(),
        )
        .attr(
            "config",
            req(
                AttrType::Map,
                "version, zones, brokers_count, assign_public_ip, kafka {resources, kafka_config}",
            ),
        )
        .attr(
            "bootstrap_servers",
            out(AttrType::String, "host:9091,... (SASL_SSL)"),
        )
}

fn kafka_topic() -> ResourceSchema {
    ResourceSchema::new("A topic of a Managed Kafka cluster")
        .attr(
            "cluster_id",
            req(AttrType::String, "the Kafka cluster").force_new(),
        )
        .attr("name", req(AttrType::String, "topic name").force_new())
        .attr("partitions", req(AttrType::Number, "number of partitions"))
        .attr(
            "replication_factor",
            req(AttrType::Number, "copies of each partition"),
        )
        .attr(
            "topic_config",
            AttrSchema::input(AttrType::Map).describe("cleanup_policy, retention_ms, ..."),
        )
        .attr("id", out(AttrType::String, "<cluster id>:<topic>"))
}

fn kafka_user() -> ResourceSchema {
    ResourceSchema::new("A user of a Managed Kafka cluster")
        .attr(
            "cluster_id",
            req(AttrType::String, "the Kafka cluster").force_new(),
        )
        .attr("name", req(AttrType::String, "user name").force_new())
        .attr(
            "password",
            req(AttrType::String, "8 to 128 characters").sensitive(),
        )
        .attr(
            "permission",
            AttrSchema::input(AttrType::List).describe("[{topic_name, role}]"),
        )
        .attr("id", out(AttrType::String, "<cluster id>:<user>"))
}

fn postgresql_cluster() -> ResourceSchema {
    mdb_cluster("A Managed Service for PostgreSQL cluster")
        .attr(
            "config",
            req(
                AttrType::Map,
                "version, resources {resource_preset_id, disk_size, disk_type_id}, pooler_config",
            ),
        )
        .attr(
            "host",
            req(AttrType::List, "[{zone, subnet_id, assign_public_ip}]"),
        )
        .attr(
            "fqdn",
            out(
                AttrType::String,
                "c-<id>.rw.mdb.yandexcloud.net, the current master",
            ),
        )
}

fn postgresql_database() -> ResourceSchema {
    ResourceSchema::new("A database of a Managed PostgreSQL cluster")
        .attr(
            "cluster_id",
            req(AttrType::String, "the PostgreSQL cluster").force_new(),
        )
        .attr("name", req(AttrType::String, "database name"))
        .attr(
            "owner",
            req(AttrType::String, "an existing user").force_new(),
        )
        .attr("lc_collate", s("default C").force_new())
        .attr("lc_type", s("default C").force_new())
        .attr("template_db", s("template database").force_new())
        .attr(
            "extension",
            AttrSchema::input(AttrType::List).describe("[{name, version}]"),
        )
        .attr("id", out(AttrType::String, "<cluster id>:<database>"))
}

fn postgresql_user() -> ResourceSchema {
    ResourceSchema::new("A user of a Managed PostgreSQL cluster")
        .attr(
            "cluster_id",
            req(AttrType::String, "the PostgreSQL cluster").force_new(),
        )
        .attr(
            "name",
            req(AttrType::String, "user name (cannot be renamed)").force_new(),
        )
        .attr(
            "password",
            req(AttrType::String, "8 to 128 characters").sensitive(),
        )
        .attr(
            "permission",
            AttrSchema::input(AttrType::List).describe("[{database_name}]"),
        )
        .attr(
            "conn_limit",
            AttrSchema::input(AttrType::Number).describe("at least 10; default 50"),
        )
        .attr("login", AttrSchema::input(AttrType::Bool))
        .attr("id", out(AttrType::String, "<cluster id>:<user>"))
}

fn storage_bucket() -> ResourceSchema {
    ResourceSchema::new("An Object Storage bucket (S3-compatible)")
        .attr(
            "bucket",
            req(AttrType::String, "globally unique name").force_new(),
        )
        .attr(
            "folder_id",
            s("folder; defaults to the provider's folder_id").force_new(),
        )
        .attr(
            "max_size",
            AttrSchema::input(AttrType::Number).describe("bytes; 0 = unlimited"),
        )
        .attr("default_storage_class", s("STANDARD, COLD or ICE"))
        .attr(
            "anonymous_access_flags",
            AttrSchema::input(AttrType::Map).describe("read, list, config_read"),
        )
        .attr(
            "versioning",
            AttrSchema::input(AttrType::Map).describe("enabled"),
        )
        .attr(
            "force_destroy",
            AttrSchema::input(AttrType::Bool).describe("delete objects with the bucket"),
        )
        .attr("id", out(AttrType::String, "the bucket's name"))
        .attr(
            "bucket_domain_name",
            out(AttrType::String, "<bucket>.storage.yandexcloud.net"),
        )
}

/// Every resource type with its schema.
pub fn resources() -> Vec<(&'static str, ResourceSchema)> {
    vec![
        ("yandex_vpc_network", network()),
        ("yandex_vpc_subnet", subnet()),
        ("yandex_iam_service_account", service_account()),
        (
            "yandex_resourcemanager_folder_iam_member",
            folder_iam_member(),
        ),
        ("yandex_kubernetes_cluster", kubernetes_cluster()),
        ("yandex_kubernetes_node_group", node_group()),
        ("yandex_mdb_kafka_cluster", kafka_cluster()),
        ("yandex_mdb_kafka_topic", kafka_topic()),
        ("yandex_mdb_kafka_user", kafka_user()),
        ("yandex_mdb_postgresql_cluster", postgresql_cluster()),
        ("yandex_mdb_postgresql_database", postgresql_database()),
        ("yandex_mdb_postgresql_user", postgresql_user()),
        ("yandex_storage_bucket", storage_bucket()),
    ]
}

/// Data sources: a short-lived token for a cluster's API (read at apply when the cluster is new),
/// so the kubernetes provider can be configured from a cluster of the same stack.
pub fn data_sources() -> Vec<(&'static str, ResourceSchema)> {
    vec![(
        "yandex_kubernetes_cluster_auth",
        ResourceSchema::new("A short-lived IAM token for a Managed Kubernetes cluster's API")
            .attr(
                "cluster_id",
                req(AttrType::String, "the cluster, e.g. ${cluster.id}"),
            )
            .attr(
                "token",
                out(AttrType::String, "bearer token for the API server").sensitive(),
            )
            .attr(
                "expires_at",
                out(AttrType::String, "when the token expires"),
            ),
    )]
}

/// The provider block.
pub fn config() -> ResourceSchema {
    ResourceSchema::new("Credentials and defaults for Yandex Cloud")
        .attr(
            "token",
            AttrSchema::input(AttrType::String)
                .sensitive()
                .describe("OAuth or IAM token"),
        )
        .attr(
            "service_account_key_file",
            s("path of a service account's authorized key (JSON)"),
        )
        .attr("folder_id", s("default folder of every resource"))
        .attr("cloud_id", s("the cloud"))
        .attr("zone", s("default availability zone, e.g. ru-central1-a"))
        .attr(
            "endpoint",
            s("one base URL for every API service instead of the real hosts (a proxy, the sandbox)"),
        )
        .attr(
            "ca_certificate",
            s("PEM of a CA to trust in addition to the public roots, for a custom endpoint"),
        )
}

/// Paths inside nested blocks that force a replacement (the schema marks only top-level
/// attributes): changing one, or swapping it for another block, replaces the resource.
pub fn nested_force_new(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "yandex_kubernetes_cluster" => &[
            "master.public_ip",
            "master.etcd_cluster_size",
            "master.zonal",
            "master.regional",
            "master.external_v6_address",
        ],
        "yandex_kubernetes_node_group" => &["scale_policy.auto_scale"],
        "yandex_mdb_kafka_cluster" => &[
            "config.assign_public_ip",
            "config.kafka.resources.disk_type_id",
            "config.zookeeper.resources.disk_type_id",
        ],
        _ => &[],
    }
}

/// The attributes allowed inside nested blocks, as dotted paths (list items take their list's
/// path; `.*` allows any key below: settings maps). A key the API mapping does not know would
/// otherwise be dropped on create and read as a change forever after.
pub fn nested_attributes(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "yandex_vpc_subnet" => &[
            "dhcp_options.domain_name",
            "dhcp_options.domain_name_servers",
            "dhcp_options.ntp_servers",
        ],
        "yandex_kubernetes_cluster" => &[
            "master.version",
            "master.public_ip",
            "master.zonal.zone",
            "master.zonal.subnet_id",
            "master.regional.region",
            "master.regional.location.zone",
            "master.regional.location.subnet_id",
            "master.maintenance_policy.auto_upgrade",
            "master.maintenance_policy.maintenance_window.day",
            "master.maintenance_policy.maintenance_window.start_time",
            "master.maintenance_policy.maintenance_window.duration",
            "master.security_group_ids",
            "master.etcd_cluster_size",
            "kms_provider.key_id",
        ],
        "yandex_kubernetes_node_group" => &[
            "instance_template.platform_id",
            "instance_template.resources.memory",
            "instance_template.resources.cores",
            "instance_template.resources.core_fraction",
            "instance_template.resources.gpus",
            "instance_template.boot_disk.type",
            "instance_template.boot_disk.size",
            "instance_template.network_interface.subnet_ids",
            "instance_template.network_interface.nat",
            "instance_template.network_interface.security_group_ids",
            "instance_template.scheduling_policy.preemptible",
            "instance_template.metadata.*",
            "instance_template.name",
            "instance_template.labels.*",
            "instance_template.container_runtime.type",
            "instance_template.network_acceleration_type",
            "scale_policy.fixed_scale.size",
            "scale_policy.auto_scale.min",
            "scale_policy.auto_scale.max",
            "scale_policy.auto_scale.initial",
            "allocation_policy.location.zone",
            "allocation_policy.location.subnet_id",
            "maintenance_policy.auto_upgrade",
            "maintenance_policy.auto_repair",
            "maintenance_policy.maintenance_window.day",
            "maintenance_policy.maintenance_window.start_time",
            "maintenance_policy.maintenance_window.duration",
            "deploy_policy.max_expansion",
            "deploy_policy.max_unavailable",
        ],
        "yandex_mdb_kafka_cluster" => &[
            "config.version",
            "config.zones",
            "config.brokers_count",
            "config.assign_public_ip",
            "config.schema_registry",
            "config.kafka.resources.resource_preset_id",
            "config.kafka.resources.disk_size",
            "config.kafka.resources.disk_type_id",
            "config.kafka.kafka_config.*",
            "config.zookeeper.resources.resource_preset_id",
            "config.zookeeper.resources.disk_size",
            "config.zookeeper.resources.disk_type_id",
        ],
        "yandex_mdb_kafka_topic" => &["topic_config.*"],
        "yandex_mdb_kafka_user" => &[
            "permission.topic_name",
            "permission.role",
            "permission.allow_hosts",
        ],
        "yandex_mdb_postgresql_cluster" => &[
            "config.version",
            "config.resources.resource_preset_id",
            "config.resources.disk_size",
            "config.resources.disk_type_id",
            "config.pooler_config.pooling_mode",
            "config.pooler_config.pool_discard",
            "config.autofailover",
            "config.backup_retain_period_days",
            "config.backup_window_start.hours",
            "config.backup_window_start.minutes",
            "config.access.*",
            "config.postgresql_config.*",
            "host.zone",
            "host.subnet_id",
            "host.assign_public_ip",
        ],
        "yandex_mdb_postgresql_database" => &["extension.name", "extension.version"],
        "yandex_mdb_postgresql_user" => &["permission.database_name"],
        "yandex_storage_bucket" => &[
            "anonymous_access_flags.read",
            "anonymous_access_flags.list",
            "anonymous_access_flags.config_read",
            "versioning.enabled",
        ],
        _ => &[],
    }
}
