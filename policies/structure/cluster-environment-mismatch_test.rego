package kgate.rules.structure.cluster_environment_mismatch_test

import data.kgate.rules.structure.cluster_environment_mismatch

repo(to) := {
	"clusters": [{"name": "prod-eu", "path": "clusters/prod-eu", "environment": "prod"}],
	"roots": [
		{"id": "apps/web/overlays/dev", "kind": "root", "environment": "dev"},
		{"id": "apps/web/overlays/prod", "kind": "root", "environment": "prod"},
		{"id": "infrastructure/base", "kind": "root"},
	],
	"edges": [{"from": "clusters/prod-eu", "to": to, "kind": "resource", "file": "clusters/prod-eu/kustomization.yaml", "line": 4, "column": 5}],
}

test_dev_overlay_in_prod_cluster_fires if {
	some v in cluster_environment_mismatch.deny with input as repo("apps/web/overlays/dev")
	v.line == 4
	v.msg == "cluster clusters/prod-eu (environment \"prod\") includes apps/web/overlays/dev, an overlay of environment \"dev\""
}

test_own_environment_and_shared_roots_passes if {
	count(cluster_environment_mismatch.deny) == 0 with input as repo("apps/web/overlays/prod")
	count(cluster_environment_mismatch.deny) == 0 with input as repo("infrastructure/base")
}
