package kgate.rules.security.host_namespaces_test

import data.kgate.rules.security.host_namespaces

daemonset(spec) := {
	"apiVersion": "apps/v1",
	"kind": "DaemonSet",
	"metadata": {"name": "agent"},
	"spec": {"template": {"spec": object.union({"containers": [{"name": "agent", "image": "a:1"}]}, spec)}},
}

test_host_network_fires if {
	obj := daemonset({"hostNetwork": true})
	some v in host_namespaces.deny with input as obj
	v.msg == "pod shares the node's network namespace (hostNetwork: true)"
	v.path == ["spec", "template", "spec", "hostNetwork"]
	count(host_namespaces.deny) == 1 with input as obj
}

test_each_namespace_is_reported_fires if {
	obj := daemonset({"hostNetwork": true, "hostPID": true, "hostIPC": true})
	paths := {v.path | some v in host_namespaces.deny} with input as obj
	paths == {
		["spec", "template", "spec", "hostNetwork"],
		["spec", "template", "spec", "hostPID"],
		["spec", "template", "spec", "hostIPC"],
	}
}

test_host_pid_on_pod_fires if {
	obj := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"hostPID": true, "containers": [{"name": "a"}]}}
	some v in host_namespaces.deny with input as obj
	v.msg == "pod shares the node's PID namespace (hostPID: true)"
	v.path == ["spec", "hostPID"]
}

test_host_ipc_in_cronjob_fires if {
	obj := {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
		"hostIPC": true,
		"containers": [{"name": "a"}],
	}}}}}}
	some v in host_namespaces.deny with input as obj
	v.path == ["spec", "jobTemplate", "spec", "template", "spec", "hostIPC"]
}

test_false_passes if {
	count(host_namespaces.deny) == 0 with input as daemonset({"hostNetwork": false, "hostPID": false, "hostIPC": false})
}

test_unset_passes if {
	count(host_namespaces.deny) == 0 with input as daemonset({})
}
