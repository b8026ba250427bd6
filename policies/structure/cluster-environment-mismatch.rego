# METADATA
# title: Cluster includes another environment's overlay
# description: |-
#   A cluster directory (`clusters/<env>-<region>`) should deploy the overlays of its own
#   environment. A prod cluster that lists a dev overlay runs dev settings (images,
#   replicas, endpoints) in production; the reverse puts production credentials in dev.
#   The environment of a cluster comes from its name, that of an overlay from
#   `overlays/<env>`.
# custom:
#   id: cluster-environment-mismatch
#   scope: repo
#   severity: error
#   remediation: >-
#     List the overlay of the cluster's own environment, or move the entry to a cluster of
#     the overlay's environment.
package kgate.rules.structure.cluster_environment_mismatch

roots := {root.id: root | some root in input.roots}

clusters := {cluster.path: cluster | some cluster in input.clusters}

# One pass over the edges, each looked up, rather than every edge for every cluster.
deny contains violation if {
	some edge in input.edges
	cluster := clusters[edge.from]
	is_string(cluster.environment)
	target := roots[edge.to]
	is_string(target.environment)
	target.environment != cluster.environment
	violation := {
		"msg": sprintf("cluster %s (environment %q) includes %s, an overlay of environment %q", [cluster.path, cluster.environment, edge.to, target.environment]),
		"file": edge.file,
		"line": edge.line,
	}
}
