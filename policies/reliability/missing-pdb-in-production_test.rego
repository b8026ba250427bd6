package kgate.rules.reliability.missing_pdb_in_production_test

import data.kgate.rules.reliability.missing_pdb_in_production

deployment(replicas) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": replicas, "template": {"metadata": {"labels": {"app": "web"}}}}}

pdb(selector) := {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"}, "spec": {"maxUnavailable": 1, "selector": selector}}

test_replicated_without_pdb_in_production_fires if {
	result := missing_pdb_in_production.deny with input as {"objects": [deployment(3)]} with data.kgate.production as true
	count(result) == 1
	some v in result
	v.object == 0
	v.path == ["spec", "replicas"]
	v.msg == "Deployment \"web\" runs 3 replicas in production without a PodDisruptionBudget selecting its pods"
}

test_pdb_for_other_pods_fires if {
	objects := [deployment(3), pdb({"matchLabels": {"app": "api"}})]
	count(missing_pdb_in_production.deny) == 1 with input as {"objects": objects} with data.kgate.production as true
}

test_matching_pdb_passes if {
	objects := [deployment(3), pdb({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]})]
	count(missing_pdb_in_production.deny) == 0 with input as {"objects": objects} with data.kgate.production as true
}

test_outside_production_passes if {
	count(missing_pdb_in_production.deny) == 0 with input as {"objects": [deployment(3)]} with data.kgate.production as false
}

test_single_replica_passes if {
	count(missing_pdb_in_production.deny) == 0 with input as {"objects": [deployment(1)]} with data.kgate.production as true
}
