package kgate.rules.metadata.required_labels_test

import data.kgate.rules.metadata.required_labels

deployment(labels) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": labels}}

all_recommended := {
	"app.kubernetes.io/name": "web",
	"app.kubernetes.io/instance": "web-prod",
	"app.kubernetes.io/version": "1.4.2",
	"app.kubernetes.io/component": "frontend",
	"app.kubernetes.io/part-of": "shop",
	"app.kubernetes.io/managed-by": "kustomize",
}

test_missing_recommended_labels_listed_once_fires if {
	result := required_labels.deny with input as deployment({"app.kubernetes.io/name": "web"})
	count(result) == 1
	some v in result
	v.path == ["metadata", "labels"]
	v.msg == "Deployment \"web\" lacks the required labels app.kubernetes.io/instance, app.kubernetes.io/version, app.kubernetes.io/component, app.kubernetes.io/part-of, app.kubernetes.io/managed-by"
}

test_no_labels_at_all_fires if {
	some v in required_labels.deny with input as {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
	v.path == ["metadata"]
}

test_all_recommended_labels_passes if {
	count(required_labels.deny) == 0 with input as deployment(all_recommended)
}

test_configured_labels_replace_the_default_fires if {
	params := {"required-labels": {"labels": ["team"]}}
	count(required_labels.deny) == 0 with input as deployment({"team": "payments"}) with data.kgate.params as params
	some v in required_labels.deny with input as deployment({"app.kubernetes.io/name": "web"}) with data.kgate.params as params
	v.msg == "Deployment \"web\" lacks the required label team"
}

test_value_pattern_mismatch_fires if {
	params := {"required-labels": {"labels": ["team"], "values": {"team": "^(payments|search)$"}}}
	some v in required_labels.deny with input as deployment({"team": "Payments"}) with data.kgate.params as params
	v.path == ["metadata", "labels", "team"]
	v.msg == "Deployment \"web\" has label team=Payments, which does not match ^(payments|search)$"
	count(required_labels.deny) == 0 with input as deployment({"team": "search"}) with data.kgate.params as params
}
