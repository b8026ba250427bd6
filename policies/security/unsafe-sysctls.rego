# METADATA
# title: Pod sets an unsafe sysctl
# description: |-
#   Sysctls outside the namespaced safe set change kernel settings shared with every pod on
#   the node. The Pod Security Standards' baseline profile allows only
#   kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.ip_unprivileged_port_start,
#   net.ipv4.tcp_syncookies, net.ipv4.ping_group_range, net.ipv4.ip_local_reserved_ports,
#   net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl and
#   net.ipv4.tcp_keepalive_probes. Fires on each other entry of
#   `spec.securityContext.sysctls`.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: unsafe-sysctls
#   severity: error
#   remediation: >-
#     Remove the sysctl, or tune the node instead (a node pool whose kubelet allows it, with
#     taints keeping other workloads off).
package kgate.rules.security.unsafe_sysctls

import data.kgate.lib.kubernetes as k8s

safe := {
	"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
}

deny contains violation if {
	some i, s in object.get(k8s.pod_spec, ["securityContext", "sysctls"], [])
	not s.name in safe
	violation := {
		"msg": sprintf("the pod sets the unsafe sysctl %s", [s.name]),
		"path": array.concat(k8s.pod_spec_path, ["securityContext", "sysctls", i, "name"]),
	}
}
