# Shared helpers for root-scope rules (`custom.scope: root`), which see every object of a
# rendered root at once as `input.objects`. (A library: no METADATA, reports nothing.)
package kgate.lib.root

# The namespace an object lands in ("" when unset: kustomize leaves it to the apply).
namespace(obj) := object.get(obj, ["metadata", "namespace"], "")

# The indexes of the objects to look for findings on: `input.subjects` when kgate reports
# findings on only some objects of the root (those a change affects, with --changed-since and
# diff --since), else every object. Rules iterate these for the object a finding is about,
# and every object for what it is related to.
subjects := input.subjects if {
	is_array(input.subjects)
} else := [i | some i, _ in input.objects]

# `subjects` as a set, for membership.
subject_set := {i | some i in subjects}

# Every namespace objects of the root land in (for indexes built once per namespace).
namespaces := {namespace(obj) | some obj in input.objects}

group(obj) := "" if not contains(obj.apiVersion, "/")

group(obj) := split(obj.apiVersion, "/")[0] if contains(obj.apiVersion, "/")

pod_template_paths := {
	"Deployment": ["spec", "template"],
	"StatefulSet": ["spec", "template"],
	"DaemonSet": ["spec", "template"],
	"ReplicaSet": ["spec", "template"],
	"ReplicationController": ["spec", "template"],
	"Job": ["spec", "template"],
	"CronJob": ["spec", "jobTemplate", "spec", "template"],
}

# Every pod the root runs: {index, object, labels, spec, path (to the pod spec)}.
pods contains {"index": i, "object": obj, "labels": labels, "spec": spec, "path": array.concat(path, ["spec"])} if {
	some i, obj in input.objects
	path := pod_template_paths[obj.kind]
	template := object.get(obj, path, {})
	labels := object.get(template, ["metadata", "labels"], {})
	spec := object.get(template, "spec", {})
}

pods contains {"index": i, "object": obj, "labels": object.get(obj, ["metadata", "labels"], {}), "spec": object.get(obj, "spec", {}), "path": ["spec"]} if {
	some i, obj in input.objects
	obj.kind == "Pod"
	obj.apiVersion == "v1"
}

# Whether `labels` satisfy a label selector map (every pair present).
matches_labels(selector, labels) if {
	every k, v in selector {
		labels[k] == v
	}
}

# Whether `labels` satisfy a LabelSelector (matchLabels and matchExpressions).
matches_selector(sel, labels) if {
	matches_labels(object.get(sel, "matchLabels", {}), labels)
	every e in object.get(sel, "matchExpressions", []) {
		expression_holds(e, labels)
	}
}

expression_holds(e, labels) if {
	e.operator == "In"
	labels[e.key] in e.values
}

expression_holds(e, labels) if {
	e.operator == "NotIn"
	not labels[e.key] in e.values
}

expression_holds(e, labels) if {
	e.operator == "Exists"
	_ = labels[e.key]
}

expression_holds(e, labels) if {
	e.operator == "DoesNotExist"
	not labels[e.key]
}
