# METADATA
# title: Container may run as root
# description: |-
#   A process running as UID 0 is root on the node as soon as it escapes the container, and
#   owns every file of the container image. Unless `runAsNonRoot: true` is set (the kubelet
#   then refuses to start an image whose user is root) or `runAsUser` names a non-zero UID,
#   the user comes from the image, which is root for most images. The Pod Security
#   Standards' restricted profile requires `runAsNonRoot: true` and forbids `runAsUser: 0`.
#   Settings are read the way Kubernetes applies them: a container's `securityContext`
#   overrides the pod's, and the pod's applies to every container that does not set its own.
#
#   Fires on `runAsUser: 0`, `runAsNonRoot: false`, or neither field set on the container or
#   the pod; passes `runAsNonRoot: true` or `runAsUser: 10001` on the container or the pod.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: run-as-root
#   severity: warning
#   remediation: >-
#     Set `securityContext.runAsNonRoot: true` and a non-zero `runAsUser` on the pod (or on
#     each container), and build the image to run as an unprivileged user.
package kgate.rules.security.run_as_root

import data.kgate.lib.kubernetes as k8s

default pod_security_context := {}

pod_security_context := sc if {
	sc := k8s.pod_spec.securityContext
	is_object(sc)
}

pod_sc_path := array.concat(k8s.pod_spec_path, ["securityContext"])

# The effective value of a field and where it is set: the container's securityContext wins
# over the pod's. Undefined when neither sets it (null counts as unset).
effective(c, field) := {"value": v, "path": array.concat(c.path, ["securityContext", field])} if {
	v := c.container.securityContext[field]
	v != null
}

effective(c, field) := {"value": v, "path": array.concat(pod_sc_path, [field])} if {
	not container_sets(c, field)
	v := pod_security_context[field]
	v != null
}

container_sets(c, field) if c.container.securityContext[field] != null

# runAsUser: 0, whatever runAsNonRoot says.
deny contains violation if {
	some c in k8s.containers
	user := effective(c, "runAsUser")
	user.value == 0
	violation := {
		"msg": sprintf("%s runs as root: runAsUser is 0%s", [c.label, origin(c, user)]),
		"path": user.path,
	}
}

# runAsNonRoot explicitly not true and no runAsUser: the image decides, usually root.
deny contains violation if {
	some c in k8s.containers
	not effective(c, "runAsUser")
	non_root := effective(c, "runAsNonRoot")
	non_root.value != true
	violation := {
		"msg": sprintf("%s may run as root: runAsNonRoot is %v%s and runAsUser is not set", [c.label, non_root.value, origin(c, non_root)]),
		"path": non_root.path,
	}
}

# Neither field set anywhere.
deny contains violation if {
	some c in k8s.containers
	not effective(c, "runAsUser")
	not effective(c, "runAsNonRoot")
	violation := {
		"msg": sprintf("%s may run as root: neither runAsNonRoot nor runAsUser is set on it or on the pod", [c.label]),
		"path": missing_at(c),
	}
}

origin(c, setting) := "" if array.slice(setting.path, 0, count(c.path)) == c.path

origin(c, setting) := " on the pod" if array.slice(setting.path, 0, count(c.path)) != c.path

missing_at(c) := array.concat(c.path, ["securityContext"]) if is_object(c.container.securityContext)

missing_at(c) := c.path if not is_object(c.container.securityContext)
