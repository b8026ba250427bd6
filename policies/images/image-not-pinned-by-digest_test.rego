package kgate.rules.images.image_not_pinned_by_digest_test

import data.kgate.rules.images.image_not_pinned_by_digest

pod(image) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": image}]}}

test_tag_in_digest_environment_fires if {
	some v in image_not_pinned_by_digest.deny with input as pod("registry.example.com/app:1.2") with data.kgate.requireDigest as true
	v.path == ["spec", "containers", 0, "image"]
	v.msg == "container \"app\" uses image \"registry.example.com/app:1.2\", not pinned by digest, in an environment that requires digests"
}

test_digest_passes if {
	count(image_not_pinned_by_digest.deny) == 0 with input as pod("registry.example.com/app:1.2@sha256:0123456789abcdef") with data.kgate.requireDigest as true
}

test_other_environment_passes if {
	count(image_not_pinned_by_digest.deny) == 0 with input as pod("registry.example.com/app:1.2") with data.kgate.requireDigest as false
}
