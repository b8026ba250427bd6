# METADATA
# title: AppArmor disabled
# description: |-
#   An `Unconfined` AppArmor profile removes the mandatory access control the runtime's
#   default profile applies. The Pod Security Standards' baseline profile forbids it. Checked
#   on `appArmorProfile` of the pod and of each container, and on the legacy
#   `container.apparmor.security.beta.kubernetes.io/<container>: unconfined` annotation.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: apparmor-unconfined
#   severity: error
#   # Only these annotation keys change the result (others are shared across clusters).
#   readsAnnotations: ["container.apparmor.security.beta.kubernetes.io/"]
#   remediation: >-
#     Use the runtime's default profile (`appArmorProfile: {type: RuntimeDefault}`) or a
#     Localhost profile.
package kgate.rules.security.apparmor_unconfined

import data.kgate.lib.kubernetes as k8s

template_path := array.slice(k8s.pod_spec_path, 0, count(k8s.pod_spec_path) - 1)

deny contains violation if {
	k8s.pod_spec.securityContext.appArmorProfile.type == "Unconfined"
	violation := {
		"msg": "the pod runs with AppArmor Unconfined",
		"path": array.concat(k8s.pod_spec_path, ["securityContext", "appArmorProfile", "type"]),
	}
}

deny contains violation if {
	some c in k8s.containers
	c.container.securityContext.appArmorProfile.type == "Unconfined"
	violation := {
		"msg": sprintf("%s runs with AppArmor Unconfined", [c.label]),
		"path": array.concat(c.path, ["securityContext", "appArmorProfile", "type"]),
	}
}

deny contains violation if {
	some key, value in object.get(input, array.concat(template_path, ["metadata", "annotations"]), {})
	startswith(key, "container.apparmor.security.beta.kubernetes.io/")
	value == "unconfined"
	violation := {
		"msg": sprintf("the annotation %s disables AppArmor", [key]),
		"path": array.concat(template_path, ["metadata", "annotations", key]),
	}
}
