# METADATA
# title: Service account token mounted into the pod
# description: |-
#   By default every pod gets its ServiceAccount's API token mounted: a compromised container
#   can then call the Kubernetes API with whatever the account may do. Most workloads never
#   talk to the API. Fires when the pod spec does not set
#   `automountServiceAccountToken: false` (the kube-linter default); set it to true
#   explicitly for workloads that need the API and the finding goes away.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: service-account-token-automount
#   severity: warning
#   remediation: >-
#     Set `automountServiceAccountToken: false` on the pod spec, or `true` explicitly if the
#     workload calls the Kubernetes API.
package kgate.rules.security.service_account_token_automount

import data.kgate.lib.kubernetes as k8s

deny contains violation if {
	is_object(k8s.pod_spec)
	count(k8s.containers) > 0
	not is_boolean(k8s.pod_spec.automountServiceAccountToken)
	violation := {
		"msg": "the pod mounts its service account token without saying so: set automountServiceAccountToken",
		"path": k8s.pod_spec_path,
	}
}
