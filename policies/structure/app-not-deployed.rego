# METADATA
# title: App deployed to no cluster
# description: |-
#   An app whose overlays no cluster directory includes (directly or through other
#   kustomizations) runs nowhere: usually it was added without registering it in the
#   clusters, or a cluster entry was removed by mistake. Only checked when the repository
#   has cluster directories (`clusters/<name>`).
# custom:
#   id: app-not-deployed
#   scope: repo
#   severity: warning
#   remediation: >-
#     Add the app's overlay to the `resources:` of the clusters of that environment, or
#     delete the app if it is retired.
package kgate.rules.structure.app_not_deployed

deny contains violation if {
	count(input.clusters) > 0
	some app in input.apps
	count(app.clusters) == 0
	violation := {
		"msg": sprintf("app %q is not included by any cluster (%d cluster directories)", [app.name, count(input.clusters)]),
		"file": app.path,
	}
}
