package kgate.rules.security.docker_socket_mount_test

import data.kgate.rules.security.docker_socket_mount

pod(path) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "a:1"}], "volumes": [{"name": "sock", "hostPath": {"path": path}}]}}

test_docker_socket_fires if {
	some v in docker_socket_mount.deny with input as pod("/var/run/docker.sock")
	v.path == ["spec", "volumes", 0, "hostPath", "path"]
	v.msg == "volume \"sock\" mounts the container runtime socket /var/run/docker.sock from the node"
}

test_run_directory_fires if {
	count(docker_socket_mount.deny) == 1 with input as pod("/run/")
}

test_other_host_path_passes if {
	count(docker_socket_mount.deny) == 0 with input as pod("/var/log")
}
