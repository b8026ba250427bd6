# METADATA
# title: Pod shares the node's network, PID or IPC namespace
# description: |-
#   `hostNetwork: true` puts the pod on the node's network stack: it can bind any node port,
#   sniff traffic and reach services listening on localhost, bypassing NetworkPolicies.
#   `hostPID: true` lets it see and signal every process on the node and read their
#   environment; `hostIPC: true` lets it read other workloads' shared memory. The Pod
#   Security Standards forbid all three in the baseline profile. Each field set to true is
#   reported on its own.
#
#   Fires on `hostNetwork: true`, `hostPID: true` or `hostIPC: true` in the pod spec; passes
#   when they are false or unset.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: host-namespaces
#   severity: error
#   remediation: >-
#     Remove `hostNetwork`, `hostPID` and `hostIPC` from the pod spec; expose ports through a
#     Service, and leave node-level agents that truly need them to a dedicated namespace.
package kgate.rules.security.host_namespaces

import data.kgate.lib.kubernetes as k8s

namespaces := {
	"hostNetwork": "network",
	"hostPID": "PID",
	"hostIPC": "IPC",
}

deny contains violation if {
	some field, namespace in namespaces
	k8s.pod_spec[field] == true
	violation := {
		"msg": sprintf("pod shares the node's %s namespace (%s: true)", [namespace, field]),
		"path": array.concat(k8s.pod_spec_path, [field]),
	}
}
