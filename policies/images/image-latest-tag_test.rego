package kgate.rules.images.image_latest_tag_test

import data.kgate.rules.images.image_latest_tag

deployment(image) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {
		"initContainers": [{"name": "migrate", "image": "registry.example.com/web:1.2.3"}],
		"containers": [{"name": "web", "image": image}],
	}}},
}

test_latest_tag_fires if {
	some v in image_latest_tag.deny with input as deployment("nginx:latest")
	v.path == ["spec", "template", "spec", "containers", 0, "image"]
	contains(v.msg, "container \"web\"")
}

test_missing_tag_fires if {
	count(image_latest_tag.deny) == 1 with input as deployment("nginx")
}

test_registry_port_without_tag_fires if {
	count(image_latest_tag.deny) == 1 with input as deployment("registry.example.com:5000/team/web")
}

test_init_container_fires if {
	obj := {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
		"initContainers": [{"name": "init", "image": "busybox:latest"}],
		"containers": [{"name": "job", "image": "busybox:1.36"}],
	}}}}}}
	some v in image_latest_tag.deny with input as obj
	v.path == ["spec", "jobTemplate", "spec", "template", "spec", "initContainers", 0, "image"]
}

test_pinned_tag_passes if {
	count(image_latest_tag.deny) == 0 with input as deployment("nginx:1.27.3")
}

test_registry_port_with_tag_passes if {
	count(image_latest_tag.deny) == 0 with input as deployment("registry.example.com:5000/team/web:2.0.1")
}

test_digest_passes_even_with_latest if {
	count(image_latest_tag.deny) == 0 with input as deployment("nginx:latest@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31")
}

test_tag_named_like_latest_passes if {
	count(image_latest_tag.deny) == 0 with input as deployment("nginx:latest-1.27")
}

test_custom_resource_named_deployment_is_ignored if {
	obj := json.patch(deployment("nginx"), [{"op": "replace", "path": "/apiVersion", "value": "example.com/v1"}])
	count(image_latest_tag.deny) == 0 with input as obj
}

test_ko_import_path_passes if {
	count(image_latest_tag.deny) == 0 with input as deployment("ko://github.com/tektoncd/operator/cmd/kubernetes/operator")
}
