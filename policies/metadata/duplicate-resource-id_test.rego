package kgate.rules.metadata.duplicate_resource_id_test

import data.kgate.rules.metadata.duplicate_resource_id

deployment(version, ns, name) := {"apiVersion": version, "kind": "Deployment", "metadata": {"name": name, "namespace": ns}}

test_same_object_under_two_versions_fires if {
	result := duplicate_resource_id.deny with input as {"objects": [deployment("apps/v1", "web", "web"), deployment("apps/v1beta2", "web", "web")]}
	count(result) == 1
	some v in result
	v.object == 1
	v.path == ["metadata", "name"]
	v.msg == "Deployment \"web\" in namespace \"web\" is defined twice in this root (apps/v1beta2, and object #1 as apps/v1)"
}

test_three_copies_fire_twice_against_the_first if {
	objects := [deployment("apps/v1", "a", "x"), deployment("apps/v1", "a", "x"), deployment("apps/v1", "a", "x")]
	result := duplicate_resource_id.deny with input as {"objects": objects}
	{v.object | some v in result} == {1, 2}
	every v in result {
		contains(v.msg, "object #1 ")
	}
}

test_other_namespace_or_group_passes if {
	objects := [
		deployment("apps/v1", "a", "x"),
		deployment("apps/v1", "b", "x"),
		{"apiVersion": "example.com/v1", "kind": "Deployment", "metadata": {"name": "x", "namespace": "a"}},
	]
	count(duplicate_resource_id.deny) == 0 with input as {"objects": objects}
}
