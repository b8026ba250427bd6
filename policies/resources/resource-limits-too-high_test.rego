package kgate.rules.resources.resource_limits_too_high_test

import data.kgate.rules.resources.resource_limits_too_high

pod(limits) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "a:1", "resources": {"limits": limits}}]}}

test_memory_typo_fires if {
	some v in resource_limits_too_high.deny with input as pod({"cpu": "500m", "memory": "64Gi"})
	v.path == ["spec", "containers", 0, "resources", "limits", "memory"]
	v.msg == "container \"app\" has a memory limit of 64Gi, above the maximum 16Gi"
}

test_configured_maximum_fires if {
	count(resource_limits_too_high.deny) == 1 with input as pod({"cpu": 2}) with data.kgate.params as {"resource-limits-too-high": {"maxCpu": "1"}}
}

test_within_maximum_passes if {
	count(resource_limits_too_high.deny) == 0 with input as pod({"cpu": "4", "memory": "16Gi"})
}
