package kgate.rules.security.privileged_container_test

import data.kgate.rules.security.privileged_container

daemonset(security_context) := {
	"apiVersion": "apps/v1",
	"kind": "DaemonSet",
	"metadata": {"name": "agent"},
	"spec": {"template": {"spec": {"containers": [
		{"name": "sidecar", "image": "a:1"},
		{"name": "agent", "image": "a:1", "securityContext": security_context},
	]}}},
}

test_privileged_fires if {
	some v in privileged_container.deny with input as daemonset({"privileged": true})
	v.msg == "container \"agent\" runs privileged"
	v.path == ["spec", "template", "spec", "containers", 1, "securityContext", "privileged"]
}

test_privileged_init_container_fires if {
	obj := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"initContainers": [{"name": "setup", "securityContext": {"privileged": true}}],
		"containers": [{"name": "app"}],
	}}
	some v in privileged_container.deny with input as obj
	v.msg == "init container \"setup\" runs privileged"
}

test_unprivileged_passes if {
	count(privileged_container.deny) == 0 with input as daemonset({"privileged": false})
}

test_other_security_settings_pass if {
	count(privileged_container.deny) == 0 with input as daemonset({"runAsNonRoot": true})
}

test_string_true_is_not_privileged if {
	# The API server rejects a string here; that is a schema error, not this rule's.
	count(privileged_container.deny) == 0 with input as daemonset({"privileged": "true"})
}
