package kgate.rules.network.service_type_exposed_test

import data.kgate.rules.network.service_type_exposed

svc(type) := {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"type": type, "ports": [{"port": 80}]}}

test_load_balancer_fires if {
	some v in service_type_exposed.deny with input as svc("LoadBalancer")
	v.path == ["spec", "type"]
	v.msg == "Service \"web\" is of type LoadBalancer and reachable from outside the cluster"
}

test_node_port_fires if {
	count(service_type_exposed.deny) == 1 with input as svc("NodePort")
}

test_allowed_name_passes if {
	count(service_type_exposed.deny) == 0 with input as svc("LoadBalancer") with data.kgate.params as {"service-type-exposed": {"allowed": ["web"]}}
}

test_cluster_ip_passes if {
	count(service_type_exposed.deny) == 0 with input as svc("ClusterIP")
}
