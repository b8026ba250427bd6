# METADATA
# title: Container requests more than its limit
# description: |-
#   A request above its limit is rejected by the API server (the pod never gets created), so
#   the deploy fails late, in the cluster, instead of in review. Quantities are compared by
#   value (`500m` < `1`, `1Gi` > `1000Mi`).
#
#   Fires on a cpu or memory request greater than the limit of the same resource; passes when
#   the request is at most the limit, or either is unset.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: requests-exceed-limits
#   severity: error
#   remediation: Lower the request or raise the limit so that the request is at most the limit.
package kgate.rules.resources.requests_exceed_limits

import data.kgate.lib.kubernetes as k8s

deny contains violation if {
	some c in k8s.containers
	some resource in ["cpu", "memory"]
	request := c.container.resources.requests[resource]
	limit := c.container.resources.limits[resource]
	quantity(resource, request) > quantity(resource, limit)
	violation := {
		"msg": sprintf("%s requests %v %s but is limited to %v", [c.label, request, resource, limit]),
		"path": array.concat(c.path, ["resources", "requests", resource]),
	}
}

quantity("cpu", q) := units.parse(sprintf("%v", [q]))

quantity("memory", q) := units.parse_bytes(sprintf("%v", [q]))
