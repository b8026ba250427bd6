package kgate.rules.structure.unknown_environment_overlay_test

import data.kgate.rules.structure.unknown_environment_overlay

repo(overlays) := {"environments": ["dev", "prod"], "apps": [{"name": "web", "path": "apps/web", "base": "apps/web/base", "overlays": overlays}]}

test_typo_fires if {
	result := unknown_environment_overlay.deny with input as repo({"prd": "apps/web/overlays/prd"})
	result == {{"msg": "overlay apps/web/overlays/prd is for environment \"prd\", which is not one of the configured environments (dev, prod)", "file": "apps/web/overlays/prd"}}
}

test_known_environments_passes if {
	count(unknown_environment_overlay.deny) == 0 with input as repo({"dev": "a", "prod": "b"})
}
