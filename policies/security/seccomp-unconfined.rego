# METADATA
# title: Seccomp disabled
# description: |-
#   `seccompProfile.type: Unconfined` removes the system-call filter the runtime applies by
#   default, opening kernel attack surface to the container. The Pod Security Standards'
#   baseline profile forbids it. Checked on the pod and on each container, and on the legacy
#   `seccomp.security.alpha.kubernetes.io/pod` annotation of the pod template.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: seccomp-unconfined
#   severity: error
#   # Only these annotation keys change the result (others are shared across clusters).
#   readsAnnotations: ["seccomp.security.alpha.kubernetes.io/"]
#   remediation: >-
#     Use `seccompProfile: {type: RuntimeDefault}` (or a Localhost profile) instead of
#     Unconfined.
package kgate.rules.security.seccomp_unconfined

import data.kgate.lib.kubernetes as k8s

deny contains violation if {
	k8s.pod_spec.securityContext.seccompProfile.type == "Unconfined"
	violation := {
		"msg": "the pod runs with seccomp Unconfined",
		"path": array.concat(k8s.pod_spec_path, ["securityContext", "seccompProfile", "type"]),
	}
}

deny contains violation if {
	some c in k8s.containers
	c.container.securityContext.seccompProfile.type == "Unconfined"
	violation := {
		"msg": sprintf("%s runs with seccomp Unconfined", [c.label]),
		"path": array.concat(c.path, ["securityContext", "seccompProfile", "type"]),
	}
}

# The pod template's metadata sits beside its spec (the pod's own metadata for a Pod).
template_path := array.slice(k8s.pod_spec_path, 0, count(k8s.pod_spec_path) - 1)

deny contains violation if {
	path := array.concat(template_path, ["metadata", "annotations", "seccomp.security.alpha.kubernetes.io/pod"])
	object.get(input, path, "") == "unconfined"
	violation := {"msg": "the pod template's seccomp annotation is unconfined", "path": path}
}
