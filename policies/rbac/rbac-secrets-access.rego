# METADATA
# title: Role can read Secrets
# description: |-
#   Reading Secrets (`get`, `list`, `watch`) exposes every credential in scope; `list` on a
#   cluster-wide role returns all of them at once. Fires on a Role or ClusterRole rule that
#   covers `secrets` (or `*`) in the core group (or `*`) with a reading verb (or `*`); passes
#   for rules scoped to other resources or to named Secrets only (`resourceNames`) with `get`.
# custom:
#   kinds: [Role, ClusterRole]
#   id: rbac-secrets-access
#   severity: warning
#   remediation: Drop the Secret access, or limit it to `get` on the named Secrets the subject needs (`resourceNames`).
package kgate.rules.rbac.rbac_secrets_access

deny contains violation if {
	startswith(input.apiVersion, "rbac.authorization.k8s.io/")
	some i, rule in input.rules
	some g in rule.apiGroups
	g in {"", "*"}
	some r in rule.resources
	r in {"secrets", "*"}
	reading := {v | some v in rule.verbs; v in {"get", "list", "watch", "*"}}
	count(reading) > 0
	not named_get_only(rule, reading)
	violation := {
		"msg": sprintf("%s %q can %s Secrets (rules[%d])", [input.kind, input.metadata.name, concat("/", sort(reading)), i]),
		"path": ["rules", i],
	}
}

named_get_only(rule, reading) if {
	count(object.get(rule, "resourceNames", [])) > 0
	reading == {"get"}
}
