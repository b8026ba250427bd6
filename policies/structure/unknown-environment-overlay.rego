# METADATA
# title: Overlay for an environment that is not configured
# description: |-
#   An app's `overlays/<name>/` whose name is not in `environments:` is deployed nowhere the
#   platform knows of, or is a typo (`overlays/prd`) that leaves the real environment
#   without the app. Only checked when `environments:` is set.
# custom:
#   id: unknown-environment-overlay
#   scope: repo
#   severity: warning
#   remediation: >-
#     Rename the overlay to a configured environment, add the environment to
#     `environments:` in .kgate.yaml, or delete the overlay.
package kgate.rules.structure.unknown_environment_overlay

deny contains violation if {
	count(input.environments) > 0
	some app in input.apps
	some env, path in app.overlays
	not env in input.environments
	violation := {
		"msg": sprintf("overlay %s is for environment %q, which is not one of the configured environments (%s)", [path, env, concat(", ", input.environments)]),
		"file": path,
	}
}
