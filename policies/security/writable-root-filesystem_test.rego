package kgate.rules.security.writable_root_filesystem_test

import data.kgate.rules.security.writable_root_filesystem

statefulset(security_context) := {
	"apiVersion": "apps/v1",
	"kind": "StatefulSet",
	"metadata": {"name": "db"},
	"spec": {"template": {"spec": {"containers": [{"name": "db", "image": "a:1", "securityContext": security_context}]}}},
}

pod(spec) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}

test_read_only_false_fires if {
	obj := statefulset({"readOnlyRootFilesystem": false})
	some v in writable_root_filesystem.deny with input as obj
	v.msg == "container \"db\" has a writable root filesystem (readOnlyRootFilesystem: false)"
	v.path == ["spec", "template", "spec", "containers", 0, "securityContext", "readOnlyRootFilesystem"]
	count(writable_root_filesystem.deny) == 1 with input as obj
}

test_unset_fires if {
	some v in writable_root_filesystem.deny with input as statefulset({"runAsNonRoot": true})
	v.msg == "container \"db\" has a writable root filesystem: securityContext.readOnlyRootFilesystem is not set"
	v.path == ["spec", "template", "spec", "containers", 0, "securityContext"]
}

test_no_security_context_fires if {
	some v in writable_root_filesystem.deny with input as pod({"containers": [{"name": "app"}]})
	v.path == ["spec", "containers", 0]
}

test_init_container_fires if {
	obj := pod({
		"initContainers": [{"name": "setup", "securityContext": {"readOnlyRootFilesystem": false}}],
		"containers": [{"name": "app", "securityContext": {"readOnlyRootFilesystem": true}}],
	})
	some v in writable_root_filesystem.deny with input as obj
	v.msg == "init container \"setup\" has a writable root filesystem (readOnlyRootFilesystem: false)"
	v.path == ["spec", "initContainers", 0, "securityContext", "readOnlyRootFilesystem"]
	count(writable_root_filesystem.deny) == 1 with input as obj
}

test_pod_security_context_does_not_count_fires if {
	# There is no pod-level readOnlyRootFilesystem; a stray one does not protect the container.
	obj := pod({"securityContext": {"readOnlyRootFilesystem": true}, "containers": [{"name": "app"}]})
	count(writable_root_filesystem.deny) == 1 with input as obj
}

test_read_only_passes if {
	count(writable_root_filesystem.deny) == 0 with input as statefulset({"readOnlyRootFilesystem": true})
}

test_windows_pod_passes if {
	obj := pod({"os": {"name": "windows"}, "containers": [{"name": "app"}]})
	count(writable_root_filesystem.deny) == 0 with input as obj
}
