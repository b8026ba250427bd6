# METADATA
# title: Workload without the required labels
# description: |-
#   Labels are how people and tools find what an object belongs to: dashboards, cost reports,
#   `kubectl get -l`, Argo CD and service meshes group by them. Every workload must carry
#   the labels in the rule's parameter `labels`, by default the Kubernetes recommended set
#   (`app.kubernetes.io/name`, `instance`, `version`, `component`, `part-of` and
#   `managed-by`). The parameter `values` maps a label to a regular expression its value
#   must match (for example `{team: "^(payments|search)$"}`). Both are set under
#   `rules.params.required-labels` in .kgate.yaml; checked on the rendered object, so labels
#   added by kustomize `labels:` or `commonLabels:` count.
# custom:
#   kinds: [Pod, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: required-labels
#   severity: warning
#   remediation: >-
#     Add the missing labels in the base, or once for every object of an app with kustomize's
#     `labels:` field (with `includeSelectors: false`, so selectors do not change).
package kgate.rules.metadata.required_labels

recommended := [
	"app.kubernetes.io/name",
	"app.kubernetes.io/instance",
	"app.kubernetes.io/version",
	"app.kubernetes.io/component",
	"app.kubernetes.io/part-of",
	"app.kubernetes.io/managed-by",
]

params := p if {
	p := data.kgate.params["required-labels"]
	is_object(p)
} else := {}

required := object.get(params, "labels", recommended)

patterns := object.get(params, "values", {})

labels := l if {
	l := input.metadata.labels
	is_object(l)
} else := {}

# Where a finding points: the labels map when there is one, else the metadata.
path := ["metadata", "labels"] if is_object(input.metadata.labels)

else := ["metadata"]

missing := [key | some key in required; not labels[key]]

deny contains violation if {
	count(missing) > 0
	violation := {
		"msg": sprintf("%s %q lacks the required label%s %s", [input.kind, input.metadata.name, plural(missing), concat(", ", missing)]),
		"path": path,
	}
}

deny contains violation if {
	some key, pattern in patterns
	value := labels[key]
	not regex.match(pattern, sprintf("%v", [value]))
	violation := {
		"msg": sprintf("%s %q has label %s=%v, which does not match %s", [input.kind, input.metadata.name, key, value, pattern]),
		"path": ["metadata", "labels", key],
	}
}

plural(list) := "s" if count(list) > 1

else := ""
