package kgate.rules.reliability.selector_mismatch_test

import data.kgate.rules.reliability.selector_mismatch

deployment(selector, labels) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": selector}, "template": {"metadata": {"labels": labels}}}}

test_renamed_label_fires if {
	some v in selector_mismatch.deny with input as deployment({"app": "web"}, {"app.kubernetes.io/name": "web"})
	v.path == ["spec", "selector", "matchLabels", "app"]
	v.msg == "Deployment \"web\" selects app=web, which its pod template does not carry"
}

test_different_value_fires if {
	count(selector_mismatch.deny) == 1 with input as deployment({"app": "web"}, {"app": "api"})
}

test_matching_labels_passes if {
	count(selector_mismatch.deny) == 0 with input as deployment({"app": "web"}, {"app": "web", "tier": "front"})
}
