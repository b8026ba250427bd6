package kgate.rules.resources.missing_resource_limits_test

import data.kgate.rules.resources.missing_resource_limits

limited := {"limits": {"cpu": "500m", "memory": "256Mi"}}

pod(containers) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": containers}}

test_no_resources_fires if {
	some v in missing_resource_limits.deny with input as pod([{"name": "app", "image": "a:1"}])
	v.msg == "container \"app\" has no cpu or memory limit"
	v.path == ["spec", "containers", 0, "resources", "limits"]
}

test_only_memory_missing_fires if {
	some v in missing_resource_limits.deny with input as pod([{"name": "app", "resources": {"limits": {"cpu": "1"}}}])
	v.msg == "container \"app\" has no memory limit"
}

test_null_limits_fires if {
	count(missing_resource_limits.deny) == 1 with input as pod([{"name": "app", "resources": {"limits": null}}])
}

test_requests_without_limits_fires if {
	count(missing_resource_limits.deny) == 1 with input as pod([{"name": "app", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}])
}

test_init_container_fires if {
	obj := {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"}, "spec": {"template": {"spec": {
		"initContainers": [{"name": "init"}],
		"containers": [{"name": "db", "resources": limited}],
	}}}}
	some v in missing_resource_limits.deny with input as obj
	v.path == ["spec", "template", "spec", "initContainers", 0, "resources", "limits"]
	count(missing_resource_limits.deny) == 1 with input as obj
}

test_every_workload_kind_is_checked if {
	kinds := [
		{"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}},
		{"apiVersion": "apps/v1", "kind": "DaemonSet", "spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}},
		{"apiVersion": "apps/v1", "kind": "ReplicaSet", "spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}},
		{"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}},
		{"apiVersion": "batch/v1", "kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}}}},
		{"apiVersion": "v1", "kind": "ReplicationController", "spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}},
	]
	every obj in kinds {
		count(missing_resource_limits.deny) == 1 with input as obj
	}
}

test_unnamed_container_is_labelled_by_index if {
	some v in missing_resource_limits.deny with input as pod([{"image": "a:1"}])
	v.msg == "container #0 has no cpu or memory limit"
}

test_full_limits_passes if {
	count(missing_resource_limits.deny) == 0 with input as pod([{"name": "app", "resources": limited}])
}

test_ephemeral_containers_without_limits_passes if {
	obj := json.patch(pod([{"name": "app", "resources": limited}]), [{"op": "add", "path": "/spec/ephemeralContainers", "value": [{"name": "debug"}]}])
	count(missing_resource_limits.deny) == 0 with input as obj
}

test_non_workloads_passes if {
	count(missing_resource_limits.deny) == 0 with input as {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {}}
}
