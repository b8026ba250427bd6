# METADATA
# title: Workload selector does not match its pod template
# description: |-
#   A workload's `spec.selector.matchLabels` must all be on its pod template, or the API
#   server rejects it (Deployment, StatefulSet, DaemonSet, ReplicaSet: "selector does not
#   match template labels"). Usually a label renamed in one place only, or an overlay's
#   `commonLabels` applied to one side. Fires once per selector label missing from, or
#   different in, `spec.template.metadata.labels`.
# custom:
#   kinds: [Deployment, StatefulSet, DaemonSet, ReplicaSet]
#   id: selector-mismatch
#   severity: error
#   remediation: Make the pod template carry every `spec.selector.matchLabels` label with the same value.
package kgate.rules.reliability.selector_mismatch

deny contains violation if {
	input.apiVersion in {"apps/v1", "extensions/v1beta1"}
	labels := object.get(input, ["spec", "template", "metadata", "labels"], {})
	some key, value in object.get(input, ["spec", "selector", "matchLabels"], {})
	not labels[key] == value
	violation := {
		"msg": sprintf("%s %q selects %s=%v, which its pod template does not carry", [input.kind, input.metadata.name, key, value]),
		"path": ["spec", "selector", "matchLabels", key],
	}
}
