# METADATA
# title: Service selects no pod of its root
# description: |-
#   A Service whose `selector` matches the labels of no pod template in its namespace has no
#   endpoints: traffic to it fails, usually because a label was renamed in the workload but
#   not in the Service (or the other way round). Checked within each rendered root, like
#   kube-linter's dangling-service check; Services without a selector (endpoints managed
#   by hand, ExternalName) are not checked.
#
#   Fires when no Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or Pod of the
#   root in the Service's namespace carries every selector label; passes when one does, or
#   when a Prometheus operator resource of the root (Prometheus, Alertmanager, ...) gives the
#   pods the operator creates those labels (`spec.podMetadata.labels`).
# custom:
#   id: service-selects-no-pod
#   scope: root
#   relatesWithin: namespace
#   severity: warning
#   remediation: >-
#     Make the Service's `spec.selector` match the pod template labels of the workload it
#     fronts (or deploy that workload in the same root).
package kgate.rules.reliability.service_selects_no_pod

import data.kgate.lib.root

deny contains violation if {
	some i in root.subjects
	svc := input.objects[i]
	svc.kind == "Service"
	svc.apiVersion == "v1"
	object.get(svc, ["spec", "type"], "ClusterIP") != "ExternalName"
	selector := object.get(svc, ["spec", "selector"], {})
	count(selector) > 0
	not selects_a_pod(svc, selector)
	violation := {
		"msg": sprintf("Service %q selects %s, which no pod template in its namespace carries", [svc.metadata.name, describe(selector)]),
		"object": i,
		"path": ["spec", "selector"],
	}
}

# Pod template labels of the root, by namespace, and those of pods an operator creates from
# a custom resource: the Prometheus operator's Prometheus, Alertmanager, ThanosRuler and
# PrometheusAgent give theirs `spec.podMetadata.labels` (kube-prometheus selects them with
# those labels). (A comprehension, not a `contains` rule keyed by namespace: regorus'
# register VM, where kgate runs root rules, loses that rule's values.)
pod_labels[ns] := array.concat(
	[pod.labels | some pod in root.pods; root.namespace(pod.object) == ns],
	[labels |
		some obj in input.objects
		startswith(obj.apiVersion, "monitoring.coreos.com/")
		labels := obj.spec.podMetadata.labels
		is_object(labels)
		root.namespace(obj) == ns
	],
) if {
	some ns in root.namespaces
}

selects_a_pod(svc, selector) if {
	some labels in pod_labels[root.namespace(svc)]
	root.matches_labels(selector, labels)
}

describe(selector) := concat(", ", sort([sprintf("%s=%v", [k, v]) | some k, v in selector]))
