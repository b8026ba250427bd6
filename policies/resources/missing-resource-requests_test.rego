package kgate.rules.resources.missing_resource_requests_test

import data.kgate.rules.resources.missing_resource_requests

pod(resources) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "a:1", "resources": resources}]}}

test_no_requests_fires if {
	some v in missing_resource_requests.deny with input as pod({"limits": {"cpu": "1", "memory": "1Gi"}})
	v.msg == "container \"app\" has no cpu or memory request"
	v.path == ["spec", "containers", 0]
}

test_memory_request_missing_fires if {
	some v in missing_resource_requests.deny with input as pod({"requests": {"cpu": "100m"}})
	v.msg == "container \"app\" has no memory request"
}

test_requests_set_passes if {
	count(missing_resource_requests.deny) == 0 with input as pod({"requests": {"cpu": "100m", "memory": "64Mi"}})
}
