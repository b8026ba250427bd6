# METADATA
# title: Container root filesystem is writable
# description: |-
#   A writable root filesystem lets an attacker who gets code execution in the container
#   drop tools and binaries, or alter the application's own files, and it hides state that
#   should live in a volume. With `readOnlyRootFilesystem: true`, writes go only to the
#   volumes (an `emptyDir` for scratch space) the manifest declares. Checked for containers,
#   init containers and ephemeral containers of every workload kind; there is no pod-level
#   setting. Windows pods (`spec.os.name: windows`) are exempt: the API rejects the field.
#
#   Fires on `securityContext: {readOnlyRootFilesystem: false}` and on a container that does
#   not set it; passes `securityContext: {readOnlyRootFilesystem: true}`.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: writable-root-filesystem
#   severity: warning
#   remediation: >-
#     Set `securityContext.readOnlyRootFilesystem: true` on the container and mount an
#     `emptyDir` volume at each path it must write to (for example `/tmp`).
package kgate.rules.security.writable_root_filesystem

import data.kgate.lib.kubernetes as k8s

# Set, but not to true: point at the field.
deny contains violation if {
	not windows_pod
	some c in k8s.containers
	sc := c.container.securityContext
	is_object(sc)
	"readOnlyRootFilesystem" in object.keys(sc)
	sc.readOnlyRootFilesystem != true
	violation := {
		"msg": sprintf("%s has a writable root filesystem (readOnlyRootFilesystem: %v)", [c.label, sc.readOnlyRootFilesystem]),
		"path": array.concat(c.path, ["securityContext", "readOnlyRootFilesystem"]),
	}
}

deny contains violation if {
	not windows_pod
	some c in k8s.containers
	not has_field(c.container)
	violation := {
		"msg": sprintf("%s has a writable root filesystem: securityContext.readOnlyRootFilesystem is not set", [c.label]),
		"path": missing_at(c),
	}
}

has_field(container) if {
	is_object(container.securityContext)
	"readOnlyRootFilesystem" in object.keys(container.securityContext)
}

missing_at(c) := array.concat(c.path, ["securityContext"]) if is_object(c.container.securityContext)

missing_at(c) := c.path if not is_object(c.container.securityContext)

windows_pod if k8s.pod_spec.os.name == "windows"
