# METADATA
# title: Namespace that does not follow the environment's naming convention
# description: |-
#   Teams find their workloads, and RBAC and network policies select them, by namespace; a
#   convention such as `<team>-<env>` only helps if every root keeps to it. The rule's
#   parameter `pattern` is a regular expression in which `{env}` stands for the environment
#   of the root (from its path), for example `"^[a-z]+-{env}$"`; every namespaced object
#   (and every Namespace) of a root with an environment must be in a namespace matching it.
#   Set it under `rules.params.namespace-naming` in .kgate.yaml; without it the rule checks
#   nothing.
# custom:
#   id: namespace-naming
#   needsParams: true
#   severity: warning
#   remediation: >-
#     Set the overlay's `namespace:` to a name that follows the convention, or change the
#     convention in rules.params.namespace-naming.
package kgate.rules.metadata.namespace_naming

pattern := replace(template, "{env}", env) if {
	template := data.kgate.params["namespace-naming"].pattern
	is_string(template)
	env := data.kgate.environment
	is_string(env)
}

# A Namespace names itself; other objects name theirs.
namespace := input.metadata.name if input.kind == "Namespace"

else := input.metadata.namespace

deny contains violation if {
	is_string(pattern)
	is_string(namespace)
	not regex.match(pattern, namespace)
	violation := {
		"msg": sprintf("namespace %q does not match the convention %s for environment %q", [namespace, pattern, data.kgate.environment]),
		"path": path,
	}
}

path := ["metadata", "name"] if input.kind == "Namespace"

else := ["metadata", "namespace"]
