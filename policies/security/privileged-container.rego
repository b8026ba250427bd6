# METADATA
# title: Container runs privileged
# description: |-
#   A privileged container has every capability and all host devices; escaping to the node
#   is one step away, and from the node the rest of the cluster. The Pod Security Standards
#   forbid it in the baseline profile. Checked for containers, init containers and
#   ephemeral containers of every workload kind. YAML 1.1 spellings count: `privileged: yes`
#   is `true` for the API server and for this rule.
#
#   Fires on `securityContext: {privileged: true}`; passes when `privileged` is false or unset.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: privileged-container
#   severity: error
#   remediation: >-
#     Remove `securityContext.privileged: true`; grant only the specific capabilities the
#     container needs under `securityContext.capabilities.add`.
package kgate.rules.security.privileged_container

import data.kgate.lib.kubernetes as k8s

deny contains violation if {
	some c in k8s.containers
	c.container.securityContext.privileged == true
	violation := {
		"msg": sprintf("%s runs privileged", [c.label]),
		"path": array.concat(c.path, ["securityContext", "privileged"]),
	}
}
