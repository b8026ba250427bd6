package kgate.rules.security.host_port_test

import data.kgate.rules.security.host_port

pod(ports) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "a:1", "ports": ports}]}}

test_host_port_fires if {
	some v in host_port.deny with input as pod([{"containerPort": 80}, {"containerPort": 443, "hostPort": 443}])
	v.path == ["spec", "containers", 0, "ports", 1, "hostPort"]
	v.msg == "container \"app\" binds port 443 on the node (hostPort)"
}

test_container_ports_passes if {
	count(host_port.deny) == 0 with input as pod([{"containerPort": 80}])
}
