package kgate.rules.security.host_path_volume_test

import data.kgate.rules.security.host_path_volume

deployment(volumes) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:1"}], "volumes": volumes}}},
}

test_host_path_fires if {
	obj := deployment([{"name": "tmp", "emptyDir": {}}, {"name": "logs", "hostPath": {"path": "/var/log", "type": "Directory"}}])
	some v in host_path_volume.deny with input as obj
	v.msg == "volume \"logs\" mounts \"/var/log\" from the node (hostPath)"
	v.path == ["spec", "template", "spec", "volumes", 1, "hostPath"]
	count(host_path_volume.deny) == 1 with input as obj
}

test_every_host_path_volume_fires if {
	obj := deployment([{"name": "a", "hostPath": {"path": "/etc"}}, {"name": "b", "hostPath": {"path": "/var/run/docker.sock"}}])
	count(host_path_volume.deny) == 2 with input as obj
}

test_host_path_without_path_fires if {
	some v in host_path_volume.deny with input as deployment([{"hostPath": {}}])
	v.msg == "volume #0 mounts a path from the node (hostPath)"
}

test_pod_host_path_fires if {
	obj := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
		"containers": [{"name": "a"}],
		"volumes": [{"name": "root", "hostPath": {"path": "/"}}],
	}}
	some v in host_path_volume.deny with input as obj
	v.path == ["spec", "volumes", 0, "hostPath"]
}

test_other_volume_types_passes if {
	obj := deployment([
		{"name": "tmp", "emptyDir": {}},
		{"name": "cfg", "configMap": {"name": "cfg"}},
		{"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
	])
	count(host_path_volume.deny) == 0 with input as obj
}

test_no_volumes_passes if {
	count(host_path_volume.deny) == 0 with input as deployment(null)
}
