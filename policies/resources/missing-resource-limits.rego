# METADATA
# title: Container has no CPU or memory limit
# description: |-
#   Without a memory limit one leaking container can exhaust its node and get unrelated pods
#   OOM-killed; without a CPU limit a busy container starves its neighbours. Namespaces with
#   a ResourceQuota reject such pods outright. Checked for every container and init
#   container of every workload kind (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
#   ReplicationController, Job, CronJob, PodTemplate). Ephemeral containers are exempt:
#   the API forbids resources on them.
#
#   Fires on a container without `resources.limits.cpu` or `resources.limits.memory`;
#   passes `resources: {limits: {cpu: 500m, memory: 256Mi}}`.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: missing-resource-limits
#   severity: error
#   remediation: Set `resources.limits.cpu` and `resources.limits.memory` on every container and init container, sized from observed usage.
package kgate.rules.resources.missing_resource_limits

import data.kgate.lib.kubernetes as k8s

required := ["cpu", "memory"]

deny contains violation if {
	some c in k8s.containers
	c.field != "ephemeralContainers"
	limits := object.get(c.container, ["resources", "limits"], {})
	missing := [r | some r in required; not has_limit(limits, r)]
	count(missing) > 0
	violation := {
		"msg": sprintf("%s has no %s limit", [c.label, concat(" or ", missing)]),
		"path": array.concat(c.path, ["resources", "limits"]),
	}
}

has_limit(limits, r) if {
	is_object(limits)
	limits[r] != null
	limits[r] != ""
}
