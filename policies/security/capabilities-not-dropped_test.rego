package kgate.rules.security.capabilities_not_dropped_test

import data.kgate.rules.security.capabilities_not_dropped

pod(spec) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}

job(security_context) := {
	"apiVersion": "batch/v1",
	"kind": "Job",
	"metadata": {"name": "j"},
	"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:1", "securityContext": security_context}]}}},
}

test_drop_without_all_fires if {
	obj := job({"capabilities": {"drop": ["NET_RAW"]}})
	some v in capabilities_not_dropped.deny with input as obj
	v.msg == "container \"app\" does not drop all capabilities: securityContext.capabilities.drop does not contain ALL"
	v.path == ["spec", "template", "spec", "containers", 0, "securityContext", "capabilities", "drop"]
	count(capabilities_not_dropped.deny) == 1 with input as obj
}

test_capabilities_without_drop_fires if {
	some v in capabilities_not_dropped.deny with input as job({"capabilities": {"add": ["NET_BIND_SERVICE"]}})
	v.path == ["spec", "template", "spec", "containers", 0, "securityContext", "capabilities"]
}

test_security_context_without_capabilities_fires if {
	some v in capabilities_not_dropped.deny with input as job({"runAsNonRoot": true})
	v.path == ["spec", "template", "spec", "containers", 0, "securityContext"]
}

test_no_security_context_fires if {
	some v in capabilities_not_dropped.deny with input as pod({"containers": [{"name": "app"}]})
	v.path == ["spec", "containers", 0]
}

test_init_container_fires if {
	obj := pod({
		"initContainers": [{"name": "setup", "securityContext": {"capabilities": {"drop": []}}}],
		"containers": [{"name": "app", "securityContext": {"capabilities": {"drop": ["ALL"]}}}],
	})
	some v in capabilities_not_dropped.deny with input as obj
	v.msg == "init container \"setup\" does not drop all capabilities: securityContext.capabilities.drop does not contain ALL"
	v.path == ["spec", "initContainers", 0, "securityContext", "capabilities", "drop"]
	count(capabilities_not_dropped.deny) == 1 with input as obj
}

test_drop_all_passes if {
	count(capabilities_not_dropped.deny) == 0 with input as job({"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}})
}

test_drop_all_lowercase_passes if {
	count(capabilities_not_dropped.deny) == 0 with input as job({"capabilities": {"drop": ["NET_RAW", "all"]}})
}

test_windows_pod_passes if {
	count(capabilities_not_dropped.deny) == 0 with input as pod({"os": {"name": "windows"}, "containers": [{"name": "app"}]})
}
