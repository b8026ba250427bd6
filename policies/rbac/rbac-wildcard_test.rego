package kgate.rules.rbac.rbac_wildcard_test

import data.kgate.rules.rbac.rbac_wildcard

role(rules) := {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "ops"}, "rules": rules}

test_wildcard_verbs_fires if {
	result := rbac_wildcard.deny with input as role([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "*"]}])
	count(result) == 1
	some v in result
	v.path == ["rules", 0, "verbs", 1]
	v.msg == "ClusterRole \"ops\" grants `*` in rules[0].verbs"
}

test_every_wildcard_fires if {
	count(rbac_wildcard.deny) == 3 with input as role([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])
}

test_explicit_rules_passes if {
	count(rbac_wildcard.deny) == 0 with input as role([{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]}])
}
