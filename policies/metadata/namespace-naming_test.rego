package kgate.rules.metadata.namespace_naming_test

import data.kgate.rules.metadata.namespace_naming

params := {"namespace-naming": {"pattern": "^[a-z]+-{env}$"}}

deployment(ns) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": ns}}

test_namespace_of_another_environment_fires if {
	result := namespace_naming.deny with input as deployment("web-dev") with data.kgate.params as params with data.kgate.environment as "prod"
	result == {{"msg": "namespace \"web-dev\" does not match the convention ^[a-z]+-prod$ for environment \"prod\"", "path": ["metadata", "namespace"]}}
}

test_namespace_object_fires if {
	some v in namespace_naming.deny with input as {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "payments"}} with data.kgate.params as params with data.kgate.environment as "prod"
	v.path == ["metadata", "name"]
}

test_conventional_namespace_passes if {
	count(namespace_naming.deny) == 0 with input as deployment("web-prod") with data.kgate.params as params with data.kgate.environment as "prod"
}

test_without_pattern_or_environment_passes if {
	count(namespace_naming.deny) == 0 with input as deployment("anything")
	count(namespace_naming.deny) == 0 with input as deployment("anything") with data.kgate.params as params
	count(namespace_naming.deny) == 0 with input as deployment("anything") with data.kgate.params as params with data.kgate.environment as null
}
