# Shared helpers for the built-in rules: which objects run pods, where their pod spec lives
# and every container in it, each with the JSON path a finding should point at.
# (A library, not a rule: files under policies/lib/ carry no METADATA and report nothing.)
package kgate.lib.kubernetes

# Path to the pod spec, per kind, for the API groups that define that kind. The group check
# keeps custom resources that reuse a name like "Deployment" out of pod-level rules.
pod_spec_paths := {
	"Pod": ["spec"],
	"PodTemplate": ["template", "spec"],
	"ReplicationController": ["spec", "template", "spec"],
	"Deployment": ["spec", "template", "spec"],
	"StatefulSet": ["spec", "template", "spec"],
	"DaemonSet": ["spec", "template", "spec"],
	"ReplicaSet": ["spec", "template", "spec"],
	"Job": ["spec", "template", "spec"],
	"CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
}

workload_groups := {
	"Pod": {""},
	"PodTemplate": {""},
	"ReplicationController": {""},
	"Deployment": {"apps", "extensions"},
	"StatefulSet": {"apps"},
	"DaemonSet": {"apps", "extensions"},
	"ReplicaSet": {"apps", "extensions"},
	"Job": {"batch"},
	"CronJob": {"batch"},
}

# The API group of the object: "" for the core group ("v1").
api_group := "" if {
	is_string(input.apiVersion)
	not contains(input.apiVersion, "/")
}

api_group := split(input.apiVersion, "/")[0] if {
	is_string(input.apiVersion)
	contains(input.apiVersion, "/")
}

pod_spec_path := pod_spec_paths[input.kind] if api_group in workload_groups[input.kind]

pod_spec := object.get(input, pod_spec_path, {})

container_fields := ["initContainers", "containers", "ephemeralContainers"]

# Every container of the pod spec: the container, its field ("containers",
# "initContainers", "ephemeralContainers"), its index, a name for messages and its path.
containers contains {
	"container": c,
	"field": field,
	"index": i,
	"label": label(field, c, i),
	"path": array.concat(pod_spec_path, [field, i]),
} if {
	is_object(pod_spec)
	some field in container_fields
	list := object.get(pod_spec, field, [])
	is_array(list)
	some i, c in list
	is_object(c)
}

kinds := {
	"initContainers": "init container",
	"containers": "container",
	"ephemeralContainers": "ephemeral container",
}

label(field, c, _) := sprintf("%s %q", [kinds[field], c.name]) if is_string(c.name)

label(field, c, i) := sprintf("%s #%d", [kinds[field], i]) if not is_string(c.name)

# A `ko://<import path>` reference (Knative and Tekton manifests): ko builds the Go package
# and replaces the reference with the pushed image pinned by digest, so no tag rule applies.
built_by_ko(image) if startswith(image, "ko://")
