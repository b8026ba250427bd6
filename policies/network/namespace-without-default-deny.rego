# METADATA
# title: Namespace has no default-deny NetworkPolicy
# description: |-
#   Without a NetworkPolicy that selects every pod of a namespace and denies both directions
#   by default, every pod accepts traffic from, and can reach, every other pod in the
#   cluster: one compromised workload can probe them all. For every Namespace a rendered
#   root defines, the same root must define a NetworkPolicy in that namespace with an empty
#   `podSelector` and `policyTypes` holding both `Ingress` and `Egress` (the allow rules
#   then open what each workload needs).
#
#   Fires on a Namespace of the root without such a policy; passes when the root holds one.
#   A policy with only `Ingress`, or a non-empty `podSelector`, does not count.
# custom:
#   id: namespace-without-default-deny
#   scope: root
#   relatesWithin: namespace
#   severity: error
#   remediation: >-
#     Add a NetworkPolicy to the root, e.g. `metadata: {name: default-deny, namespace: <ns>}`,
#     `spec: {podSelector: {}, policyTypes: [Ingress, Egress]}`, then allow the traffic each
#     workload needs with further policies.
package kgate.rules.network.namespace_without_default_deny

import data.kgate.lib.root

deny contains violation if {
	some i in root.subjects
	ns := input.objects[i]
	ns.kind == "Namespace"
	ns.apiVersion == "v1"
	name := ns.metadata.name
	not has_default_deny(name)
	violation := {
		"msg": sprintf("namespace %q has no default-deny NetworkPolicy (empty podSelector, policyTypes Ingress and Egress) in this root", [name]),
		"object": i,
		"path": ["metadata", "name"],
	}
}

has_default_deny(name) if {
	some np in input.objects
	np.kind == "NetworkPolicy"
	root.group(np) == "networking.k8s.io"
	root.namespace(np) == name
	selector := object.get(np, ["spec", "podSelector"], {})
	count(object.get(selector, "matchLabels", {})) == 0
	count(object.get(selector, "matchExpressions", [])) == 0
	types := {t | some t in object.get(np, ["spec", "policyTypes"], [])}
	"Ingress" in types
	"Egress" in types
}
