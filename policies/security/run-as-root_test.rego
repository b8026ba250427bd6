package kgate.rules.security.run_as_root_test

import data.kgate.rules.security.run_as_root

pod(spec) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}

deployment(pod_sc, container_sc) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {
		"securityContext": pod_sc,
		"containers": [{"name": "app", "image": "a:1", "securityContext": container_sc}],
	}}},
}

test_run_as_user_zero_fires if {
	obj := deployment({}, {"runAsUser": 0})
	some v in run_as_root.deny with input as obj
	v.msg == "container \"app\" runs as root: runAsUser is 0"
	v.path == ["spec", "template", "spec", "containers", 0, "securityContext", "runAsUser"]
	count(run_as_root.deny) == 1 with input as obj
}

test_run_as_user_zero_with_run_as_non_root_fires if {
	count(run_as_root.deny) == 1 with input as deployment({}, {"runAsUser": 0, "runAsNonRoot": true})
}

test_pod_run_as_user_zero_inherited_fires if {
	some v in run_as_root.deny with input as deployment({"runAsUser": 0}, {"readOnlyRootFilesystem": true})
	v.msg == "container \"app\" runs as root: runAsUser is 0 on the pod"
	v.path == ["spec", "template", "spec", "securityContext", "runAsUser"]
}

test_container_run_as_user_zero_overrides_pod_fires if {
	some v in run_as_root.deny with input as deployment({"runAsUser": 1000, "runAsNonRoot": true}, {"runAsUser": 0})
	v.path == ["spec", "template", "spec", "containers", 0, "securityContext", "runAsUser"]
}

test_run_as_non_root_false_fires if {
	some v in run_as_root.deny with input as deployment({}, {"runAsNonRoot": false})
	v.msg == "container \"app\" may run as root: runAsNonRoot is false and runAsUser is not set"
	v.path == ["spec", "template", "spec", "containers", 0, "securityContext", "runAsNonRoot"]
}

test_container_run_as_non_root_false_overrides_pod_fires if {
	some v in run_as_root.deny with input as deployment({"runAsNonRoot": true}, {"runAsNonRoot": false})
	v.path == ["spec", "template", "spec", "containers", 0, "securityContext", "runAsNonRoot"]
}

test_pod_run_as_non_root_false_inherited_fires if {
	some v in run_as_root.deny with input as deployment({"runAsNonRoot": false}, {})
	v.msg == "container \"app\" may run as root: runAsNonRoot is false on the pod and runAsUser is not set"
	v.path == ["spec", "template", "spec", "securityContext", "runAsNonRoot"]
}

test_nothing_set_fires if {
	obj := pod({"containers": [{"name": "app"}]})
	some v in run_as_root.deny with input as obj
	v.msg == "container \"app\" may run as root: neither runAsNonRoot nor runAsUser is set on it or on the pod"
	v.path == ["spec", "containers", 0]
}

test_nothing_set_with_security_context_fires if {
	some v in run_as_root.deny with input as deployment(null, {"readOnlyRootFilesystem": true})
	v.path == ["spec", "template", "spec", "containers", 0, "securityContext"]
}

test_init_container_fires if {
	obj := pod({
		"initContainers": [{"name": "setup", "securityContext": {"runAsUser": 0}}],
		"containers": [{"name": "app"}],
		"securityContext": {"runAsNonRoot": true},
	})
	some v in run_as_root.deny with input as obj
	v.msg == "init container \"setup\" runs as root: runAsUser is 0"
	v.path == ["spec", "initContainers", 0, "securityContext", "runAsUser"]
	count(run_as_root.deny) == 1 with input as obj
}

test_each_container_is_reported_fires if {
	obj := pod({"containers": [{"name": "a"}, {"name": "b", "securityContext": {"runAsUser": 1000}}, {"name": "c"}]})
	count(run_as_root.deny) == 2 with input as obj
}

test_pod_run_as_non_root_passes if {
	count(run_as_root.deny) == 0 with input as deployment({"runAsNonRoot": true}, {})
}

test_container_run_as_non_root_passes if {
	count(run_as_root.deny) == 0 with input as deployment({}, {"runAsNonRoot": true})
}

test_pod_run_as_user_passes if {
	count(run_as_root.deny) == 0 with input as deployment({"runAsUser": 10001}, null)
}

test_container_run_as_user_overrides_pod_root_passes if {
	count(run_as_root.deny) == 0 with input as deployment({"runAsUser": 0}, {"runAsUser": 10001})
}

test_run_as_user_overrides_run_as_non_root_false_passes if {
	count(run_as_root.deny) == 0 with input as deployment({"runAsNonRoot": false}, {"runAsUser": 10001})
}

test_container_null_falls_back_to_pod_passes if {
	count(run_as_root.deny) == 0 with input as deployment({"runAsNonRoot": true}, {"runAsNonRoot": null})
}
