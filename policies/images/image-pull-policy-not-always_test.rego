package kgate.rules.images.image_pull_policy_not_always_test

import data.kgate.rules.images.image_pull_policy_not_always

pod(image, policy) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": image, "imagePullPolicy": policy}]}}

test_latest_if_not_present_fires if {
	some v in image_pull_policy_not_always.deny with input as pod("nginx:latest", "IfNotPresent")
	v.path == ["spec", "containers", 0, "imagePullPolicy"]
	v.msg == "container \"app\" pulls the mutable image \"nginx:latest\" with imagePullPolicy IfNotPresent"
}

test_untagged_with_registry_port_fires if {
	count(image_pull_policy_not_always.deny) == 1 with input as pod("localhost:5000/app", "Never")
}

test_always_passes if {
	count(image_pull_policy_not_always.deny) == 0 with input as pod("nginx:latest", "Always")
}

test_pinned_passes if {
	count(image_pull_policy_not_always.deny) == 0 with input as pod("nginx:1.27", "IfNotPresent")
}
