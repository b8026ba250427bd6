package kgate.rules.structure.orphaned_root_test

import data.kgate.rules.structure.orphaned_root

repo(used_by) := {
	"roots": [
		{"id": "apps/web/overlays/prod", "kind": "root", "file": "apps/web/overlays/prod/kustomization.yaml", "usedBy": used_by},
		{"id": "apps/web/base", "kind": "root", "file": "apps/web/base/kustomization.yaml", "usedBy": []},
	],
	"entryPoints": [],
}

params := {"orphaned-root": {"paths": ["apps/*/overlays/*"]}}

test_unused_overlay_fires if {
	result := orphaned_root.deny with input as repo([]) with data.kgate.params as params
	result == {{"msg": "apps/web/overlays/prod is used by no kustomization, cluster or entry point, so nothing deploys it", "file": "apps/web/overlays/prod/kustomization.yaml"}}
}

test_deployed_overlay_passes if {
	count(orphaned_root.deny) == 0 with input as repo(["clusters/prod"]) with data.kgate.params as params
}

test_without_paths_passes if {
	count(orphaned_root.deny) == 0 with input as repo([])
}
