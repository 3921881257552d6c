//! The resource types the emulated cloud serves, one declarative spec each; the generic
//! code in `crud.rs`, `update.rs` and `list.rs` does create/get/list/update/delete for all.
//! Paths and shapes follow the reference (/work/shared/reference/yandex_api.md §3).

/// Where a name must be unique.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scope {
    /// Among the type's resources in one folder.
    Folder,
    /// In the whole cloud (service accounts); the emulator holds one cloud.
    Cloud,
    /// Everywhere (bucket names); the name is the key.
    Global,
    /// Among the children of one parent (MDB topics/users/databases, node groups).
    Parent,
    /// Names are not unique (or absent).
    None,
}

/// What the name must look like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NameRule {
    /// `[a-z]([-a-z0-9]{0,61}[a-z0-9])?`; `optional` allows the empty name.
    Lower { optional: bool },
    /// `[a-zA-Z0-9_-]{1,63}` (MDB names).
    Mdb,
    /// `[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]` (bucket names).
    Bucket,
    /// Nameless (keys).
    Nameless,
}

/// A resource that belongs to another.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parent {
    /// The parent's kind.
    pub kind: &'static str,
    /// The field that holds the parent's id (in the resource and in operation metadata).
    pub field: &'static str,
    /// `Some("topics")`: the collection is nested under the parent's path
    /// (`…/clusters/{clusterId}/topics`) and keyed by name; `None`: a top-level collection
    /// whose create body names the parent, also listed at `…/{parentId}/<plural>`.
    pub nested: Option<&'static str>,
    /// Whether deleting the parent removes this resource (else the parent delete is refused).
    pub cascade: bool,
}

/// Status values through a resource's life.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lifecycle {
    pub creating: &'static str,
    pub running: &'static str,
    pub updating: &'static str,
    pub deleting: Option<&'static str>,
    /// Health while creating and once running.
    pub health: Option<(&'static str, &'static str)>,
}

/// One resource type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TypeSpec {
    /// `vpc.network`: the key of the status counts and of the data directory.
    pub kind: &'static str,
    /// What messages call it (`network "x" not found`).
    pub label: &'static str,
    /// Proto package and message: `@type` of responses and `<Verb><Message>Metadata`.
    pub package: &'static str,
    pub message: &'static str,
    /// Collection path of a top-level type (`/vpc/v1/networks`); for a nested type the
    /// parent's collection path.
    pub path: &'static str,
    /// JSON key of list answers.
    pub plural: &'static str,
    pub parent: Option<Parent>,
    /// Keyed by a generated id (`false`) or by its name (`true`: buckets, MDB children).
    pub by_name: bool,
    /// The metadata key of the resource's id or name (`networkId`, `topicName`, `name`).
    pub meta_key: &'static str,
    pub id_prefix: &'static str,
    pub scope: Scope,
    pub name_rule: NameRule,
    /// The list's required query parameter (`folderId`, `serviceAccountId`); `None` for
    /// nested collections.
    pub list_by: Option<&'static str>,
    pub paged: bool,
    /// Create bodies wrap the spec in this field (`{"topicSpec": {…}}`).
    pub wrapper: Option<&'static str>,
    pub required: &'static [&'static str],
    /// Fields naming other resources that must exist: (field, kind).
    pub refs: &'static [(&'static str, &'static str)],
    /// Fields naming a sibling under the same parent: (field, kind).
    pub sibling_refs: &'static [(&'static str, &'static str)],
    /// Request path → resource path, for create bodies.
    pub create_renames: &'static [(&'static str, &'static str)],
    /// Request path → resource path, for update bodies and mask paths.
    pub update_renames: &'static [(&'static str, &'static str)],
    /// Accepted but never stored or returned (passwords, create-only specs).
    pub dropped: &'static [&'static str],
    /// Resource paths an update may change (a mask path must lie under one).
    pub updatable: &'static [&'static str],
    /// Paths under updatable ones that still cannot change.
    pub immutable: &'static [&'static str],
    pub lifecycle: Option<Lifecycle>,
    /// One operation at a time per (MDB) cluster: others are refused as conflicting.
    pub exclusive: bool,
    /// Update without `updateMask` is refused (Storage: `*` means all).
    pub mask_required: bool,
    /// The custom methods the real API has on one resource (`"POST move"`): answered
    /// NOT_IMPLEMENTED; any other `:verb` is not found, as on the real API.
    pub verbs: &'static [&'static str],
    /// Whether `…/{id}/operations` lists the resource's operations (not for buckets).
    pub history: bool,
}

const BASE: TypeSpec = TypeSpec {
    kind: "",
    label: "",
    package: "",
    message: "",
    path: "",
    plural: "",
    parent: None,
    by_name: false,
    meta_key: "",
    id_prefix: "",
    scope: Scope::Folder,
    name_rule: NameRule::Lower { optional: true },
    list_by: Some("folderId"),
    paged: true,
    wrapper: None,
    required: &["folderId"],
    refs: &[],
    sibling_refs: &[],
    create_renames: &[],
    update_renames: &[],
    dropped: &[],
    updatable: &["name", "description", "labels"],
    immutable: &[],
    lifecycle: None,
    exclusive: false,
    mask_required: false,
    verbs: &[],
    history: true,
};

const MK8S: Lifecycle = Lifecycle {
    creating: "PROVISIONING",
    running: "RUNNING",
    updating: "RECONCILING",
    deleting: Some("DELETING"),
    health: Some(("UNHEALTHY", "HEALTHY")),
};

const MDB: Lifecycle = Lifecycle {
    creating: "CREATING",
    running: "RUNNING",
    updating: "UPDATING",
    deleting: None,
    health: Some(("HEALTH_UNKNOWN", "ALIVE")),
};

pub const NETWORK: TypeSpec = TypeSpec {
    kind: "vpc.network",
    label: "network",
    package: "yandex.cloud.vpc.v1",
    message: "Network",
    path: "/vpc/v1/networks",
    plural: "networks",
    meta_key: "networkId",
    id_prefix: "enp",
    verbs: &["POST move"],
    ..BASE
};

pub const SUBNET: TypeSpec = TypeSpec {
    kind: "vpc.subnet",
    label: "subnet",
    package: "yandex.cloud.vpc.v1",
    message: "Subnet",
    path: "/vpc/v1/subnets",
    plural: "subnets",
    parent: Some(Parent {
        kind: "vpc.network",
        field: "networkId",
        nested: None,
        cascade: false,
    }),
    meta_key: "subnetId",
    id_prefix: "e9b",
    required: &["folderId", "networkId", "zoneId", "v4CidrBlocks"],
    updatable: &[
        "name",
        "description",
        "labels",
        "routeTableId",
        "dhcpOptions",
        "v4CidrBlocks",
    ],
    verbs: &[
        "POST add-cidr-blocks",
        "POST move",
        "POST relocate",
        "POST remove-cidr-blocks",
    ],
    ..BASE
};

pub const SERVICE_ACCOUNT: TypeSpec = TypeSpec {
    kind: "iam.serviceAccount",
    label: "service account",
    package: "yandex.cloud.iam.v1",
    message: "ServiceAccount",
    path: "/iam/v1/serviceAccounts",
    plural: "serviceAccounts",
    meta_key: "serviceAccountId",
    id_prefix: "aje",
    scope: Scope::Cloud,
    name_rule: NameRule::Lower { optional: false },
    required: &["folderId", "name"],
    verbs: &[
        "GET listAccessBindings",
        "POST setAccessBindings",
        "POST updateAccessBindings",
        "POST reactivate",
        "POST suspend",
    ],
    ..BASE
};

/// Created synchronously by `keys.rs` (the answer carries the private key).
pub const KEY: TypeSpec = TypeSpec {
    kind: "iam.key",
    label: "key",
    package: "yandex.cloud.iam.v1",
    message: "Key",
    path: "/iam/v1/keys",
    plural: "keys",
    parent: Some(Parent {
        kind: "iam.serviceAccount",
        field: "serviceAccountId",
        nested: None,
        cascade: true,
    }),
    meta_key: "keyId",
    id_prefix: "ajk",
    scope: Scope::None,
    name_rule: NameRule::Nameless,
    list_by: Some("serviceAccountId"),
    required: &["serviceAccountId"],
    updatable: &["description"],
    ..BASE
};

pub const K8S_CLUSTER: TypeSpec = TypeSpec {
    kind: "k8s.cluster",
    label: "cluster",
    package: "yandex.cloud.k8s.v1",
    message: "Cluster",
    path: "/managed-kubernetes/v1/clusters",
    plural: "clusters",
    meta_key: "clusterId",
    id_prefix: "cat",
    required: &[
        "folderId",
        "networkId",
        "masterSpec",
        "serviceAccountId",
        "nodeServiceAccountId",
    ],
    refs: &[
        ("networkId", "vpc.network"),
        ("serviceAccountId", "iam.serviceAccount"),
        ("nodeServiceAccountId", "iam.serviceAccount"),
    ],
    update_renames: &[
        ("masterSpec.version.version", "master.version"),
        ("masterSpec.version", "master.version"),
        ("masterSpec", "master"),
    ],
    dropped: &["masterSpec"],
    updatable: &[
        "name",
        "description",
        "labels",
        "gatewayIpv4Address",
        "master.version",
        "master.maintenancePolicy",
        "master.securityGroupIds",
        "master.masterLogging",
        "master.locations",
        "serviceAccountId",
        "nodeServiceAccountId",
        "networkPolicy",
        "ipAllocationPolicy",
    ],
    lifecycle: Some(MK8S),
    verbs: &[
        "POST reschedule-maintenance",
        "POST start",
        "POST stop",
        "GET listAccessBindings",
        "POST setAccessBindings",
        "PATCH updateAccessBindings",
    ],
    ..BASE
};

pub const K8S_NODE_GROUP: TypeSpec = TypeSpec {
    kind: "k8s.nodeGroup",
    label: "node group",
    package: "yandex.cloud.k8s.v1",
    message: "NodeGroup",
    path: "/managed-kubernetes/v1/nodeGroups",
    plural: "nodeGroups",
    parent: Some(Parent {
        kind: "k8s.cluster",
        field: "clusterId",
        nested: None,
        cascade: true,
    }),
    meta_key: "nodeGroupId",
    id_prefix: "cat",
    scope: Scope::Parent,
    required: &["clusterId", "nodeTemplate", "scalePolicy"],
    create_renames: &[("version", "versionInfo.currentVersion")],
    update_renames: &[
        ("version.version", "versionInfo.currentVersion"),
        ("version", "versionInfo.currentVersion"),
    ],
    updatable: &[
        "name",
        "description",
        "labels",
        "nodeTemplate",
        "scalePolicy",
        "allocationPolicy",
        "deployPolicy",
        "versionInfo.currentVersion",
        "maintenancePolicy",
        "allowedUnsafeSysctls",
        "nodeLabels",
    ],
    lifecycle: Some(Lifecycle {
        health: None,
        ..MK8S
    }),
    ..BASE
};

pub const KAFKA_CLUSTER: TypeSpec = TypeSpec {
    kind: "mdb.kafka.cluster",
    label: "cluster",
    package: "yandex.cloud.mdb.kafka.v1",
    message: "Cluster",
    path: "/managed-kafka/v1/clusters",
    plural: "clusters",
    meta_key: "clusterId",
    id_prefix: "c9q",
    name_rule: NameRule::Lower { optional: false },
    required: &["folderId", "name", "configSpec", "networkId"],
    refs: &[("networkId", "vpc.network")],
    create_renames: &[("configSpec", "config")],
    update_renames: &[("configSpec", "config")],
    dropped: &["topicSpecs", "userSpecs", "subnetId", "subnetIds"],
    updatable: &[
        "name",
        "description",
        "labels",
        "config",
        "securityGroupIds",
        "deletionProtection",
        "maintenanceWindow",
        "networkId",
        "subnetIds",
    ],
    immutable: &[
        "config.assignPublicIp",
        "config.kafka.resources.diskTypeId",
        "config.zookeeper.resources.diskTypeId",
    ],
    lifecycle: Some(MDB),
    exclusive: true,
    verbs: &[
        "POST move",
        "POST rescheduleMaintenance",
        "POST start",
        "POST stop",
        "GET listAccessBindings",
        "POST setAccessBindings",
        "PATCH updateAccessBindings",
    ],
    ..BASE
};

const MDB_CHILD: TypeSpec = TypeSpec {
    by_name: true,
    scope: Scope::Parent,
    name_rule: NameRule::Mdb,
    list_by: None,
    required: &["name"],
    updatable: &[],
    exclusive: true,
    ..BASE
};

pub const KAFKA_TOPIC: TypeSpec = TypeSpec {
    kind: "mdb.kafka.topic",
    label: "topic",
    package: "yandex.cloud.mdb.kafka.v1",
    message: "Topic",
    path: "/managed-kafka/v1/clusters",
    plural: "topics",
    parent: Some(Parent {
        kind: "mdb.kafka.cluster",
        field: "clusterId",
        nested: Some("topics"),
        cascade: true,
    }),
    meta_key: "topicName",
    wrapper: Some("topicSpec"),
    update_renames: &[("topicSpec", "")],
    updatable: &[
        "partitions",
        "replicationFactor",
        "topicConfig_2_8",
        "topicConfig_3",
        "topicConfig_4",
    ],
    ..MDB_CHILD
};

pub const KAFKA_USER: TypeSpec = TypeSpec {
    kind: "mdb.kafka.user",
    label: "user",
    package: "yandex.cloud.mdb.kafka.v1",
    message: "User",
    path: "/managed-kafka/v1/clusters",
    plural: "users",
    parent: Some(Parent {
        kind: "mdb.kafka.cluster",
        field: "clusterId",
        nested: Some("users"),
        cascade: true,
    }),
    meta_key: "userName",
    wrapper: Some("userSpec"),
    required: &["name", "password"],
    dropped: &["password"],
    updatable: &["password", "permissions"],
    verbs: &["POST grantPermission", "POST revokePermission"],
    ..MDB_CHILD
};

pub const PG_CLUSTER: TypeSpec = TypeSpec {
    kind: "mdb.postgresql.cluster",
    label: "cluster",
    package: "yandex.cloud.mdb.postgresql.v1",
    message: "Cluster",
    path: "/managed-postgresql/v1/clusters",
    plural: "clusters",
    meta_key: "clusterId",
    id_prefix: "c9q",
    name_rule: NameRule::Mdb,
    required: &[
        "folderId",
        "name",
        "environment",
        "configSpec",
        "networkId",
        "hostSpecs",
    ],
    refs: &[("networkId", "vpc.network")],
    create_renames: &[("configSpec", "config")],
    update_renames: &[("configSpec", "config")],
    dropped: &["databaseSpecs", "userSpecs", "hostSpecs"],
    updatable: &[
        "name",
        "description",
        "labels",
        "config",
        "maintenanceWindow",
        "securityGroupIds",
        "deletionProtection",
        "networkId",
    ],
    lifecycle: Some(MDB),
    exclusive: true,
    verbs: &[
        "POST move",
        "POST rescheduleMaintenance",
        "POST start",
        "POST startFailover",
        "POST stop",
        "GET listAccessBindings",
        "POST setAccessBindings",
        "PATCH updateAccessBindings",
    ],
    ..BASE
};

pub const PG_DATABASE: TypeSpec = TypeSpec {
    kind: "mdb.postgresql.database",
    label: "database",
    package: "yandex.cloud.mdb.postgresql.v1",
    message: "Database",
    path: "/managed-postgresql/v1/clusters",
    plural: "databases",
    parent: Some(Parent {
        kind: "mdb.postgresql.cluster",
        field: "clusterId",
        nested: Some("databases"),
        cascade: true,
    }),
    meta_key: "databaseName",
    wrapper: Some("databaseSpec"),
    required: &["name", "owner"],
    sibling_refs: &[("owner", "mdb.postgresql.user")],
    updatable: &["extensions", "deletionProtection"],
    ..MDB_CHILD
};

pub const PG_USER: TypeSpec = TypeSpec {
    kind: "mdb.postgresql.user",
    label: "user",
    package: "yandex.cloud.mdb.postgresql.v1",
    message: "User",
    path: "/managed-postgresql/v1/clusters",
    plural: "users",
    parent: Some(Parent {
        kind: "mdb.postgresql.cluster",
        field: "clusterId",
        nested: Some("users"),
        cascade: true,
    }),
    meta_key: "userName",
    wrapper: Some("userSpec"),
    required: &["name", "password"],
    dropped: &["password"],
    updatable: &[
        "password",
        "permissions",
        "connLimit",
        "settings",
        "login",
        "grants",
        "deletionProtection",
    ],
    verbs: &["POST grantPermission", "POST revokePermission"],
    ..MDB_CHILD
};

pub const BUCKET: TypeSpec = TypeSpec {
    kind: "storage.bucket",
    label: "bucket",
    package: "yandex.cloud.storage.v1",
    message: "Bucket",
    path: "/storage/v1/buckets",
    plural: "buckets",
    by_name: true,
    meta_key: "name",
    scope: Scope::Global,
    name_rule: NameRule::Bucket,
    paged: false,
    required: &["folderId", "name"],
    updatable: &[
        "defaultStorageClass",
        "maxSize",
        "anonymousAccessFlags",
        "acl",
        "tags",
        "encryption",
        "versioning",
        "allowedPrivateEndpoints",
        "cors",
        "websiteSettings",
        "lifecycleRules",
        "policy",
        "objectLock",
    ],
    mask_required: true,
    verbs: &[
        "POST deleteHttpsConfig",
        "GET getHttpsConfig",
        "GET getStats",
        "POST setHttpsConfig",
        "GET listInventoryConfigurations",
        "GET listAccessBindings",
        "POST setAccessBindings",
        "PATCH updateAccessBindings",
    ],
    history: false,
    ..BASE
};

/// Every served type, parents before children.
pub const TYPES: &[&TypeSpec] = &[
    &NETWORK,
    &SUBNET,
    &SERVICE_ACCOUNT,
    &KEY,
    &K8S_CLUSTER,
    &K8S_NODE_GROUP,
    &KAFKA_CLUSTER,
    &KAFKA_TOPIC,
    &KAFKA_USER,
    &PG_CLUSTER,
    &PG_DATABASE,
    &PG_USER,
    &BUCKET,
];

/// The spec of a kind.
pub fn spec(kind: &str) -> Option<&'static TypeSpec> {
    TYPES.iter().copied().find(|t| t.kind == kind)
}

impl TypeSpec {
    /// `type.googleapis.com/<package>.<message>`.
    pub fn type_url(&self) -> String {
        format!("type.googleapis.com/{}.{}", self.package, self.message)
    }

    /// `type.googleapis.com/<package>.<Verb><Message>Metadata`.
    pub fn metadata_url(&self, verb: &str) -> String {
        format!(
            "type.googleapis.com/{}.{verb}{}Metadata",
            self.package, self.message
        )
    }

    /// Whether the name field must satisfy `rule`; `Err` names what is wrong.
    pub fn check_name(&self, name: &str) -> Result<(), String> {
        let ok = match self.name_rule {
            NameRule::Nameless => true,
            NameRule::Lower { optional } => (optional && name.is_empty()) || lower_name(name),
            NameRule::Mdb => {
                (1..=63).contains(&name.len())
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            }
            NameRule::Bucket => {
                let b = name.as_bytes();
                (3..=63).contains(&b.len())
                    && b.iter().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-'
                    })
                    && b[0].is_ascii_alphanumeric()
                    && b[b.len() - 1].is_ascii_alphanumeric()
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!("invalid {} name \"{name}\"", self.label))
        }
    }
}

fn lower_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for t in TYPES {
            assert!(!t.kind.is_empty() && !t.meta_key.is_empty(), "{}", t.kind);
            if let Some(p) = t.parent {
                let parent = spec(p.kind).unwrap();
                let pos = |k: &str| TYPES.iter().position(|x| x.kind == k).unwrap();
                assert!(pos(parent.kind) < pos(t.kind), "{}", t.kind);
            }
            assert_eq!(t.by_name, t.id_prefix.is_empty(), "{}", t.kind);
        }
        assert_eq!(
            NETWORK.metadata_url("Create"),
            "type.googleapis.com/yandex.cloud.vpc.v1.CreateNetworkMetadata"
        );
    }

    #[test]
    fn names() {
        assert!(NETWORK.check_name("").is_ok());
        assert!(SERVICE_ACCOUNT.check_name("").is_err());
        assert!(NETWORK.check_name("net-1").is_ok());
        assert!(NETWORK.check_name("Net").is_err());
        assert!(NETWORK.check_name("net-").is_err());
        assert!(KAFKA_TOPIC.check_name("Events_1").is_ok());
        assert!(BUCKET.check_name("my.bucket-1").is_ok());
        assert!(BUCKET.check_name("ab").is_err());
    }
}
