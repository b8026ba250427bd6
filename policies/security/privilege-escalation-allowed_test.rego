package kgate.rules.security.privilege_escalation_allowed_test

import data.kgate.rules.security.privilege_escalation_allowed

deployment(security_context) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:1", "securityContext": security_context}]}}},
}

pod(spec) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}

test_allow_privilege_escalation_true_fires if {
	obj := deployment({"allowPrivilegeEscalation": true})
	some v in privilege_escalation_allowed.deny with input as obj
	v.msg == "container \"app\" allows privilege escalation (allowPrivilegeEscalation: true)"
	v.path == ["spec", "template", "spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"]
	count(privilege_escalation_allowed.deny) == 1 with input as obj
}

test_unset_in_security_context_fires if {
	some v in privilege_escalation_allowed.deny with input as deployment({"runAsNonRoot": true})
	v.msg == "container \"app\" allows privilege escalation: securityContext.allowPrivilegeEscalation is not set and defaults to true"
	v.path == ["spec", "template", "spec", "containers", 0, "securityContext"]
}

test_no_security_context_fires if {
	some v in privilege_escalation_allowed.deny with input as pod({"containers": [{"name": "app"}]})
	v.path == ["spec", "containers", 0]
}

test_null_fires if {
	some v in privilege_escalation_allowed.deny with input as deployment({"allowPrivilegeEscalation": null})
	v.path == ["spec", "template", "spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"]
}

test_init_container_fires if {
	obj := pod({
		"initContainers": [{"name": "setup"}],
		"containers": [{"name": "app", "securityContext": {"allowPrivilegeEscalation": false}}],
	})
	some v in privilege_escalation_allowed.deny with input as obj
	v.msg == "init container \"setup\" allows privilege escalation: securityContext.allowPrivilegeEscalation is not set and defaults to true"
	v.path == ["spec", "initContainers", 0]
	count(privilege_escalation_allowed.deny) == 1 with input as obj
}

test_ephemeral_container_fires if {
	obj := pod({
		"containers": [{"name": "app", "securityContext": {"allowPrivilegeEscalation": false}}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {"allowPrivilegeEscalation": true}}],
	})
	some v in privilege_escalation_allowed.deny with input as obj
	v.path == ["spec", "ephemeralContainers", 0, "securityContext", "allowPrivilegeEscalation"]
}

test_pod_security_context_is_not_inherited_fires if {
	# allowPrivilegeEscalation exists only on the container's securityContext.
	obj := pod({"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "app"}]})
	count(privilege_escalation_allowed.deny) == 1 with input as obj
}

test_false_passes if {
	count(privilege_escalation_allowed.deny) == 0 with input as deployment({"allowPrivilegeEscalation": false})
}

test_windows_pod_passes if {
	obj := pod({"os": {"name": "windows"}, "containers": [{"name": "app"}]})
	count(privilege_escalation_allowed.deny) == 0 with input as obj
}

test_non_workloads_passes if {
	count(privilege_escalation_allowed.deny) == 0 with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}
}
