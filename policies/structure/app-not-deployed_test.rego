package kgate.rules.structure.app_not_deployed_test

import data.kgate.rules.structure.app_not_deployed

repo(clusters) := {"clusters": [{"path": "clusters/prod-eu"}], "apps": [{"name": "web", "path": "apps/web", "clusters": clusters}]}

test_undeployed_app_fires if {
	app_not_deployed.deny == {{"msg": "app \"web\" is not included by any cluster (1 cluster directories)", "file": "apps/web"}} with input as repo([])
}

test_deployed_app_passes if {
	count(app_not_deployed.deny) == 0 with input as repo(["clusters/prod-eu"])
}

test_no_clusters_passes if {
	count(app_not_deployed.deny) == 0 with input as {"clusters": [], "apps": [{"name": "web", "path": "apps/web", "clusters": []}]}
}
