# METADATA
# title: Container does not drop all Linux capabilities
# description: |-
#   Container runtimes grant a default set of capabilities (CHOWN, DAC_OVERRIDE, FOWNER,
#   SETUID, SETGID, NET_BIND_SERVICE, KILL and more, NET_RAW on some runtimes) that most
#   applications never use and that an attacker can. The Pod Security Standards' restricted
#   profile requires `capabilities.drop` to include ALL; a container that needs a capability
#   adds it back explicitly. Checked on containers, init containers and ephemeral containers;
#   `ALL` is matched case-insensitively. Windows pods (`spec.os.name: windows`) are exempt:
#   the API rejects capabilities there.
#
#   Fires on a container without `capabilities.drop` or whose list lacks ALL (for example
#   `drop: [NET_RAW]`); passes `capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}`.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: capabilities-not-dropped
#   severity: warning
#   remediation: >-
#     Set `securityContext.capabilities.drop: [ALL]` on every container and add back under
#     `capabilities.add` only the capabilities it needs.
package kgate.rules.security.capabilities_not_dropped

import data.kgate.lib.kubernetes as k8s

deny contains violation if {
	not windows_pod
	some c in k8s.containers
	not drops_all(c.container)
	violation := {
		"msg": sprintf("%s does not drop all capabilities: securityContext.capabilities.drop does not contain ALL", [c.label]),
		"path": missing_at(c),
	}
}

drops_all(container) if {
	drop := container.securityContext.capabilities.drop
	is_array(drop)
	some name in drop
	is_string(name)
	upper(trim_space(name)) == "ALL"
}

# The most precise existing field: the drop list, capabilities, securityContext, the container.
missing_at(c) := array.concat(c.path, ["securityContext", "capabilities", "drop"]) if has_drop(c)

missing_at(c) := array.concat(c.path, ["securityContext", "capabilities"]) if {
	not has_drop(c)
	is_object(c.container.securityContext.capabilities)
}

missing_at(c) := array.concat(c.path, ["securityContext"]) if {
	not is_object(c.container.securityContext.capabilities)
	is_object(c.container.securityContext)
}

missing_at(c) := c.path if not is_object(c.container.securityContext)

has_drop(c) if c.container.securityContext.capabilities.drop != null

windows_pod if k8s.pod_spec.os.name == "windows"
