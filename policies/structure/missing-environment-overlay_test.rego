package kgate.rules.structure.missing_environment_overlay_test

import data.kgate.rules.structure.missing_environment_overlay

app(overlays) := {"name": "web", "path": "apps/web", "base": "apps/web/base", "overlays": overlays, "clusters": []}

test_missing_prod_overlay_fires if {
	result := missing_environment_overlay.deny with input as {"environments": ["dev", "prod"], "apps": [app({"dev": "apps/web/overlays/dev"})]}
	result == {{"msg": "app \"web\" has no overlay for environment \"prod\" (expected apps/web/overlays/prod)", "file": "apps/web"}}
}

test_every_environment_passes if {
	count(missing_environment_overlay.deny) == 0 with input as {"environments": ["dev", "prod"], "apps": [app({"dev": "a", "prod": "b"})]}
}

test_no_configured_environments_passes if {
	count(missing_environment_overlay.deny) == 0 with input as {"environments": [], "apps": [app({})]}
}
