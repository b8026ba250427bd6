# METADATA
# title: Two objects with the same identity in one root
# description: |-
#   Two objects of the same API group, kind, namespace and name in one root are one object
#   to the cluster: whichever is applied last wins, and Argo CD or Flux report it as out of
#   sync forever. kustomize rejects exact duplicates, but not the same object under two API
#   versions (`apps/v1` and `apps/v1beta2`), nor objects that collide only after a
#   namespace, prefix or suffix is applied higher up. Checked within each rendered root.
#
#   Fires on every object after the first with the same identity; the message names the
#   first.
# custom:
#   id: duplicate-resource-id
#   scope: root
#   severity: error
#   remediation: >-
#     Remove one of the two definitions, or give them different names (or namespaces) if
#     both are meant to exist.
package kgate.rules.metadata.duplicate_resource_id

import data.kgate.lib.root

# The identity the API server keys an object by (the version is not part of it).
identity(obj) := [root.group(obj), obj.kind, root.namespace(obj), obj.metadata.name]

deny contains violation if {
	some i, obj in input.objects
	is_string(obj.metadata.name)
	some j, first in input.objects
	j < i
	is_string(first.metadata.name)
	identity(first) == identity(obj)
	not earlier_duplicate(j, obj)
	violation := {
		"msg": sprintf("%s %q%s is defined twice in this root (%s, and object #%d as %s)", [obj.kind, obj.metadata.name, in_namespace(obj), obj.apiVersion, j + 1, first.apiVersion]),
		"object": i,
		"path": ["metadata", "name"],
	}
}

# Report against the first occurrence only, not every earlier one.
earlier_duplicate(j, obj) if {
	some k, other in input.objects
	k < j
	is_string(other.metadata.name)
	identity(other) == identity(obj)
}

in_namespace(obj) := sprintf(" in namespace %q", [root.namespace(obj)]) if root.namespace(obj) != ""

else := ""
