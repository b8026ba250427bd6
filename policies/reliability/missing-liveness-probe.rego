# METADATA
# title: Container has no liveness probe
# description: |-
#   Without a liveness probe, a container that hangs (deadlock, exhausted pool) keeps
#   running and keeps receiving traffic until someone notices; the kubelet restarts only
#   containers that exit.
#   Checked on the regular containers (not init or ephemeral ones) of long-running workloads:
#   Deployment, StatefulSet, DaemonSet, ReplicaSet and bare Pods.
#
#   Fires on a container without `livenessProbe`; passes when it has one.
# custom:
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet]
#   id: missing-liveness-probe
#   severity: warning
#   remediation: >-
#     Add `livenessProbe` (an httpGet on a health endpoint, a tcpSocket or an exec check)
#     to the container.
package kgate.rules.reliability.missing_liveness_probe

import data.kgate.lib.kubernetes as k8s

deny contains violation if {
	some c in k8s.containers
	input.kind in {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}
	c.field == "containers"
	not c.container.livenessProbe
	violation := {
		"msg": sprintf("%s has no liveness probe", [c.label]),
		"path": c.path,
	}
}
