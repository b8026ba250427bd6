# METADATA
# title: Binding grants cluster-admin
# description: |-
#   `cluster-admin` can do anything to every object of the cluster. Bound to a workload's
#   ServiceAccount, a compromised pod owns the cluster; bound to people, it bypasses every
#   review. Fires on a RoleBinding or ClusterRoleBinding whose `roleRef` is the ClusterRole
#   `cluster-admin`; passes for any other role.
# custom:
#   kinds: [RoleBinding, ClusterRoleBinding]
#   id: rbac-cluster-admin-binding
#   severity: error
#   remediation: Bind a role with only the permissions the subjects need (`kubectl create role ... --dry-run` helps write one).
package kgate.rules.rbac.rbac_cluster_admin_binding

deny contains violation if {
	startswith(input.apiVersion, "rbac.authorization.k8s.io/")
	input.roleRef.kind == "ClusterRole"
	input.roleRef.name == "cluster-admin"
	violation := {
		"msg": sprintf("%s %q grants cluster-admin", [input.kind, input.metadata.name]),
		"path": ["roleRef", "name"],
	}
}
