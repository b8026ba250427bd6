# METADATA
# title: Container allows privilege escalation
# description: |-
#   With `allowPrivilegeEscalation` left at its default of true, a process in the container
#   can gain more privileges than its parent, through setuid binaries or file capabilities,
#   which turns a compromised unprivileged process into root in the container. The Pod
#   Security Standards' restricted profile requires it to be false on every container, init
#   container and ephemeral container. Unset counts as allowed. Windows pods
#   (`spec.os.name: windows`) are exempt: the API rejects the field there.
#
#   Fires on `securityContext: {allowPrivilegeEscalation: true}` and on a container that does
#   not set it; passes `securityContext: {allowPrivilegeEscalation: false}`.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: privilege-escalation-allowed
#   severity: warning
#   remediation: >-
#     Set `securityContext.allowPrivilegeEscalation: false` on every container, init
#     container and ephemeral container.
package kgate.rules.security.privilege_escalation_allowed

import data.kgate.lib.kubernetes as k8s

# Set, but to something other than false: point at the field.
deny contains violation if {
	not windows_pod
	some c in k8s.containers
	sc := c.container.securityContext
	is_object(sc)
	"allowPrivilegeEscalation" in object.keys(sc)
	sc.allowPrivilegeEscalation != false
	violation := {
		"msg": sprintf("%s allows privilege escalation (allowPrivilegeEscalation: %v)", [c.label, sc.allowPrivilegeEscalation]),
		"path": array.concat(c.path, ["securityContext", "allowPrivilegeEscalation"]),
	}
}

# Unset: it defaults to true. Point at the securityContext that should hold it, or the container.
deny contains violation if {
	not windows_pod
	some c in k8s.containers
	not has_field(c.container)
	violation := {
		"msg": sprintf("%s allows privilege escalation: securityContext.allowPrivilegeEscalation is not set and defaults to true", [c.label]),
		"path": missing_at(c),
	}
}

has_field(container) if {
	is_object(container.securityContext)
	"allowPrivilegeEscalation" in object.keys(container.securityContext)
}

missing_at(c) := array.concat(c.path, ["securityContext"]) if is_object(c.container.securityContext)

missing_at(c) := c.path if not is_object(c.container.securityContext)

windows_pod if k8s.pod_spec.os.name == "windows"
