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
#   relatesWithin: namespace
#   severity: error
#   remediation: >-
#     Remove one of the two definitions, or give them different names (or namespaces) if
#     both are meant to exist.
package kgate.rules.metadata.duplicate_resource_id

import data.kgate.lib.root

# The identity the API server keys an object by (the version is not part of it).
identity(obj) := [root.group(obj), obj.kind, root.namespace(obj), obj.metadata.name]

# [identity, index] of every named object, sorted: duplicates are neighbours, the first of a
# run has the smallest index. (Sorting keeps this O(n log n) on a cluster root of thousands
# of objects; comparing every pair took seconds.)
keyed := sort([[identity(obj), i] |
	some i, obj in input.objects
	is_string(obj.metadata.name)
])

# The index of the first object of each identity.
first := {entry[0]: entry[1] |
	some k, entry in keyed
	not same_as_previous(k)
}

same_as_previous(k) if {
	k > 0
	keyed[k - 1][0] == keyed[k][0]
}

deny contains violation if {
	some k, entry in keyed
	same_as_previous(k)
	i := entry[1]
	i in root.subject_set
	obj := input.objects[i]
	j := first[entry[0]]
	violation := {
		"msg": sprintf("%s %q%s is defined twice in this root (%s, and object #%d as %s)", [obj.kind, obj.metadata.name, in_namespace(obj), obj.apiVersion, j + 1, input.objects[j].apiVersion]),
		"object": i,
		"path": ["metadata", "name"],
	}
}

in_namespace(obj) := sprintf(" in namespace %q", [root.namespace(obj)]) if root.namespace(obj) != ""

else := ""
