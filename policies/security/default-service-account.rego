# METADATA
# title: Pod runs as the namespace's default ServiceAccount
# description: |-
#   Every pod of a namespace that does not name a ServiceAccount shares `default`: any
#   permission granted to one workload through it is granted to all of them, and audit logs
#   cannot tell them apart. Fires when `serviceAccountName` (or the deprecated
#   `serviceAccount`) is unset or `default`.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: default-service-account
#   severity: warning
#   remediation: Create a ServiceAccount per workload and set `serviceAccountName` to it.
package kgate.rules.security.default_service_account

import data.kgate.lib.kubernetes as k8s

account := object.get(k8s.pod_spec, "serviceAccountName", object.get(k8s.pod_spec, "serviceAccount", "default"))

deny contains violation if {
	is_object(k8s.pod_spec)
	count(k8s.containers) > 0
	account == "default"
	violation := {
		"msg": "the pod runs as the namespace's default ServiceAccount",
		"path": path,
	}
}

path := array.concat(k8s.pod_spec_path, ["serviceAccountName"]) if k8s.pod_spec.serviceAccountName

else := k8s.pod_spec_path
