# METADATA
# title: Single replica in production
# description: |-
#   One replica means every rollout, node drain and crash is an outage. In roots of
#   production environments (`productionEnvironments` in .kgate.yaml, default prod and
#   production), Deployments and StatefulSets run at least two replicas; `spec.replicas`
#   unset counts as 1. Workloads scaled by a HorizontalPodAutoscaler still start from
#   `spec.replicas`.
# custom:
#   kinds: [Deployment, StatefulSet]
#   id: single-replica-in-production
#   severity: warning
#   remediation: Set `spec.replicas` to 2 or more in the production overlay (and add a PodDisruptionBudget).
package kgate.rules.reliability.single_replica_in_production

deny contains violation if {
	data.kgate.production == true
	startswith(input.apiVersion, "apps/")
	replicas := object.get(input, ["spec", "replicas"], 1)
	replicas < 2
	violation := {
		"msg": sprintf("%s %q runs %d replica in production", [input.kind, input.metadata.name, replicas]),
		"path": path,
	}
}

path := ["spec", "replicas"] if input.spec.replicas

else := ["spec"]
