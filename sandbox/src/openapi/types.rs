//! The typed description of the built-in kinds, the one source for `/openapi/v2`,
//! `/openapi/v3` and unknown-field detection. Structs the sandbox does not describe field
//! by field are [`Ty::Open`] (unknown fields below them are kept and never reported), so
//! a field the real API knows is never called unknown.

/// A field's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Str,
    Int32,
    Int64,
    Bool,
    /// `intstr.IntOrString` (`format: int-or-string`).
    IntOrStr,
    /// `resource.Quantity`.
    Quantity,
    /// `metav1.Time` (`format: date-time`).
    Time,
    /// `[]byte` (`format: byte`, base64 in JSON).
    Bytes,
    /// A named definition (the full OpenAPI name).
    Ref(&'static str),
    List(Box<Ty>, List),
    /// `map[string]T`.
    Map(Box<Ty>),
    /// An object not described field by field: anything is kept.
    Open,
}

/// How a list merges (`x-kubernetes-list-type` and the strategic-merge key).
#[derive(Debug, Clone, PartialEq)]
pub enum List {
    Atomic,
    Set,
    /// `x-kubernetes-list-map-keys` and the `x-kubernetes-patch-merge-key`.
    Map {
        keys: &'static [&'static str],
        merge: &'static str,
    },
}

/// One field of a definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub doc: &'static str,
}

/// A named object definition (`io.k8s.api.core.v1.Container`).
#[derive(Debug, Clone, PartialEq)]
pub struct Def {
    pub name: &'static str,
    pub doc: &'static str,
    pub fields: Vec<Field>,
    pub required: &'static [&'static str],
}

fn f(name: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field { name, ty, doc }
}

fn r(name: &'static str) -> Ty {
    Ty::Ref(name)
}

fn list(t: Ty) -> Ty {
    Ty::List(Box::new(t), List::Atomic)
}

fn set(t: Ty) -> Ty {
    Ty::List(Box::new(t), List::Set)
}

fn keyed(t: Ty, keys: &'static [&'static str], merge: &'static str) -> Ty {
    Ty::List(Box::new(t), List::Map { keys, merge })
}

fn map(t: Ty) -> Ty {
    Ty::Map(Box::new(t))
}

fn def(
    name: &'static str,
    doc: &'static str,
    required: &'static [&'static str],
    fields: Vec<Field>,
) -> Def {
    Def {
        name,
        doc,
        fields,
        required,
    }
}

macro_rules! core {
    ($n:literal) => {
        concat!("io.k8s.api.core.v1.", $n)
    };
}
macro_rules! meta {
    ($n:literal) => {
        concat!("io.k8s.apimachinery.pkg.apis.meta.v1.", $n)
    };
}

pub const OBJECT_META: &str = meta!("ObjectMeta");
pub const LIST_META: &str = meta!("ListMeta");
pub const SCALE: &str = "io.k8s.api.autoscaling.v1.Scale";

/// The OpenAPI package of a built-in group/version (`io.k8s.api.apps.v1`).
pub fn package(group: &str, version: &str) -> String {
    let base = match group {
        "" => "io.k8s.api.core".to_string(),
        "apiextensions.k8s.io" => "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions".into(),
        "apiregistration.k8s.io" => "io.k8s.kube-aggregator.pkg.apis.apiregistration".into(),
        g => format!("io.k8s.api.{}", g.split('.').next().unwrap_or(g)),
    };
    format!("{base}.{version}")
}

const API_VERSION_DOC: &str = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.";
const KIND_DOC: &str = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase.";
const META_DOC: &str = "Standard object's metadata.";
const STATUS_DOC: &str = "Most recently observed status. Populated by the system. Read-only.";

/// The fields of a built-in kind below `apiVersion`/`kind`/`metadata`, and its doc.
fn kind_fields(kind: &str) -> (&'static str, Vec<Field>) {
    let spec = |t: Ty| f("spec", t, "Specification of the desired behavior.");
    let status = || f("status", Ty::Open, STATUS_DOC);
    let apps = |d: &'static str| (d, vec![spec(Ty::Open), status()]);
    match kind {
        "Deployment" => (
            "Deployment enables declarative updates for Pods and ReplicaSets.",
            vec![spec(r("io.k8s.api.apps.v1.DeploymentSpec")), status()],
        ),
        "StatefulSet" => (
            "StatefulSet represents a set of pods with consistent identities.",
            vec![spec(r("io.k8s.api.apps.v1.StatefulSetSpec")), status()],
        ),
        "DaemonSet" => (
            "DaemonSet represents the configuration of a daemon set.",
            vec![spec(r("io.k8s.api.apps.v1.DaemonSetSpec")), status()],
        ),
        "ReplicaSet" => (
            "ReplicaSet ensures that a specified number of pod replicas are running at any given time.",
            vec![spec(r("io.k8s.api.apps.v1.ReplicaSetSpec")), status()],
        ),
        "Pod" => (
            "Pod is a collection of containers that can run on a host.",
            vec![spec(r(core!("PodSpec"))), status()],
        ),
        "Job" => (
            "Job represents the configuration of a single job.",
            vec![spec(r("io.k8s.api.batch.v1.JobSpec")), status()],
        ),
        "CronJob" => (
            "CronJob represents the configuration of a single cron job.",
            vec![spec(r("io.k8s.api.batch.v1.CronJobSpec")), status()],
        ),
        "Service" => (
            "Service is a named abstraction of software service (for example, mysql) consisting of local port (for example 3306) that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy.",
            vec![spec(r(core!("ServiceSpec"))), status()],
        ),
        "ConfigMap" => (
            "ConfigMap holds configuration data for pods to consume.",
            vec![
                f("data", map(Ty::Str), "Data contains the configuration data."),
                f("binaryData", map(Ty::Bytes), "BinaryData contains the binary data."),
                f("immutable", Ty::Bool, "Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated."),
            ],
        ),
        "Secret" => (
            "Secret holds secret data of a certain type.",
            vec![
                f("data", map(Ty::Bytes), "Data contains the secret data, base64 encoded."),
                f("stringData", map(Ty::Str), "stringData allows specifying non-binary secret data in string form. It is write-only."),
                f("type", Ty::Str, "Used to facilitate programmatic handling of secret data."),
                f("immutable", Ty::Bool, "Immutable, if set to true, ensures that data stored in the Secret cannot be updated."),
            ],
        ),
        "Namespace" => (
            "Namespace provides a scope for Names.",
            vec![spec(Ty::Open), status()],
        ),
        "ServiceAccount" => (
            "ServiceAccount binds together a name, a principal that can be authenticated and authorized, and a set of secrets.",
            vec![
                f("secrets", keyed(Ty::Open, &["name"], "name"), "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."),
                f("imagePullSecrets", list(r(core!("LocalObjectReference"))), "ImagePullSecrets is a list of references to secrets in the same namespace to use for pulling any images."),
                f("automountServiceAccountToken", Ty::Bool, "Indicates whether pods running as this service account should have an API token automatically mounted."),
            ],
        ),
        "PersistentVolumeClaim" => (
            "PersistentVolumeClaim is a user's request for and claim to a persistent volume.",
            vec![spec(r(core!("PersistentVolumeClaimSpec"))), status()],
        ),
        "Role" | "ClusterRole" => (
            "Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.",
            {
                let mut v = vec![f("rules", list(r("io.k8s.api.rbac.v1.PolicyRule")), "Rules holds all the PolicyRules for this Role.")];
                if kind == "ClusterRole" {
                    v.push(f("aggregationRule", Ty::Open, "AggregationRule is an optional field that describes how to build the Rules for this ClusterRole."));
                }
                v
            },
        ),
        "RoleBinding" | "ClusterRoleBinding" => (
            "RoleBinding references a role, but does not contain it.",
            vec![
                f("subjects", list(r("io.k8s.api.rbac.v1.Subject")), "Subjects holds references to the objects the role applies to."),
                f("roleRef", r("io.k8s.api.rbac.v1.RoleRef"), "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace."),
            ],
        ),
        "StorageClass" => (
            "StorageClass describes the parameters for a class of storage for which PersistentVolumes can be dynamically provisioned.",
            vec![
                f("provisioner", Ty::Str, "provisioner indicates the type of the provisioner."),
                f("parameters", map(Ty::Str), "parameters holds the parameters for the provisioner that should create volumes of this storage class."),
                f("reclaimPolicy", Ty::Str, "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes."),
                f("mountOptions", list(Ty::Str), "mountOptions controls the mountOptions for dynamically provisioned PersistentVolumes of this storage class."),
                f("allowVolumeExpansion", Ty::Bool, "allowVolumeExpansion shows whether the storage class allow volume expand."),
                f("volumeBindingMode", Ty::Str, "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound."),
                f("allowedTopologies", list(Ty::Open), "allowedTopologies restrict the node topologies where volumes can be dynamically provisioned."),
            ],
        ),
        "HorizontalPodAutoscaler" => apps("HorizontalPodAutoscaler is the configuration for a horizontal pod autoscaler."),
        "Ingress" => apps("Ingress is a collection of rules that allow inbound connections to reach the endpoints defined by a backend."),
        "NetworkPolicy" => apps("NetworkPolicy describes what network traffic is allowed for a set of Pods."),
        "PodDisruptionBudget" => apps("PodDisruptionBudget is an object to define the max disruption that can be caused to a collection of pods."),
        "CustomResourceDefinition" => apps("CustomResourceDefinition represents a resource that should be exposed on the API server."),
        "Lease" => apps("Lease defines a lease concept."),
        "APIService" => apps("APIService represents a server for a particular GroupVersion."),
        "SelfSubjectAccessReview" => apps("SelfSubjectAccessReview checks whether or the current user can perform an action."),
        "SelfSubjectRulesReview" => apps("SelfSubjectRulesReview enumerates the set of actions the current user can perform within a namespace."),
        _ => ("", vec![spec(Ty::Open), status()]),
    }
}

/// The top-level definition of a built-in kind (its name is `package.Kind`).
pub fn kind_def(name: &'static str, kind: &str) -> Def {
    let (doc, rest) = kind_fields(kind);
    let mut fields = vec![
        f("apiVersion", Ty::Str, API_VERSION_DOC),
        f("kind", Ty::Str, KIND_DOC),
        f("metadata", r(OBJECT_META), META_DOC),
    ];
    fields.extend(rest);
    def(name, doc, &[], fields)
}

/// Every named definition below the kinds, in one table.
pub fn definitions() -> Vec<Def> {
    [
        meta_defs(),
        workload_defs(),
        pod_defs(),
        container_defs(),
        misc_defs(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn meta_defs() -> Vec<Def> {
    vec![
        def(OBJECT_META, "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.", &[], vec![
            f("name", Ty::Str, "Name must be unique within a namespace."),
            f("generateName", Ty::Str, "GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided."),
            f("namespace", Ty::Str, "Namespace defines the space within which each name must be unique."),
            f("selfLink", Ty::Str, "Deprecated: selfLink is a legacy read-only field that is no longer populated by the system."),
            f("uid", Ty::Str, "UID is the unique in time and space value for this object."),
            f("resourceVersion", Ty::Str, "An opaque value that represents the internal version of this object."),
            f("generation", Ty::Int64, "A sequence number representing a specific generation of the desired state."),
            f("creationTimestamp", Ty::Time, "CreationTimestamp is a timestamp representing the server time when this object was created."),
            f("deletionTimestamp", Ty::Time, "DeletionTimestamp is RFC 3339 date and time at which this resource will be deleted."),
            f("deletionGracePeriodSeconds", Ty::Int64, "Number of seconds allowed for this object to gracefully terminate before it will be removed from the system."),
            f("labels", map(Ty::Str), "Map of string keys and values that can be used to organize and categorize (scope and select) objects."),
            f("annotations", map(Ty::Str), "Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata."),
            f("ownerReferences", keyed(r(meta!("OwnerReference")), &["uid"], "uid"), "List of objects depended by this object."),
            f("finalizers", set(Ty::Str), "Must be empty before the object is deleted from the registry."),
            f("managedFields", list(r(meta!("ManagedFieldsEntry"))), "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow."),
        ]),
        def(meta!("OwnerReference"), "OwnerReference contains enough information to let you identify an owning object.", &["apiVersion", "kind", "name", "uid"], vec![
            f("apiVersion", Ty::Str, "API version of the referent."),
            f("kind", Ty::Str, "Kind of the referent."),
            f("name", Ty::Str, "Name of the referent."),
            f("uid", Ty::Str, "UID of the referent."),
            f("controller", Ty::Bool, "If true, this reference points to the managing controller."),
            f("blockOwnerDeletion", Ty::Bool, "If true, AND if the owner has the \"foregroundDeletion\" finalizer, then the owner cannot be deleted from the key-value store until this reference is removed."),
        ]),
        def(meta!("ManagedFieldsEntry"), "ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.", &[], vec![
            f("manager", Ty::Str, "Manager is an identifier of the workflow managing these fields."),
            f("operation", Ty::Str, "Operation is the type of operation which lead to this ManagedFieldsEntry being created."),
            f("apiVersion", Ty::Str, "APIVersion defines the version of this resource that this field set applies to."),
            f("time", Ty::Time, "Time is the timestamp of when the ManagedFields entry was added."),
            f("fieldsType", Ty::Str, "FieldsType is the discriminator for the different fields format and version."),
            f("fieldsV1", Ty::Open, "FieldsV1 holds the first JSON version format as described in the \"FieldsV1\" type."),
            f("subresource", Ty::Str, "Subresource is the name of the subresource used to update that object."),
        ]),
        def(meta!("LabelSelector"), "A label selector is a label query over a set of resources.", &[], vec![
            f("matchLabels", map(Ty::Str), "matchLabels is a map of {key,value} pairs."),
            f("matchExpressions", list(r(meta!("LabelSelectorRequirement"))), "matchExpressions is a list of label selector requirements. The requirements are ANDed."),
        ]),
        def(meta!("LabelSelectorRequirement"), "A label selector requirement is a selector that contains values, a key, and an operator that relates the key and values.", &["key", "operator"], vec![
            f("key", Ty::Str, "key is the label key that the selector applies to."),
            f("operator", Ty::Str, "operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and DoesNotExist."),
            f("values", list(Ty::Str), "values is an array of string values."),
        ]),
        def(LIST_META, "ListMeta describes metadata that synthetic resources must have.", &[], vec![
            f("resourceVersion", Ty::Str, "String that identifies the server's internal version of this object."),
            f("continue", Ty::Str, "continue may be set if the user set a limit on the number of items returned."),
            f("remainingItemCount", Ty::Int64, "remainingItemCount is the number of subsequent items in the list which are not included in this list response."),
            f("selfLink", Ty::Str, "Deprecated."),
        ]),
    ]
}

fn workload_defs() -> Vec<Def> {
    let selector = || {
        f(
            "selector",
            r(meta!("LabelSelector")),
            "Label selector for pods. It must match the pod template's labels.",
        )
    };
    let template = || {
        f(
            "template",
            r(core!("PodTemplateSpec")),
            "Template describes the pods that will be created.",
        )
    };
    let replicas = || {
        f(
            "replicas",
            Ty::Int32,
            "Number of desired pods. Defaults to 1.",
        )
    };
    let min_ready = || {
        f("minReadySeconds", Ty::Int32, "Minimum number of seconds for which a newly created pod should be ready without any of its container crashing, for it to be considered available.")
    };
    let history = || {
        f(
            "revisionHistoryLimit",
            Ty::Int32,
            "The number of old history to retain to allow rollback.",
        )
    };
    vec![
        def("io.k8s.api.apps.v1.DeploymentSpec", "DeploymentSpec is the specification of the desired behavior of the Deployment.", &["selector", "template"], vec![
            replicas(), selector(), template(),
            f("strategy", r("io.k8s.api.apps.v1.DeploymentStrategy"), "The deployment strategy to use to replace existing pods with new ones."),
            min_ready(), history(),
            f("paused", Ty::Bool, "Indicates that the deployment is paused."),
            f("progressDeadlineSeconds", Ty::Int32, "The maximum time in seconds for a deployment to make progress before it is considered to be failed."),
        ]),
        def("io.k8s.api.apps.v1.DeploymentStrategy", "DeploymentStrategy describes how to replace existing pods with new ones.", &[], vec![
            f("type", Ty::Str, "Type of deployment. Can be \"Recreate\" or \"RollingUpdate\". Default is RollingUpdate."),
            f("rollingUpdate", Ty::Open, "Rolling update config params. Present only if DeploymentStrategyType = RollingUpdate."),
        ]),
        def("io.k8s.api.apps.v1.StatefulSetSpec", "A StatefulSetSpec is the specification of a StatefulSet.", &["selector", "template"], vec![
            replicas(), selector(), template(),
            f("volumeClaimTemplates", list(r(core!("PersistentVolumeClaim"))), "volumeClaimTemplates is a list of claims that pods are allowed to reference."),
            f("serviceName", Ty::Str, "serviceName is the name of the service that governs this StatefulSet."),
            f("podManagementPolicy", Ty::Str, "podManagementPolicy controls how pods are created during initial scale up, when replacing pods on nodes, or when scaling down."),
            f("updateStrategy", Ty::Open, "updateStrategy indicates the StatefulSetUpdateStrategy that will be employed to update Pods in the StatefulSet when a revision is made to Template."),
            history(), min_ready(),
            f("persistentVolumeClaimRetentionPolicy", Ty::Open, "persistentVolumeClaimRetentionPolicy describes the lifecycle of persistent volume claims created from volumeClaimTemplates."),
            f("ordinals", Ty::Open, "ordinals controls the numbering of replica indices in a StatefulSet."),
        ]),
        def("io.k8s.api.apps.v1.DaemonSetSpec", "DaemonSetSpec is the specification of a daemon set.", &["selector", "template"], vec![
            selector(), template(),
            f("updateStrategy", Ty::Open, "An update strategy to replace existing DaemonSet pods with new pods."),
            min_ready(), history(),
        ]),
        def("io.k8s.api.apps.v1.ReplicaSetSpec", "ReplicaSetSpec is the specification of a ReplicaSet.", &["selector"], vec![
            replicas(), min_ready(), selector(), template(),
        ]),
        def("io.k8s.api.batch.v1.JobSpec", "JobSpec describes how the job execution will look like.", &["template"], vec![
            f("parallelism", Ty::Int32, "Specifies the maximum desired number of pods the job should run at any given time."),
            f("completions", Ty::Int32, "Specifies the desired number of successfully finished pods the job should be run with."),
            f("activeDeadlineSeconds", Ty::Int64, "Specifies the duration in seconds relative to the startTime that the job may be continuously active before the system tries to terminate it."),
            f("podFailurePolicy", Ty::Open, "Specifies the policy of handling failed pods."),
            f("successPolicy", Ty::Open, "successPolicy specifies the policy when the Job can be declared as succeeded."),
            f("backoffLimit", Ty::Int32, "Specifies the number of retries before marking this job failed. Defaults to 6."),
            f("backoffLimitPerIndex", Ty::Int32, "Specifies the limit for the number of retries within an index before marking this index as failed."),
            f("maxFailedIndexes", Ty::Int32, "Specifies the maximal number of failed indexes before marking the Job as failed."),
            f("selector", r(meta!("LabelSelector")), "A label query over pods that should match the pod count."),
            f("manualSelector", Ty::Bool, "manualSelector controls generation of pod labels and pod selectors."),
            template(),
            f("ttlSecondsAfterFinished", Ty::Int32, "ttlSecondsAfterFinished limits the lifetime of a Job that has finished execution."),
            f("completionMode", Ty::Str, "completionMode specifies how Pod completions are tracked. It can be `NonIndexed` (default) or `Indexed`."),
            f("suspend", Ty::Bool, "suspend specifies whether the Job controller should create Pods or not."),
            f("podReplacementPolicy", Ty::Str, "podReplacementPolicy specifies when to create replacement Pods."),
            f("managedBy", Ty::Str, "ManagedBy field indicates the controller that manages a Job."),
        ]),
        def("io.k8s.api.batch.v1.CronJobSpec", "CronJobSpec describes how the job execution will look like and when it will actually run.", &["schedule", "jobTemplate"], vec![
            f("schedule", Ty::Str, "The schedule in Cron format."),
            f("timeZone", Ty::Str, "The time zone name for the given schedule."),
            f("startingDeadlineSeconds", Ty::Int64, "Optional deadline in seconds for starting the job if it misses scheduled time for any reason."),
            f("concurrencyPolicy", Ty::Str, "Specifies how to treat concurrent executions of a Job. Valid values are: \"Allow\", \"Forbid\", \"Replace\"."),
            f("suspend", Ty::Bool, "This flag tells the controller to suspend subsequent executions."),
            f("jobTemplate", r("io.k8s.api.batch.v1.JobTemplateSpec"), "Specifies the job that will be created when executing a CronJob."),
            f("successfulJobsHistoryLimit", Ty::Int32, "The number of successful finished jobs to retain."),
            f("failedJobsHistoryLimit", Ty::Int32, "The number of failed finished jobs to retain."),
        ]),
        def("io.k8s.api.batch.v1.JobTemplateSpec", "JobTemplateSpec describes the data a Job should have when created from a template.", &[], vec![
            f("metadata", r(OBJECT_META), "Standard object's metadata of the jobs created from this template."),
            f("spec", r("io.k8s.api.batch.v1.JobSpec"), "Specification of the desired behavior of the job."),
        ]),
        def(core!("PersistentVolumeClaim"), "PersistentVolumeClaim is a user's request for and claim to a persistent volume.", &[], vec![
            f("apiVersion", Ty::Str, API_VERSION_DOC),
            f("kind", Ty::Str, KIND_DOC),
            f("metadata", r(OBJECT_META), META_DOC),
            f("spec", r(core!("PersistentVolumeClaimSpec")), "spec defines the desired characteristics of a volume requested by a pod author."),
            f("status", Ty::Open, STATUS_DOC),
        ]),
        def(core!("PersistentVolumeClaimSpec"), "PersistentVolumeClaimSpec describes the common attributes of storage devices and allows a Source for provider-specific attributes.", &[], vec![
            f("accessModes", list(Ty::Str), "accessModes contains the desired access modes the volume should have."),
            f("selector", r(meta!("LabelSelector")), "selector is a label query over volumes to consider for binding."),
            f("resources", r(core!("VolumeResourceRequirements")), "resources represents the minimum resources the volume should have."),
            f("volumeName", Ty::Str, "volumeName is the binding reference to the PersistentVolume backing this claim."),
            f("storageClassName", Ty::Str, "storageClassName is the name of the StorageClass required by the claim."),
            f("volumeMode", Ty::Str, "volumeMode defines what type of volume is required by the claim."),
            f("dataSource", Ty::Open, "dataSource field can be used to specify an existing VolumeSnapshot object or an existing PVC."),
            f("dataSourceRef", Ty::Open, "dataSourceRef specifies the object from which to populate the volume with data."),
            f("volumeAttributesClassName", Ty::Str, "volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim."),
        ]),
        def(core!("VolumeResourceRequirements"), "VolumeResourceRequirements describes the storage resource requirements for a volume.", &[], vec![
            f("limits", map(Ty::Quantity), "Limits describes the maximum amount of compute resources allowed."),
            f("requests", map(Ty::Quantity), "Requests describes the minimum amount of compute resources required."),
        ]),
        def(core!("ServiceSpec"), "ServiceSpec describes the attributes that a user creates on a service.", &[], vec![
            f("ports", keyed(r(core!("ServicePort")), &["port", "protocol"], "port"), "The list of ports that are exposed by this service."),
            f("selector", map(Ty::Str), "Route service traffic to pods with label keys and values matching this selector."),
            f("clusterIP", Ty::Str, "clusterIP is the IP address of the service and is usually assigned randomly."),
            f("clusterIPs", list(Ty::Str), "ClusterIPs is a list of IP addresses assigned to this service."),
            f("type", Ty::Str, "type determines how the Service is exposed. Defaults to ClusterIP."),
            f("externalIPs", list(Ty::Str), "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
            f("sessionAffinity", Ty::Str, "Supports \"ClientIP\" and \"None\". Used to maintain session affinity."),
            f("loadBalancerIP", Ty::Str, "Only applies to Service Type: LoadBalancer. Deprecated."),
            f("loadBalancerSourceRanges", list(Ty::Str), "If specified and supported by the platform, this will restrict traffic through the cloud-provider load-balancer will be restricted to the specified client IPs."),
            f("externalName", Ty::Str, "externalName is the external reference that discovery mechanisms will return as an alias for this service."),
            f("externalTrafficPolicy", Ty::Str, "externalTrafficPolicy describes how nodes distribute service traffic they receive on one of the Service's \"externally-facing\" addresses."),
            f("healthCheckNodePort", Ty::Int32, "healthCheckNodePort specifies the healthcheck nodePort for the service."),
            f("publishNotReadyAddresses", Ty::Bool, "publishNotReadyAddresses indicates that any agent which deals with endpoints for this Service should disregard any indications of ready/not-ready."),
            f("sessionAffinityConfig", Ty::Open, "sessionAffinityConfig contains the configurations of session affinity."),
            f("ipFamilies", list(Ty::Str), "IPFamilies is a list of IP families (e.g. IPv4, IPv6) assigned to this service."),
            f("ipFamilyPolicy", Ty::Str, "IPFamilyPolicy represents the dual-stack-ness requested or required by this Service."),
            f("allocateLoadBalancerNodePorts", Ty::Bool, "allocateLoadBalancerNodePorts defines if NodePorts will be automatically allocated for services with type LoadBalancer."),
            f("loadBalancerClass", Ty::Str, "loadBalancerClass is the class of the load balancer implementation this Service belongs to."),
            f("internalTrafficPolicy", Ty::Str, "InternalTrafficPolicy describes how nodes distribute service traffic they receive on the ClusterIP."),
            f("trafficDistribution", Ty::Str, "TrafficDistribution offers a way to express preferences for how traffic is distributed to Service endpoints."),
        ]),
        def(core!("ServicePort"), "ServicePort contains information on service's port.", &["port"], vec![
            f("name", Ty::Str, "The name of this port within the service."),
            f("protocol", Ty::Str, "The IP protocol for this port. Supports \"TCP\", \"UDP\", and \"SCTP\". Default is TCP."),
            f("appProtocol", Ty::Str, "The application protocol for this port."),
            f("port", Ty::Int32, "The port that will be exposed by this service."),
            f("targetPort", Ty::IntOrStr, "Number or name of the port to access on the pods targeted by the service."),
            f("nodePort", Ty::Int32, "The port on each node on which this service is exposed when type is NodePort or LoadBalancer."),
        ]),
    ]
}

fn pod_defs() -> Vec<Def> {
    let containers = |merge: &'static str| keyed(r(core!("Container")), &["name"], merge);
    vec![
        def(core!("PodTemplateSpec"), "PodTemplateSpec describes the data a pod should have when created from a template.", &[], vec![
            f("metadata", r(OBJECT_META), "Standard object's metadata."),
            f("spec", r(core!("PodSpec")), "Specification of the desired behavior of the pod."),
        ]),
        def(core!("PodSpec"), "PodSpec is a description of a pod.", &["containers"], vec![
            f("volumes", keyed(r(core!("Volume")), &["name"], "name"), "List of volumes that can be mounted by containers belonging to the pod."),
            f("initContainers", containers("name"), "List of initialization containers belonging to the pod."),
            f("containers", containers("name"), "List of containers belonging to the pod. Containers cannot currently be added or removed. There must be at least one container in a Pod. Cannot be updated."),
            f("ephemeralContainers", keyed(Ty::Open, &["name"], "name"), "List of ephemeral containers run in this pod."),
            f("restartPolicy", Ty::Str, "Restart policy for all containers within the pod. One of Always, OnFailure, Never."),
            f("terminationGracePeriodSeconds", Ty::Int64, "Optional duration in seconds the pod needs to terminate gracefully."),
            f("activeDeadlineSeconds", Ty::Int64, "Optional duration in seconds the pod may be active on the node relative to StartTime before the system will actively try to mark it failed and kill associated containers."),
            f("dnsPolicy", Ty::Str, "Set DNS policy for the pod. Defaults to \"ClusterFirst\"."),
            f("nodeSelector", map(Ty::Str), "NodeSelector is a selector which must be true for the pod to fit on a node."),
            f("serviceAccountName", Ty::Str, "ServiceAccountName is the name of the ServiceAccount to use to run this pod."),
            f("serviceAccount", Ty::Str, "DeprecatedServiceAccount is a deprecated alias for ServiceAccountName."),
            f("automountServiceAccountToken", Ty::Bool, "AutomountServiceAccountToken indicates whether a service account token should be automatically mounted."),
            f("nodeName", Ty::Str, "NodeName indicates in which node this pod is scheduled."),
            f("hostNetwork", Ty::Bool, "Host networking requested for this pod."),
            f("hostPID", Ty::Bool, "Use the host's pid namespace."),
            f("hostIPC", Ty::Bool, "Use the host's ipc namespace."),
            f("shareProcessNamespace", Ty::Bool, "Share a single process namespace between all of the containers in a pod."),
            f("securityContext", Ty::Open, "SecurityContext holds pod-level security attributes and common container settings."),
            f("imagePullSecrets", keyed(r(core!("LocalObjectReference")), &["name"], "name"), "ImagePullSecrets is an optional list of references to secrets in the same namespace to use for pulling any of the images used by this PodSpec."),
            f("hostname", Ty::Str, "Specifies the hostname of the Pod."),
            f("subdomain", Ty::Str, "If specified, the fully qualified Pod hostname will be \"<hostname>.<subdomain>.<pod namespace>.svc.<cluster domain>\"."),
            f("affinity", Ty::Open, "If specified, the pod's scheduling constraints."),
            f("schedulerName", Ty::Str, "If specified, the pod will be dispatched by specified scheduler."),
            f("tolerations", list(r(core!("Toleration"))), "If specified, the pod's tolerations."),
            f("hostAliases", list(Ty::Open), "HostAliases is an optional list of hosts and IPs that will be injected into the pod's hosts file if specified."),
            f("priorityClassName", Ty::Str, "If specified, indicates the pod's priority."),
            f("priority", Ty::Int32, "The priority value."),
            f("dnsConfig", Ty::Open, "Specifies the DNS parameters of a pod."),
            f("readinessGates", list(Ty::Open), "If specified, all readiness gates will be evaluated for pod readiness."),
            f("runtimeClassName", Ty::Str, "RuntimeClassName refers to a RuntimeClass object in the node.k8s.io group."),
            f("enableServiceLinks", Ty::Bool, "EnableServiceLinks indicates whether information about services should be injected into pod's environment variables."),
            f("preemptionPolicy", Ty::Str, "PreemptionPolicy is the Policy for preempting pods with lower priority."),
            f("overhead", map(Ty::Quantity), "Overhead represents the resource overhead associated with running a pod for a given RuntimeClass."),
            f("topologySpreadConstraints", list(Ty::Open), "TopologySpreadConstraints describes how a group of pods ought to spread across topology domains."),
            f("setHostnameAsFQDN", Ty::Bool, "If true the pod's hostname will be configured as the pod's FQDN."),
            f("os", Ty::Open, "Specifies the OS of the containers in the pod."),
            f("hostUsers", Ty::Bool, "Use the host's user namespace."),
            f("schedulingGates", list(Ty::Open), "SchedulingGates is an opaque list of values that if specified will block scheduling the pod."),
            f("resourceClaims", list(Ty::Open), "ResourceClaims defines which ResourceClaims must be allocated and reserved before the Pod is allowed to start."),
            f("resources", r(core!("ResourceRequirements")), "Resources is the total amount of CPU and Memory resources required by all containers in the pod."),
        ]),
        def(core!("Toleration"), "The pod this Toleration is attached to tolerates any taint that matches the triple <key,value,effect> using the matching operator <operator>.", &[], vec![
            f("key", Ty::Str, "Key is the taint key that the toleration applies to."),
            f("operator", Ty::Str, "Operator represents a key's relationship to the value. Valid operators are Exists and Equal."),
            f("value", Ty::Str, "Value is the taint value the toleration matches to."),
            f("effect", Ty::Str, "Effect indicates the taint effect to match."),
            f("tolerationSeconds", Ty::Int64, "TolerationSeconds represents the period of time the toleration tolerates the taint."),
        ]),
        def(core!("LocalObjectReference"), "LocalObjectReference contains enough information to let you locate the referenced object inside the same namespace.", &[], vec![
            f("name", Ty::Str, "Name of the referent."),
        ]),
        def(core!("Volume"), "Volume represents a named volume in a pod that may be accessed by any container in the pod.", &["name"], {
            let mut v = vec![
                f("name", Ty::Str, "name of the volume. Must be a DNS_LABEL and unique within the pod."),
                f("configMap", r(core!("ConfigMapVolumeSource")), "configMap represents a configMap that should populate this volume."),
                f("secret", r(core!("SecretVolumeSource")), "secret represents a secret that should populate this volume."),
                f("emptyDir", r(core!("EmptyDirVolumeSource")), "emptyDir represents a temporary directory that shares a pod's lifetime."),
                f("persistentVolumeClaim", r(core!("PersistentVolumeClaimVolumeSource")), "persistentVolumeClaimVolumeSource represents a reference to a PersistentVolumeClaim in the same namespace."),
            ];
            for (n, d) in [
                ("hostPath", "hostPath represents a pre-existing file or directory on the host machine that is directly exposed to the container."),
                ("projected", "projected items for all in one resources secrets, configmaps, and downward API."),
                ("downwardAPI", "downwardAPI represents downward API about the pod that should populate this volume."),
                ("csi", "csi (Container Storage Interface) represents ephemeral storage that is handled by certain external CSI drivers."),
                ("ephemeral", "ephemeral represents a volume that is handled by a cluster storage driver."),
                ("nfs", "nfs represents an NFS mount on the host that shares a pod's lifetime."),
                ("image", "image represents an OCI object (a container image or artifact) pulled and mounted on the kubelet's host machine."),
            ] {
                v.push(f(n, Ty::Open, d));
            }
            v
        }),
        def(core!("ConfigMapVolumeSource"), "Adapts a ConfigMap into a volume.", &[], vec![
            f("name", Ty::Str, "Name of the referent."),
            f("items", list(r(core!("KeyToPath"))), "items if unspecified, each key-value pair in the Data field of the referenced ConfigMap will be projected into the volume as a file whose name is the key and content is the value."),
            f("defaultMode", Ty::Int32, "defaultMode is optional: mode bits used to set permissions on created files by default."),
            f("optional", Ty::Bool, "optional specify whether the ConfigMap or its keys must be defined."),
        ]),
        def(core!("SecretVolumeSource"), "Adapts a Secret into a volume.", &[], vec![
            f("secretName", Ty::Str, "secretName is the name of the secret in the pod's namespace to use."),
            f("items", list(r(core!("KeyToPath"))), "items If unspecified, each key-value pair in the Data field of the referenced Secret will be projected into the volume as a file whose name is the key and content is the value."),
            f("defaultMode", Ty::Int32, "defaultMode is Optional: mode bits used to set permissions on created files by default."),
            f("optional", Ty::Bool, "optional field specify whether the Secret or its keys must be defined."),
        ]),
        def(core!("KeyToPath"), "Maps a string key to a path within a volume.", &["key", "path"], vec![
            f("key", Ty::Str, "key is the key to project."),
            f("path", Ty::Str, "path is the relative path of the file to map the key to."),
            f("mode", Ty::Int32, "mode is Optional: mode bits used to set permissions on this file."),
        ]),
        def(core!("EmptyDirVolumeSource"), "Represents an empty directory for a pod.", &[], vec![
            f("medium", Ty::Str, "medium represents what type of storage medium should back this directory."),
            f("sizeLimit", Ty::Quantity, "sizeLimit is the total amount of local storage required for this EmptyDir volume."),
        ]),
        def(core!("PersistentVolumeClaimVolumeSource"), "PersistentVolumeClaimVolumeSource references the user's PVC in the same namespace.", &["claimName"], vec![
            f("claimName", Ty::Str, "claimName is the name of a PersistentVolumeClaim in the same namespace as the pod using this volume."),
            f("readOnly", Ty::Bool, "readOnly Will force the ReadOnly setting in VolumeMounts. Default false."),
        ]),
    ]
}

fn container_defs() -> Vec<Def> {
    vec![
        def(core!("Container"), "A single application container that you want to run within a pod.", &["name"], vec![
            f("name", Ty::Str, "Name of the container specified as a DNS_LABEL. Each container in a pod must have a unique name (DNS_LABEL). Cannot be updated."),
            f("image", Ty::Str, "Container image name."),
            f("command", list(Ty::Str), "Entrypoint array. Not executed within a shell."),
            f("args", list(Ty::Str), "Arguments to the entrypoint."),
            f("workingDir", Ty::Str, "Container's working directory."),
            f("ports", keyed(r(core!("ContainerPort")), &["containerPort", "protocol"], "containerPort"), "List of ports to expose from the container."),
            f("envFrom", list(r(core!("EnvFromSource"))), "List of sources to populate environment variables in the container."),
            f("env", keyed(r(core!("EnvVar")), &["name"], "name"), "List of environment variables to set in the container. Cannot be updated."),
            f("resources", r(core!("ResourceRequirements")), "Compute Resources required by this container. Cannot be updated."),
            f("resizePolicy", list(Ty::Open), "Resources resize policy for the container."),
            f("restartPolicy", Ty::Str, "RestartPolicy defines the restart behavior of individual containers in a pod."),
            f("volumeMounts", keyed(r(core!("VolumeMount")), &["mountPath"], "mountPath"), "Pod volumes to mount into the container's filesystem. Cannot be updated."),
            f("volumeDevices", list(Ty::Open), "volumeDevices is the list of block devices to be used by the container."),
            f("livenessProbe", r(core!("Probe")), "Periodic probe of container liveness. Container will be restarted if the probe fails."),
            f("readinessProbe", r(core!("Probe")), "Periodic probe of container service readiness. Container will be removed from service endpoints if the probe fails."),
            f("startupProbe", r(core!("Probe")), "StartupProbe indicates that the Pod has successfully initialized."),
            f("lifecycle", Ty::Open, "Actions that the management system should take in response to container lifecycle events."),
            f("terminationMessagePath", Ty::Str, "Optional: Path at which the file to which the container's termination message will be written is mounted into the container's filesystem."),
            f("terminationMessagePolicy", Ty::Str, "Indicate how the termination message should be populated."),
            f("imagePullPolicy", Ty::Str, "Image pull policy. One of Always, Never, IfNotPresent."),
            f("securityContext", Ty::Open, "SecurityContext defines the security options the container should be run with."),
            f("stdin", Ty::Bool, "Whether this container should allocate a buffer for stdin in the container runtime."),
            f("stdinOnce", Ty::Bool, "Whether the container runtime should close the stdin channel after it has been opened by a single attach."),
            f("tty", Ty::Bool, "Whether this container should allocate a TTY for itself, also requires 'stdin' to be true."),
        ]),
        def(core!("ContainerPort"), "ContainerPort represents a network port in a single container.", &["containerPort"], vec![
            f("name", Ty::Str, "If specified, this must be an IANA_SVC_NAME and unique within the pod."),
            f("hostPort", Ty::Int32, "Number of port to expose on the host."),
            f("containerPort", Ty::Int32, "Number of port to expose on the pod's IP address. This must be a valid port number, 0 < x < 65536."),
            f("protocol", Ty::Str, "Protocol for port. Must be UDP, TCP, or SCTP. Defaults to \"TCP\"."),
            f("hostIP", Ty::Str, "What host IP to bind the external port to."),
        ]),
        def(core!("EnvVar"), "EnvVar represents an environment variable present in a Container.", &["name"], vec![
            f("name", Ty::Str, "Name of the environment variable. Must be a C_IDENTIFIER."),
            f("value", Ty::Str, "Variable references $(VAR_NAME) are expanded using the previously defined environment variables in the container and any service environment variables."),
            f("valueFrom", r(core!("EnvVarSource")), "Source for the environment variable's value. Cannot be used if value is not empty."),
        ]),
        def(core!("EnvVarSource"), "EnvVarSource represents a source for the value of an EnvVar.", &[], vec![
            f("fieldRef", Ty::Open, "Selects a field of the pod."),
            f("resourceFieldRef", Ty::Open, "Selects a resource of the container."),
            f("configMapKeyRef", r(core!("ConfigMapKeySelector")), "Selects a key of a ConfigMap."),
            f("secretKeyRef", r(core!("SecretKeySelector")), "Selects a key of a secret in the pod's namespace."),
        ]),
        def(core!("ConfigMapKeySelector"), "Selects a key from a ConfigMap.", &["key"], vec![
            f("name", Ty::Str, "Name of the referent."),
            f("key", Ty::Str, "The key to select."),
            f("optional", Ty::Bool, "Specify whether the ConfigMap or its key must be defined."),
        ]),
        def(core!("SecretKeySelector"), "SecretKeySelector selects a key of a Secret.", &["key"], vec![
            f("name", Ty::Str, "Name of the referent."),
            f("key", Ty::Str, "The key of the secret to select from. Must be a valid secret key."),
            f("optional", Ty::Bool, "Specify whether the Secret or its key must be defined."),
        ]),
        def(core!("EnvFromSource"), "EnvFromSource represents the source of a set of ConfigMaps or Secrets.", &[], vec![
            f("prefix", Ty::Str, "Optional text to prepend to the name of each environment variable."),
            f("configMapRef", Ty::Open, "The ConfigMap to select from."),
            f("secretRef", Ty::Open, "The Secret to select from."),
        ]),
        def(core!("ResourceRequirements"), "ResourceRequirements describes the compute resource requirements.", &[], vec![
            f("limits", map(Ty::Quantity), "Limits describes the maximum amount of compute resources allowed."),
            f("requests", map(Ty::Quantity), "Requests describes the minimum amount of compute resources required."),
            f("claims", list(Ty::Open), "Claims lists the names of resources, defined in spec.resourceClaims, that are used by this container."),
        ]),
        def(core!("VolumeMount"), "VolumeMount describes a mounting of a Volume within a container.", &["name", "mountPath"], vec![
            f("name", Ty::Str, "This must match the Name of a Volume."),
            f("readOnly", Ty::Bool, "Mounted read-only if true, read-write otherwise (false or unspecified)."),
            f("recursiveReadOnly", Ty::Str, "RecursiveReadOnly specifies whether read-only mounts should be handled recursively."),
            f("mountPath", Ty::Str, "Path within the container at which the volume should be mounted. Must not contain ':'."),
            f("subPath", Ty::Str, "Path within the volume from which the container's volume should be mounted."),
            f("mountPropagation", Ty::Str, "mountPropagation determines how mounts are propagated from the host to container and the other way around."),
            f("subPathExpr", Ty::Str, "Expanded path within the volume from which the container's volume should be mounted."),
        ]),
        def(core!("Probe"), "Probe describes a health check to be performed against a container to determine whether it is alive or ready to receive traffic.", &[], vec![
            f("exec", Ty::Open, "Exec specifies a command to execute in the container."),
            f("httpGet", r(core!("HTTPGetAction")), "HTTPGet specifies an HTTP GET request to perform."),
            f("tcpSocket", Ty::Open, "TCPSocket specifies a connection to a TCP port."),
            f("grpc", Ty::Open, "GRPC specifies a GRPC HealthCheckRequest."),
            f("initialDelaySeconds", Ty::Int32, "Number of seconds after the container has started before liveness probes are initiated."),
            f("timeoutSeconds", Ty::Int32, "Number of seconds after which the probe times out. Defaults to 1 second."),
            f("periodSeconds", Ty::Int32, "How often (in seconds) to perform the probe. Default to 10 seconds."),
            f("successThreshold", Ty::Int32, "Minimum consecutive successes for the probe to be considered successful after having failed."),
            f("failureThreshold", Ty::Int32, "Minimum consecutive failures for the probe to be considered failed after having succeeded."),
            f("terminationGracePeriodSeconds", Ty::Int64, "Optional duration in seconds the pod needs to terminate gracefully upon probe failure."),
        ]),
        def(core!("HTTPGetAction"), "HTTPGetAction describes an action based on HTTP Get requests.", &["port"], vec![
            f("path", Ty::Str, "Path to access on the HTTP server."),
            f("port", Ty::IntOrStr, "Name or number of the port to access on the container."),
            f("host", Ty::Str, "Host name to connect to, defaults to the pod IP."),
            f("scheme", Ty::Str, "Scheme to use for connecting to the host. Defaults to HTTP."),
            f("httpHeaders", list(Ty::Open), "Custom headers to set in the request. HTTP allows repeated headers."),
        ]),
    ]
}

fn misc_defs() -> Vec<Def> {
    vec![
        def(SCALE, "Scale represents a scaling request for a resource.", &[], vec![
            f("apiVersion", Ty::Str, API_VERSION_DOC),
            f("kind", Ty::Str, KIND_DOC),
            f("metadata", r(OBJECT_META), META_DOC),
            f("spec", r("io.k8s.api.autoscaling.v1.ScaleSpec"), "spec defines the behavior of the scale."),
            f("status", Ty::Open, "status is the current status of the scale."),
        ]),
        def("io.k8s.api.autoscaling.v1.ScaleSpec", "ScaleSpec describes the attributes of a scale subresource.", &[], vec![
            f("replicas", Ty::Int32, "replicas is the desired number of instances for the scaled object."),
        ]),
        def("io.k8s.api.rbac.v1.PolicyRule", "PolicyRule holds information that describes a policy rule, but does not contain information about who the rule applies to or which namespace the rule applies to.", &["verbs"], vec![
            f("verbs", list(Ty::Str), "Verbs is a list of Verbs that apply to ALL the ResourceKinds contained in this rule."),
            f("apiGroups", list(Ty::Str), "APIGroups is the name of the APIGroup that contains the resources."),
            f("resources", list(Ty::Str), "Resources is a list of resources this rule applies to."),
            f("resourceNames", list(Ty::Str), "ResourceNames is an optional white list of names that the rule applies to."),
            f("nonResourceURLs", list(Ty::Str), "NonResourceURLs is a set of partial urls that a user should have access to."),
        ]),
        def("io.k8s.api.rbac.v1.Subject", "Subject contains a reference to the object or user identities a role binding applies to.", &["kind", "name"], vec![
            f("kind", Ty::Str, "Kind of object being referenced. Values defined by this API group are \"User\", \"Group\", and \"ServiceAccount\"."),
            f("apiGroup", Ty::Str, "APIGroup holds the API group of the referenced subject."),
            f("name", Ty::Str, "Name of the object being referenced."),
            f("namespace", Ty::Str, "Namespace of the referenced object."),
        ]),
        def("io.k8s.api.rbac.v1.RoleRef", "RoleRef contains information that points to the role being used.", &["apiGroup", "kind", "name"], vec![
            f("apiGroup", Ty::Str, "APIGroup is the group for the resource being referenced."),
            f("kind", Ty::Str, "Kind is the type of resource being referenced."),
            f("name", Ty::Str, "Name is the name of resource being referenced."),
        ]),
    ]
}
