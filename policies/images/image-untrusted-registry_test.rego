package kgate.rules.images.image_untrusted_registry_test

import data.kgate.rules.images.image_untrusted_registry

deployment(image) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"spec": {
	"initContainers": [{"name": "init", "image": "registry.example.com/platform/init:1"}],
	"containers": [{"name": "app", "image": image}],
}}}}

allow := ["registry.example.com/platform"]

test_other_registry_fires if {
	result := image_untrusted_registry.deny with input as deployment("ghcr.io/acme/app:1.2") with data.kgate.allowedRegistries as allow
	count(result) == 1
	some v in result
	v.path == ["spec", "template", "spec", "containers", 0, "image"]
	v.msg == "container \"app\" uses image \"ghcr.io/acme/app:1.2\" from a registry outside images.allowedRegistries (registry.example.com/platform)"
}

test_prefix_must_end_on_a_path_boundary_fires if {
	count(image_untrusted_registry.deny) == 1 with input as deployment("registry.example.com/platformx/app:1") with data.kgate.allowedRegistries as allow
}

test_docker_hub_short_name_fires if {
	count(image_untrusted_registry.deny) == 1 with input as deployment("nginx:1.27") with data.kgate.allowedRegistries as allow
}

test_allowed_registry_passes if {
	count(image_untrusted_registry.deny) == 0 with input as deployment("registry.example.com/platform/app:1@sha256:abc") with data.kgate.allowedRegistries as allow
}

test_docker_hub_allowlisted_passes if {
	count(image_untrusted_registry.deny) == 0 with input as deployment("nginx:1.27") with data.kgate.allowedRegistries as ["docker.io/library", "registry.example.com/platform"]
}

test_no_allowlist_passes if {
	count(image_untrusted_registry.deny) == 0 with input as deployment("ghcr.io/acme/app:1") with data.kgate.allowedRegistries as []
}
