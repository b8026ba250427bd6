package kgate.rules.security.dangerous_capabilities_test

import data.kgate.rules.security.dangerous_capabilities

deployment(add) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [
		{"name": "sidecar", "image": "a:1"},
		{"name": "app", "image": "a:1", "securityContext": {"capabilities": {"add": add, "drop": ["ALL"]}}},
	]}}},
}

test_sys_admin_fires if {
	obj := deployment(["NET_BIND_SERVICE", "SYS_ADMIN"])
	some v in dangerous_capabilities.deny with input as obj
	v.msg == "container \"app\" adds the dangerous capability SYS_ADMIN"
	v.path == ["spec", "template", "spec", "containers", 1, "securityContext", "capabilities", "add", 1]
	count(dangerous_capabilities.deny) == 1 with input as obj
}

test_one_finding_per_capability_fires if {
	obj := deployment(["NET_ADMIN", "NET_RAW", "CHOWN", "ALL"])
	paths := {v.path[count(v.path) - 1] | some v in dangerous_capabilities.deny} with input as obj
	paths == {0, 1, 3}
}

test_case_and_prefix_insensitive_fires if {
	obj := deployment(["cap_sys_ptrace", "Sys_Module", "CAP_BPF", "perfmon", " sys_rawio ", "CAP_DAC_READ_SEARCH"])
	count(dangerous_capabilities.deny) == 6 with input as obj
	some v in dangerous_capabilities.deny with input as obj
	v.msg == "container \"app\" adds the dangerous capability cap_sys_ptrace"
	v.path == ["spec", "template", "spec", "containers", 1, "securityContext", "capabilities", "add", 0]
}

test_init_container_fires if {
	obj := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "net", "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}],
		"containers": [{"name": "app"}],
	}}
	some v in dangerous_capabilities.deny with input as obj
	v.msg == "init container \"net\" adds the dangerous capability NET_ADMIN"
	v.path == ["spec", "initContainers", 0, "securityContext", "capabilities", "add", 0]
}

test_param_forbidden_fires if {
	obj := deployment(["SYS_TIME", "NET_BIND_SERVICE"])
	some v in dangerous_capabilities.deny with input as obj
		with data.kgate.params as {"dangerous-capabilities": {"forbidden": ["cap_sys_time"]}}
	v.msg == "container \"app\" adds the dangerous capability SYS_TIME"
	v.path == ["spec", "template", "spec", "containers", 1, "securityContext", "capabilities", "add", 0]
	count(dangerous_capabilities.deny) == 1 with input as obj
		with data.kgate.params as {"dangerous-capabilities": {"forbidden": ["cap_sys_time"]}}
}

test_param_single_string_fires if {
	count(dangerous_capabilities.deny) == 1 with input as deployment(["SYS_TIME"])
		with data.kgate.params as {"dangerous-capabilities": {"forbidden": "SYS_TIME"}}
}

test_param_extends_builtin_list_fires if {
	count(dangerous_capabilities.deny) == 1 with input as deployment(["SYS_ADMIN"])
		with data.kgate.params as {"dangerous-capabilities": {"forbidden": ["SYS_TIME"]}}
}

test_harmless_capabilities_passes if {
	count(dangerous_capabilities.deny) == 0 with input as deployment(["NET_BIND_SERVICE", "CHOWN", "SYS_TIME"])
}

test_params_of_other_rules_passes if {
	count(dangerous_capabilities.deny) == 0 with input as deployment(["SYS_TIME"])
		with data.kgate.params as {"other-rule": {"forbidden": ["SYS_TIME"]}}
}

test_malformed_param_passes if {
	count(dangerous_capabilities.deny) == 0 with input as deployment(["SYS_TIME"])
		with data.kgate.params as {"dangerous-capabilities": {"forbidden": [1, null]}}
}

test_dropping_dangerous_capabilities_passes if {
	obj := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [
		{"name": "app", "securityContext": {"capabilities": {"drop": ["SYS_ADMIN", "ALL"]}}},
	]}}
	count(dangerous_capabilities.deny) == 0 with input as obj
}
