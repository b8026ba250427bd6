package kgate.rules.structure.naming_convention_test

import data.kgate.rules.structure.naming_convention

repo := {
	"apps": [
		{"name": "web", "path": "apps/web"},
		{"name": "Billing_API", "path": "apps/Billing_API"},
	],
	"roots": [
		{"id": "apps/web/overlays/prod", "kind": "root", "environment": "prod"},
		{"id": "clusters/prod-eu", "kind": "root", "environment": "prod", "cluster": "prod-eu"},
	],
	"edges": [
		{"from": "Application argocd/web-prod", "to": "apps/web/overlays/prod", "kind": "deploys", "file": "argocd/apps.yaml", "line": 6},
		{"from": "Application argocd/eu", "to": "clusters/prod-eu", "kind": "deploys", "file": "argocd/clusters.yaml", "line": 9},
	],
}

test_app_directory_that_is_not_a_dns_label_fires if {
	naming_convention.deny == {{"msg": "app directory name \"Billing_API\" does not match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "file": "apps/Billing_API"}} with input as repo
}

test_entry_point_name_template_fires if {
	result := naming_convention.deny with input as repo with data.kgate.params as {"naming-convention": {"apps": ".*", "entryPoints": "{cluster}"}}
	count(result) == 1
	some v in result
	v.file == "argocd/clusters.yaml"
	v.line == 9
	v.msg == "Application argocd/eu deploys clusters/prod-eu, so by the convention \"{cluster}\" it should be named \"prod-eu\""
}

test_app_template_on_an_app_path_passes if {
	# web-prod deploys apps/web/overlays/prod: {app}-{env} holds; the cluster path has no app.
	count(naming_convention.deny) == 0 with input as repo with data.kgate.params as {"naming-convention": {"apps": ".*", "entryPoints": "{app}-{env}"}}
}

test_conventional_names_passes if {
	count(naming_convention.deny) == 0 with input as repo with data.kgate.params as {"naming-convention": {"apps": "^[A-Za-z_]+$"}}
}
