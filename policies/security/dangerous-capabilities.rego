# METADATA
# title: Container adds a dangerous Linux capability
# description: |-
#   Some capabilities are root in all but name: SYS_ADMIN mounts filesystems and escapes most
#   confinement, SYS_MODULE loads kernel modules, SYS_PTRACE reads other processes' memory,
#   NET_ADMIN and NET_RAW rewrite or spoof the node's traffic, BPF and PERFMON load kernel
#   programs, SYS_RAWIO and DAC_READ_SEARCH reach raw devices and bypass file permissions,
#   and ALL grants every one of them. Names are matched case-insensitively, with or without
#   the `CAP_` prefix, on containers, init containers and ephemeral containers. More names
#   can be forbidden with the `forbidden` parameter (a list, added to the built-in one).
#
#   Fires on `capabilities: {add: [SYS_ADMIN]}` or `add: [cap_net_raw]`, once per capability;
#   passes `capabilities: {add: [NET_BIND_SERVICE], drop: [ALL]}`.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: dangerous-capabilities
#   severity: error
#   remediation: >-
#     Remove the capability from `securityContext.capabilities.add`; if the workload truly
#     needs it, run it in a dedicated, isolated namespace and disable this rule there.
package kgate.rules.security.dangerous_capabilities

import data.kgate.lib.kubernetes as k8s

builtin_forbidden := {
	"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE",
	"NET_RAW", "BPF", "PERFMON", "SYS_RAWIO", "DAC_READ_SEARCH",
}

default params := {}

params := p if {
	p := data.kgate.params["dangerous-capabilities"]
	is_object(p)
}

# The `forbidden` parameter: a list of capability names (a single name is accepted too).
extra_forbidden contains normalize(name) if {
	list := params.forbidden
	is_array(list)
	some name in list
	is_string(name)
}

extra_forbidden contains normalize(params.forbidden) if is_string(params.forbidden)

forbidden := builtin_forbidden | extra_forbidden

# SYS_ADMIN, sys_admin and CAP_SYS_ADMIN are the same capability to the container runtime.
normalize(name) := trim_prefix(upper(trim_space(name)), "CAP_")

deny contains violation if {
	some c in k8s.containers
	added := c.container.securityContext.capabilities.add
	is_array(added)
	some i, name in added
	is_string(name)
	normalize(name) in forbidden
	violation := {
		"msg": sprintf("%s adds the dangerous capability %s", [c.label, name]),
		"path": array.concat(c.path, ["securityContext", "capabilities", "add", i]),
	}
}
