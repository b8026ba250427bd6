package kgate.rules.security.service_account_token_automount_test

import data.kgate.rules.security.service_account_token_automount

pod(extra) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": object.union({"containers": [{"name": "app", "image": "a:1"}]}, extra)}

test_unset_fires if {
	some v in service_account_token_automount.deny with input as pod({})
	v.path == ["spec"]
}

test_disabled_passes if {
	count(service_account_token_automount.deny) == 0 with input as pod({"automountServiceAccountToken": false})
}

test_explicitly_enabled_passes if {
	count(service_account_token_automount.deny) == 0 with input as pod({"automountServiceAccountToken": true})
}
