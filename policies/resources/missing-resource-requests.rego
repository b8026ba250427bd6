# METADATA
# title: Container has no cpu or memory request
# description: |-
#   The scheduler places pods by their requests: a container without them is scheduled as if
#   it needed nothing, lands on full nodes and is the first evicted under memory pressure
#   (BestEffort or Burstable QoS). Checked on containers and init containers of every
#   workload kind.
#
#   Fires when `resources.requests.cpu` or `resources.requests.memory` is missing; passes
#   when both are set (a limit alone does not count here: Kubernetes copies it into the
#   request, but the intent should be explicit).
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: missing-resource-requests
#   severity: warning
#   remediation: >-
#     Set `resources.requests.cpu` and `resources.requests.memory` on every container, sized
#     from observed usage.
package kgate.rules.resources.missing_resource_requests

import data.kgate.lib.kubernetes as k8s

deny contains violation if {
	some c in k8s.containers
	c.field != "ephemeralContainers"
	requests := object.get(c.container, ["resources", "requests"], {})
	missing := [r | some r in ["cpu", "memory"]; not requests[r]]
	count(missing) > 0
	violation := {
		"msg": sprintf("%s has no %s request", [c.label, concat(" or ", missing)]),
		"path": c.path,
	}
}
