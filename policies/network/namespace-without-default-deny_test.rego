package kgate.rules.network.namespace_without_default_deny_test

import data.kgate.rules.network.namespace_without_default_deny

ns(name) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}

policy(namespace, selector, types) := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "NetworkPolicy",
	"metadata": {"name": "default-deny", "namespace": namespace},
	"spec": {"podSelector": selector, "policyTypes": types},
}

test_namespace_without_policy_fires if {
	objects := [ns("shop-prod"), ns("web-prod"), policy("web-prod", {}, ["Ingress", "Egress"])]
	result := namespace_without_default_deny.deny with input as {"objects": objects}
	count(result) == 1
	some v in result
	v.object == 0
	v.path == ["metadata", "name"]
	contains(v.msg, "\"shop-prod\"")
}

test_ingress_only_policy_fires if {
	objects := [ns("a"), policy("a", {}, ["Ingress"])]
	count(namespace_without_default_deny.deny) == 1 with input as {"objects": objects}
}

test_selective_policy_fires if {
	objects := [ns("a"), policy("a", {"matchLabels": {"app": "web"}}, ["Ingress", "Egress"])]
	count(namespace_without_default_deny.deny) == 1 with input as {"objects": objects}
}

test_policy_in_another_namespace_fires if {
	objects := [ns("a"), policy("b", {}, ["Ingress", "Egress"])]
	count(namespace_without_default_deny.deny) == 1 with input as {"objects": objects}
}

test_default_deny_passes if {
	objects := [policy("a", {}, ["Egress", "Ingress"]), ns("a")]
	count(namespace_without_default_deny.deny) == 0 with input as {"objects": objects}
}

test_root_without_namespaces_passes if {
	count(namespace_without_default_deny.deny) == 0 with input as {"objects": [policy("a", {}, ["Ingress"])]}
}
