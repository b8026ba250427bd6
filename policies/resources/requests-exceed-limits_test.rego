package kgate.rules.resources.requests_exceed_limits_test

import data.kgate.rules.resources.requests_exceed_limits

pod(resources) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "a:1", "resources": resources}]}}

test_cpu_request_above_limit_fires if {
	some v in requests_exceed_limits.deny with input as pod({"requests": {"cpu": "1500m"}, "limits": {"cpu": 1}})
	v.msg == "container \"app\" requests 1500m cpu but is limited to 1"
	v.path == ["spec", "containers", 0, "resources", "requests", "cpu"]
}

test_memory_units_compared_by_value_fires if {
	count(requests_exceed_limits.deny) == 1 with input as pod({"requests": {"memory": "1Gi"}, "limits": {"memory": "1000Mi"}})
}

test_request_within_limit_passes if {
	count(requests_exceed_limits.deny) == 0 with input as pod({"requests": {"cpu": "500m", "memory": "1000Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}})
}
