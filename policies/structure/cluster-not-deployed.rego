# METADATA
# title: Cluster directory no GitOps entry point deploys
# description: |-
#   When the repository has Argo CD or Flux entry points (Applications, ApplicationSets,
#   Flux Kustomizations), every cluster directory should be the path of one of them;
#   otherwise nothing applies it and changes to it never reach the cluster.
# custom:
#   id: cluster-not-deployed
#   scope: repo
#   severity: warning
#   remediation: >-
#     Add an Argo CD Application or Flux Kustomization whose path is the cluster directory,
#     or delete the directory if the cluster is gone.
package kgate.rules.structure.cluster_not_deployed

deny contains violation if {
	count(input.entryPoints) > 0
	some cluster in input.clusters
	count(cluster.entryPoints) == 0
	violation := {
		"msg": sprintf("no Argo CD or Flux entry point deploys %s", [cluster.path]),
		"file": cluster.file,
	}
}
