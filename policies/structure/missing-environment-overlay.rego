# METADATA
# title: App without an overlay for a configured environment
# description: |-
#   Every app (a directory matching `layout.apps` in .kgate.yaml, default `apps/*`, with a
#   `base/`) has an `overlays/<env>/` for each environment in `environments:`. An app
#   missing one is not deployed there, usually because the overlay was forgotten when the
#   app was added, or deleted with a rename.
#
#   Fires once per missing environment, at the app directory; passes when every
#   configured environment has an overlay (or no environments are configured).
# custom:
#   id: missing-environment-overlay
#   scope: repo
#   severity: error
#   remediation: >-
#     Add `overlays/<env>/kustomization.yaml` to the app (usually `resources: [../../base]`
#     plus the environment's patches), or remove the environment from `environments:`.
package kgate.rules.structure.missing_environment_overlay

deny contains violation if {
	some app in input.apps
	app.base != null
	some env in input.environments
	not app.overlays[env]
	violation := {
		"msg": sprintf("app %q has no overlay for environment %q (expected %s/overlays/%s)", [app.name, env, app.path, env]),
		"file": app.path,
	}
}
