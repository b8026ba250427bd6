# METADATA
# title: Overlay uses another app's directory
# description: |-
#   An app's overlay should build on its own base and on shared components only. An overlay
#   that lists another app's base or overlay couples the two apps: a change to one silently
#   redeploys the other, and deleting one breaks the other's build.
#
#   Fires on each resource, component or patch entry of an overlay that points into another
#   app's directory, at that entry's line.
# custom:
#   id: overlay-references-other-app
#   scope: repo
#   severity: error
#   remediation: >-
#     Move what both apps need into a component (`components/`) or a shared base outside the
#     apps, and reference that instead.
package kgate.rules.structure.overlay_references_other_app

# Indexes, so a repository of hundreds of apps is one pass over the edges.
app_of_overlay := {overlay: app |
	some app in input.apps
	some overlay in app.overlays
}

apps_by_path := {app.path: app | some app in input.apps}

# The app whose directory holds `path`, if any: the longest matching prefix (an app may sit
# inside another's directory). The prefixes are indexed by the parts' own indexes (1 to
# count - 1, ascending), not a range of numbers: kgate guards that builtin in the interpreter,
# which would keep the repository rules out of the VM.
owner(path) := apps_by_path[prefixes[count(prefixes) - 1]] if {
	parts := split(path, "/")
	prefixes := [prefix |
		some n, _ in parts
		n > 0
		prefix := concat("/", array.slice(parts, 0, n))
		apps_by_path[prefix]
	]
	count(prefixes) > 0
}

# Apps whose directory is inside another app's (rare): without any, a path under an app's
# directory belongs to that app, and an overlay's own files (most of its edges) need no
# search for their owner.
nested_apps := {app.path | some app in input.apps; owner(app.path)}

within_own_app(path, app) if {
	count(nested_apps) == 0
	startswith(path, concat("", [app.path, "/"]))
}

deny contains violation if {
	some edge in input.edges
	app := app_of_overlay[edge.from]
	not within_own_app(edge.to, app)
	other := owner(edge.to)
	other.path != app.path
	violation := {
		"msg": sprintf("overlay %s uses %s, which belongs to app %q; overlays should use only their own app's base and shared components", [edge.from, edge.to, other.name]),
		"file": edge.file,
		"line": edge.line,
	}
}
