package kgate.rules.structure.overlay_references_other_app_test

import data.kgate.rules.structure.overlay_references_other_app

apps := [
	{"name": "web", "path": "apps/web", "base": "apps/web/base", "overlays": {"prod": "apps/web/overlays/prod"}},
	{"name": "api", "path": "apps/api", "base": "apps/api/base", "overlays": {"prod": "apps/api/overlays/prod"}},
]

edge(to) := {"from": "apps/web/overlays/prod", "to": to, "kind": "resource", "file": "apps/web/overlays/prod/kustomization.yaml", "line": 3, "column": 5}

test_other_apps_overlay_fires if {
	some v in overlay_references_other_app.deny with input as {"apps": apps, "edges": [edge("apps/api/overlays/prod")]}
	v.file == "apps/web/overlays/prod/kustomization.yaml"
	v.line == 3
	v.msg == "overlay apps/web/overlays/prod uses apps/api/overlays/prod, which belongs to app \"api\"; overlays should use only their own app's base and shared components"
}

test_own_base_and_components_passes if {
	count(overlay_references_other_app.deny) == 0 with input as {"apps": apps, "edges": [edge("apps/web/base"), edge("components/tls")]}
}

# An app inside another app's directory owns its files: the outer app's overlay using the
# inner app's base fires, though the path is under the outer app's directory too.
nested := array.concat(apps, [{"name": "tools", "path": "apps/web/tools", "base": "apps/web/tools/base", "overlays": {"prod": "apps/web/tools/overlays/prod"}}])

test_nested_apps_base_fires if {
	some v in overlay_references_other_app.deny with input as {"apps": nested, "edges": [edge("apps/web/tools/base")]}
	v.msg == "overlay apps/web/overlays/prod uses apps/web/tools/base, which belongs to app \"tools\"; overlays should use only their own app's base and shared components"
}

test_own_files_beside_a_nested_app_pass if {
	count(overlay_references_other_app.deny) == 0 with input as {"apps": nested, "edges": [edge("apps/web/base"), edge("apps/web/overlays/prod/patch.yaml")]}
}
