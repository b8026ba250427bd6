# METADATA
# title: RBAC rule grants a wildcard
# description: |-
#   `*` in a Role's or ClusterRole's `verbs`, `resources` or `apiGroups` grants everything,
#   including what future API versions and CRDs add: impossible to review, and usually far
#   more than the subject needs.
#
#   Fires once per `*` (path at the list element); passes for explicit lists.
# custom:
#   kinds: [Role, ClusterRole]
#   id: rbac-wildcard
#   severity: error
#   remediation: List the verbs, resources and API groups the subject actually needs.
package kgate.rules.rbac.rbac_wildcard

deny contains violation if {
	startswith(input.apiVersion, "rbac.authorization.k8s.io/")
	some i, rule in input.rules
	some field in ["verbs", "resources", "apiGroups"]
	some j, value in rule[field]
	value == "*"
	violation := {
		"msg": sprintf("%s %q grants `*` in rules[%d].%s", [input.kind, input.metadata.name, i, field]),
		"path": ["rules", i, field, j],
	}
}
