# METADATA
# title: HorizontalPodAutoscaler targets a workload its root does not define
# description: |-
#   An HPA whose `scaleTargetRef` names no object of that kind and name in its namespace
#   scales nothing; usually the workload was renamed (or got a name prefix the HPA's
#   reference does not follow) and autoscaling silently stopped. Checked within each
#   rendered root, like kube-linter's dangling-horizontalpodautoscaler check.
#
#   Fires when the root has no object of the target's kind and name in the HPA's namespace;
#   passes when it has.
# custom:
#   id: hpa-target-missing
#   scope: root
#   relatesWithin: namespace
#   severity: warning
#   remediation: >-
#     Point `spec.scaleTargetRef` at the workload's actual kind and name, or deploy the
#     workload in the same root.
package kgate.rules.reliability.hpa_target_missing

import data.kgate.lib.root

deny contains violation if {
	some i in root.subjects
	hpa := input.objects[i]
	hpa.kind == "HorizontalPodAutoscaler"
	root.group(hpa) == "autoscaling"
	ref := object.get(hpa, ["spec", "scaleTargetRef"], {})
	is_string(ref.kind)
	is_string(ref.name)
	not target_exists(hpa, ref)
	violation := {
		"msg": sprintf("HorizontalPodAutoscaler %q targets %s %q, which this root does not define in its namespace", [hpa.metadata.name, ref.kind, ref.name]),
		"object": i,
		"path": ["spec", "scaleTargetRef", "name"],
	}
}

target_exists(hpa, ref) if [ref.kind, root.namespace(hpa), ref.name] in defined

# [kind, namespace, name] of every object of the root: a set, so each target is one lookup
# (scanning every object per HorizontalPodAutoscaler made this the costliest root rule).
defined contains [kind, root.namespace(obj), name] if {
	some obj in input.objects
	kind := obj.kind
	name := obj.metadata.name
}
