# METADATA
# title: Container limit above the configured maximum
# description: |-
#   Very large limits let one container take a node's memory or CPU, and usually mean a typo
#   (`64Gi` for `64Mi`, `40` cores for `400m`). Limits are compared by value with the
#   rule's parameters `maxCpu` (default `4`) and `maxMemory` (default `16Gi`), set
#   under `rules.params.resource-limits-too-high` in .kgate.yaml.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: resource-limits-too-high
#   severity: warning
#   remediation: >-
#     Lower the limit to what the container needs, or raise the maximum in
#     rules.params.resource-limits-too-high if the workload really needs it.
package kgate.rules.resources.resource_limits_too_high

import data.kgate.lib.kubernetes as k8s

params := p if {
	p := data.kgate.params["resource-limits-too-high"]
	is_object(p)
} else := {}

maximum("cpu") := object.get(params, "maxCpu", "4")

maximum("memory") := object.get(params, "maxMemory", "16Gi")

quantity("cpu", q) := units.parse(sprintf("%v", [q]))

quantity("memory", q) := units.parse_bytes(sprintf("%v", [q]))

deny contains violation if {
	some c in k8s.containers
	some resource in ["cpu", "memory"]
	limit := c.container.resources.limits[resource]
	quantity(resource, limit) > quantity(resource, maximum(resource))
	violation := {
		"msg": sprintf("%s has a %s limit of %v, above the maximum %v", [c.label, resource, limit, maximum(resource)]),
		"path": array.concat(c.path, ["resources", "limits", resource]),
	}
}
