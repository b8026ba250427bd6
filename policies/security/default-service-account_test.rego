package kgate.rules.security.default_service_account_test

import data.kgate.rules.security.default_service_account

pod(extra) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": object.union({"containers": [{"name": "app", "image": "a:1"}]}, extra)}

test_unset_fires if {
	some v in default_service_account.deny with input as pod({})
	v.path == ["spec"]
}

test_explicit_default_fires if {
	some v in default_service_account.deny with input as pod({"serviceAccountName": "default"})
	v.path == ["spec", "serviceAccountName"]
}

test_own_account_passes if {
	count(default_service_account.deny) == 0 with input as pod({"serviceAccountName": "web"})
}
