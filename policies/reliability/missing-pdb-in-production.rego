# METADATA
# title: Replicated workload without a PodDisruptionBudget in production
# description: |-
#   Without a PodDisruptionBudget, a node drain (a cluster upgrade, autoscaler scale-down)
#   may evict every replica of a workload at once. In roots of production environments
#   (`productionEnvironments` in .kgate.yaml, default prod and production), every
#   Deployment and StatefulSet with more than one replica needs a PodDisruptionBudget in
#   its namespace whose selector matches its pod template labels.
#
#   Fires on such a workload without a matching PDB in a production root; passes with one,
#   for single-replica workloads (see single-replica-in-production), and outside production.
# custom:
#   id: missing-pdb-in-production
#   scope: root
#   relatesWithin: namespace
#   severity: warning
#   remediation: >-
#     Add a PodDisruptionBudget (`policy/v1`) with `selector.matchLabels` equal to the
#     workload's pod labels and `maxUnavailable: 1` (or a `minAvailable` that leaves room to
#     drain a node).
package kgate.rules.reliability.missing_pdb_in_production

import data.kgate.lib.root

deny contains violation if {
	data.kgate.production == true
	some i in root.subjects
	obj := input.objects[i]
	obj.kind in {"Deployment", "StatefulSet"}
	root.group(obj) == "apps"
	object.get(obj, ["spec", "replicas"], 1) > 1
	labels := object.get(obj, ["spec", "template", "metadata", "labels"], {})
	not protected(obj, labels)
	violation := {
		"msg": sprintf("%s %q runs %d replicas in production without a PodDisruptionBudget selecting its pods", [obj.kind, obj.metadata.name, obj.spec.replicas]),
		"object": i,
		"path": ["spec", "replicas"],
	}
}

# Selectors of the root's PodDisruptionBudgets, by namespace.
pdb_selectors[ns] := selectors if {
	some ns in root.namespaces
	selectors := [sel |
		some pdb in input.objects
		pdb.kind == "PodDisruptionBudget"
		root.group(pdb) == "policy"
		root.namespace(pdb) == ns
		sel := object.get(pdb, ["spec", "selector"], {})
		count(object.get(sel, "matchLabels", {})) + count(object.get(sel, "matchExpressions", [])) > 0
	]
}

protected(obj, labels) if {
	some selector in pdb_selectors[root.namespace(obj)]
	root.matches_selector(selector, labels)
}
