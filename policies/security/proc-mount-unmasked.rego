# METADATA
# title: Container mounts /proc unmasked
# description: |-
#   `procMount: Unmasked` exposes the parts of /proc the runtime normally hides (kernel
#   keys, timers, scheduling details of the node), a step towards escaping the container.
#   The Pod Security Standards' baseline profile requires the Default proc mount.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: proc-mount-unmasked
#   severity: error
#   remediation: Remove `securityContext.procMount` (or set it to Default).
package kgate.rules.security.proc_mount_unmasked

import data.kgate.lib.kubernetes as k8s

deny contains violation if {
	some c in k8s.containers
	c.container.securityContext.procMount == "Unmasked"
	violation := {
		"msg": sprintf("%s mounts /proc unmasked", [c.label]),
		"path": array.concat(c.path, ["securityContext", "procMount"]),
	}
}
