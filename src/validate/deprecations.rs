//! Deprecated and removed API versions, from the Kubernetes deprecation guide
//! (<https://kubernetes.io/docs/reference/using-api/deprecation-guide/>): what a cluster of
//! the target version still serves, and what to migrate to.

use super::catalog::KubeVersion;

/// One apiVersion/kind that Kubernetes deprecated or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deprecation {
    pub api_version: &'static str,
    /// `*`: every kind of the apiVersion.
    pub kind: &'static str,
    /// The minor version that first warns (`None` when deprecated before 1.16).
    pub deprecated_in: Option<u32>,
    /// The minor version that no longer serves it.
    pub removed_in: u32,
    pub replacement: &'static str,
}

const fn d(
    api_version: &'static str,
    kind: &'static str,
    deprecated_in: Option<u32>,
    removed_in: u32,
    replacement: &'static str,
) -> Deprecation {
    Deprecation {
        api_version,
        kind,
        deprecated_in,
        removed_in,
        replacement,
    }
}

pub const TABLE: &[Deprecation] = &[
    // 1.16
    d("extensions/v1beta1", "Deployment", None, 16, "apps/v1"),
    d("extensions/v1beta1", "DaemonSet", None, 16, "apps/v1"),
    d("extensions/v1beta1", "ReplicaSet", None, 16, "apps/v1"),
    d(
        "extensions/v1beta1",
        "NetworkPolicy",
        None,
        16,
        "networking.k8s.io/v1",
    ),
    d(
        "extensions/v1beta1",
        "PodSecurityPolicy",
        None,
        16,
        "policy/v1beta1 (itself removed in 1.25: use Pod Security Admission)",
    ),
    d("apps/v1beta1", "*", None, 16, "apps/v1"),
    d("apps/v1beta2", "*", None, 16, "apps/v1"),
    // 1.22
    d(
        "admissionregistration.k8s.io/v1beta1",
        "*",
        Some(16),
        22,
        "admissionregistration.k8s.io/v1",
    ),
    d(
        "apiextensions.k8s.io/v1beta1",
        "CustomResourceDefinition",
        Some(16),
        22,
        "apiextensions.k8s.io/v1",
    ),
    d(
        "apiregistration.k8s.io/v1beta1",
        "APIService",
        Some(19),
        22,
        "apiregistration.k8s.io/v1",
    ),
    d(
        "authentication.k8s.io/v1beta1",
        "TokenReview",
        Some(19),
        22,
        "authentication.k8s.io/v1",
    ),
    d(
        "authorization.k8s.io/v1beta1",
        "*",
        Some(19),
        22,
        "authorization.k8s.io/v1",
    ),
    d(
        "certificates.k8s.io/v1beta1",
        "CertificateSigningRequest",
        Some(19),
        22,
        "certificates.k8s.io/v1",
    ),
    d(
        "coordination.k8s.io/v1beta1",
        "Lease",
        Some(19),
        22,
        "coordination.k8s.io/v1",
    ),
    d(
        "extensions/v1beta1",
        "Ingress",
        Some(14),
        22,
        "networking.k8s.io/v1",
    ),
    d(
        "networking.k8s.io/v1beta1",
        "Ingress",
        Some(19),
        22,
        "networking.k8s.io/v1",
    ),
    d(
        "networking.k8s.io/v1beta1",
        "IngressClass",
        Some(19),
        22,
        "networking.k8s.io/v1",
    ),
    d(
        "rbac.authorization.k8s.io/v1beta1",
        "*",
        Some(17),
        22,
        "rbac.authorization.k8s.io/v1",
    ),
    d(
        "scheduling.k8s.io/v1beta1",
        "PriorityClass",
        Some(14),
        22,
        "scheduling.k8s.io/v1",
    ),
    d(
        "storage.k8s.io/v1beta1",
        "CSIDriver",
        Some(19),
        22,
        "storage.k8s.io/v1",
    ),
    d(
        "storage.k8s.io/v1beta1",
        "CSINode",
        Some(17),
        22,
        "storage.k8s.io/v1",
    ),
    d(
        "storage.k8s.io/v1beta1",
        "StorageClass",
        Some(19),
        22,
        "storage.k8s.io/v1",
    ),
    d(
        "storage.k8s.io/v1beta1",
        "VolumeAttachment",
        Some(19),
        22,
        "storage.k8s.io/v1",
    ),
    // 1.25
    d("batch/v1beta1", "CronJob", Some(21), 25, "batch/v1"),
    d(
        "discovery.k8s.io/v1beta1",
        "EndpointSlice",
        Some(21),
        25,
        "discovery.k8s.io/v1",
    ),
    d(
        "events.k8s.io/v1beta1",
        "Event",
        Some(19),
        25,
        "events.k8s.io/v1",
    ),
    d(
        "autoscaling/v2beta1",
        "HorizontalPodAutoscaler",
        Some(22),
        25,
        "autoscaling/v2",
    ),
    d(
        "policy/v1beta1",
        "PodDisruptionBudget",
        Some(21),
        25,
        "policy/v1",
    ),
    d(
        "policy/v1beta1",
        "PodSecurityPolicy",
        Some(21),
        25,
        "Pod Security Admission (namespace labels); PodSecurityPolicy has no replacement API",
    ),
    d(
        "node.k8s.io/v1beta1",
        "RuntimeClass",
        Some(22),
        25,
        "node.k8s.io/v1",
    ),
    // 1.26
    d(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "*",
        Some(23),
        26,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    d(
        "autoscaling/v2beta2",
        "HorizontalPodAutoscaler",
        Some(23),
        26,
        "autoscaling/v2",
    ),
    // 1.27
    d(
        "storage.k8s.io/v1beta1",
        "CSIStorageCapacity",
        Some(24),
        27,
        "storage.k8s.io/v1",
    ),
    // 1.29
    d(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "*",
        Some(26),
        29,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    // 1.32
    d(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "*",
        Some(29),
        32,
        "flowcontrol.apiserver.k8s.io/v1",
    ),
];

/// What the target version says of an apiVersion/kind, if anything.
pub fn lookup(api_version: &str, kind: &str) -> Option<&'static Deprecation> {
    TABLE
        .iter()
        .find(|d| d.api_version == api_version && (d.kind == "*" || d.kind == kind))
}

/// `Removed` when the target version no longer serves the API, `Deprecated` when it still
/// does but warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Deprecated(&'static Deprecation),
    Removed(&'static Deprecation),
}

pub fn status(api_version: &str, kind: &str, target: KubeVersion) -> Option<Status> {
    let d = lookup(api_version, kind)?;
    if target.minor >= d.removed_in {
        Some(Status::Removed(d))
    } else if d.deprecated_in.is_none_or(|v| target.minor >= v) {
        Some(Status::Deprecated(d))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdb_v1beta1_is_deprecated_before_1_25_and_removed_from_it() {
        let v = |m| KubeVersion { minor: m };
        assert!(matches!(
            status("policy/v1beta1", "PodDisruptionBudget", v(25)),
            Some(Status::Removed(d)) if d.replacement == "policy/v1"
        ));
        assert!(matches!(
            status("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", v(31)),
            Some(Status::Deprecated(_))
        ));
        assert!(matches!(
            status("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", v(32)),
            Some(Status::Removed(_))
        ));
        assert_eq!(status("apps/v1", "Deployment", v(37)), None);
    }
}
