package kgate.rules.reliability.service_selects_no_pod_test

import data.kgate.rules.reliability.service_selects_no_pod

service(selector) := {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"selector": selector, "ports": [{"port": 80}]}}

deployment(labels) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "app"}]}}}}

test_renamed_label_fires if {
	objects := [deployment({"app.kubernetes.io/name": "web"}), service({"app": "web"})]
	result := service_selects_no_pod.deny with input as {"objects": objects}
	count(result) == 1
	some v in result
	v.object == 1
	v.path == ["spec", "selector"]
	v.msg == "Service \"web\" selects app=web, which no pod template in its namespace carries"
}

test_workload_in_other_namespace_fires if {
	d := object.union(deployment({"app": "web"}), {"metadata": {"name": "web", "namespace": "other"}})
	count(service_selects_no_pod.deny) == 1 with input as {"objects": [d, service({"app": "web"})]}
}

test_matching_pod_template_passes if {
	objects := [deployment({"app": "web", "tier": "front"}), service({"app": "web"})]
	count(service_selects_no_pod.deny) == 0 with input as {"objects": objects}
}

test_cronjob_pods_count_passes if {
	cj := {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "j"}, "spec": {"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"app": "web"}}}}}}}
	count(service_selects_no_pod.deny) == 0 with input as {"objects": [cj, service({"app": "web"})]}
}

test_service_without_selector_passes if {
	svc := {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"}, "spec": {"ports": [{"port": 80}]}}
	count(service_selects_no_pod.deny) == 0 with input as {"objects": [svc]}
}

test_prometheus_operator_pods_pass if {
	am := {"apiVersion": "monitoring.coreos.com/v1", "kind": "Alertmanager", "metadata": {"name": "main"}, "spec": {"podMetadata": {"labels": {"app.kubernetes.io/name": "alertmanager", "app.kubernetes.io/instance": "main"}}}}
	svc := service({"app.kubernetes.io/name": "alertmanager"})
	count(service_selects_no_pod.deny) == 0 with input as {"objects": [am, svc]}
	count(service_selects_no_pod.deny) == 1 with input as {"objects": [svc]}
}
