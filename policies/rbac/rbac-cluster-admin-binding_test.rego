package kgate.rules.rbac.rbac_cluster_admin_binding_test

import data.kgate.rules.rbac.rbac_cluster_admin_binding

binding(role) := {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "ci"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}, "subjects": [{"kind": "ServiceAccount", "name": "ci", "namespace": "ci"}]}

test_cluster_admin_fires if {
	some v in rbac_cluster_admin_binding.deny with input as binding("cluster-admin")
	v.path == ["roleRef", "name"]
	v.msg == "ClusterRoleBinding \"ci\" grants cluster-admin"
}

test_other_role_passes if {
	count(rbac_cluster_admin_binding.deny) == 0 with input as binding("view")
}
