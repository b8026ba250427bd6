package kgate.rules.reliability.missing_liveness_probe_test

import data.kgate.rules.reliability.missing_liveness_probe

deployment(container) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"spec": {
	"initContainers": [{"name": "init", "image": "a:1"}],
	"containers": [container],
}}}}

test_missing_probe_fires if {
	result := missing_liveness_probe.deny with input as deployment({"name": "app", "image": "a:1"})
	count(result) == 1
	some v in result
	v.path == ["spec", "template", "spec", "containers", 0]
	v.msg == "container \"app\" has no liveness probe"
}

test_probe_passes if {
	count(missing_liveness_probe.deny) == 0 with input as deployment({"name": "app", "image": "a:1", "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}}})
}

test_jobs_are_not_checked_passes if {
	job := {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:1"}]}}}}
	count(missing_liveness_probe.deny) == 0 with input as job
}
