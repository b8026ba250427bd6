# METADATA
# title: Container has no readiness probe
# description: |-
#   Without a readiness probe, a pod receives traffic as soon as its container starts,
#   before it can serve, and keeps receiving it while it is overloaded or draining: errors
#   on every rollout.
#   Checked on the regular containers (not init or ephemeral ones) of long-running workloads:
#   Deployment, StatefulSet, DaemonSet, ReplicaSet and bare Pods.
#
#   Fires on a container without `readinessProbe`; passes when it has one.
# custom:
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet]
#   id: missing-readiness-probe
#   severity: warning
#   remediation: >-
#     Add `readinessProbe` (an httpGet on a health endpoint, a tcpSocket or an exec check)
#     to the container.
package kgate.rules.reliability.missing_readiness_probe

import data.kgate.lib.kubernetes as k8s

deny contains violation if {
	some c in k8s.containers
	input.kind in {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}
	c.field == "containers"
	not c.container.readinessProbe
	violation := {
		"msg": sprintf("%s has no readiness probe", [c.label]),
		"path": c.path,
	}
}
