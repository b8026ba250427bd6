package kgate.rules.reliability.hpa_target_missing_test

import data.kgate.rules.reliability.hpa_target_missing

hpa(kind, name) := {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"}, "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": name}, "maxReplicas": 3}}

deployment(name) := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}}

test_renamed_target_fires if {
	result := hpa_target_missing.deny with input as {"objects": [deployment("prod-web"), hpa("Deployment", "web")]}
	count(result) == 1
	some v in result
	v.object == 1
	v.path == ["spec", "scaleTargetRef", "name"]
	v.msg == "HorizontalPodAutoscaler \"web\" targets Deployment \"web\", which this root does not define in its namespace"
}

test_wrong_kind_fires if {
	count(hpa_target_missing.deny) == 1 with input as {"objects": [deployment("web"), hpa("StatefulSet", "web")]}
}

test_existing_target_passes if {
	count(hpa_target_missing.deny) == 0 with input as {"objects": [hpa("Deployment", "web"), deployment("web")]}
}

# With `input.subjects` (the objects a change affects), findings are looked for on those only.
test_only_subjects_are_looked_at if {
	objects := [hpa("Deployment", "gone"), deployment("web"), hpa("Deployment", "missing")]
	count(hpa_target_missing.deny) == 2 with input as {"objects": objects}
	result := hpa_target_missing.deny with input as {"objects": objects, "subjects": [2]}
	count(result) == 1
	some v in result
	v.object == 2
	count(hpa_target_missing.deny) == 0 with input as {"objects": objects, "subjects": [1]}
}
