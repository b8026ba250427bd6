# METADATA
# title: Container binds a port on the node
# description: |-
#   `hostPort` binds the container port on the node's address: it bypasses NetworkPolicies
#   on some network plugins, exposes the pod on every interface of the node, and limits the
#   workload to one pod per node per port. Fires on each container port with `hostPort`.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: host-port
#   severity: warning
#   remediation: Remove `hostPort` and expose the pod through a Service (and an Ingress for HTTP).
package kgate.rules.security.host_port

import data.kgate.lib.kubernetes as k8s

deny contains violation if {
	some c in k8s.containers
	some i, p in object.get(c.container, "ports", [])
	p.hostPort
	violation := {
		"msg": sprintf("%s binds port %v on the node (hostPort)", [c.label, p.hostPort]),
		"path": array.concat(c.path, ["ports", i, "hostPort"]),
	}
}
