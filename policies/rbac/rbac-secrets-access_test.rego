package kgate.rules.rbac.rbac_secrets_access_test

import data.kgate.rules.rbac.rbac_secrets_access

role(rule) := {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "app"}, "rules": [rule]}

test_list_secrets_fires if {
	some v in rbac_secrets_access.deny with input as role({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]})
	v.path == ["rules", 0]
	v.msg == "Role \"app\" can get/list Secrets (rules[0])"
}

test_wildcard_resources_fires if {
	count(rbac_secrets_access.deny) == 1 with input as role({"apiGroups": ["*"], "resources": ["*"], "verbs": ["watch"]})
}

test_named_get_passes if {
	count(rbac_secrets_access.deny) == 0 with input as role({"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["tls"], "verbs": ["get"]})
}

test_configmaps_passes if {
	count(rbac_secrets_access.deny) == 0 with input as role({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]})
}
