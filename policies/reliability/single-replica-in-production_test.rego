package kgate.rules.reliability.single_replica_in_production_test

import data.kgate.rules.reliability.single_replica_in_production

deployment(spec) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": spec}

test_one_replica_in_production_fires if {
	some v in single_replica_in_production.deny with input as deployment({"replicas": 1}) with data.kgate.production as true
	v.path == ["spec", "replicas"]
	v.msg == "Deployment \"web\" runs 1 replica in production"
}

test_unset_replicas_fires if {
	some v in single_replica_in_production.deny with input as deployment({}) with data.kgate.production as true
	v.path == ["spec"]
}

test_two_replicas_passes if {
	count(single_replica_in_production.deny) == 0 with input as deployment({"replicas": 2}) with data.kgate.production as true
}

test_outside_production_passes if {
	count(single_replica_in_production.deny) == 0 with input as deployment({"replicas": 1}) with data.kgate.production as false
}
