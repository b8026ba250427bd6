package kgate.rules.structure.cluster_not_deployed_test

import data.kgate.rules.structure.cluster_not_deployed

cluster(eps) := {"path": "clusters/prod-eu", "file": "clusters/prod-eu/kustomization.yaml", "entryPoints": eps}

test_unreferenced_cluster_fires if {
	cluster_not_deployed.deny == {{"msg": "no Argo CD or Flux entry point deploys clusters/prod-eu", "file": "clusters/prod-eu/kustomization.yaml"}} with input as {"entryPoints": [{"id": "Application argocd/x"}], "clusters": [cluster([])]}
}

test_deployed_cluster_passes if {
	count(cluster_not_deployed.deny) == 0 with input as {"entryPoints": [{"id": "Application argocd/x"}], "clusters": [cluster(["Application argocd/x"])]}
}

test_repo_without_entry_points_passes if {
	count(cluster_not_deployed.deny) == 0 with input as {"entryPoints": [], "clusters": [cluster([])]}
}
