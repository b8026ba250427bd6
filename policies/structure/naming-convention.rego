# METADATA
# title: Name that does not follow the repository's conventions
# description: |-
#   Names carry the layout: app directories become object and namespace names (so they must
#   be DNS labels), and an Argo CD Application or Flux Kustomization named after what it
#   deploys is found by whoever is paged. Checked: every app directory name against the
#   parameter `apps` (a regular expression, default a DNS label:
#   `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`), and, when the parameter `entryPoints` is set, every
#   entry point's name against that template, where `{app}`, `{env}` and `{cluster}` stand
#   for the app, environment and cluster of the path it deploys (for example
#   `"{app}-{env}"` or `"{cluster}"`). Parameters go under
#   `rules.params.naming-convention` in .kgate.yaml.
# custom:
#   id: naming-convention
#   scope: repo
#   severity: warning
#   remediation: >-
#     Rename the directory or the entry point to follow the convention, or change the
#     convention in rules.params.naming-convention.
package kgate.rules.structure.naming_convention

params := p if {
	p := data.kgate.params["naming-convention"]
	is_object(p)
} else := {}

app_pattern := object.get(params, "apps", "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

deny contains violation if {
	some app in input.apps
	not regex.match(app_pattern, app.name)
	violation := {
		"msg": sprintf("app directory name %q does not match %s", [app.name, app_pattern]),
		"file": app.path,
	}
}

roots := {root.id: root | some root in input.roots}

# The app whose directory holds `path`.
app_of(path) := app.name if {
	some app in input.apps
	startswith(path, concat("", [app.path, "/"]))
}

else := ""

# A placeholder the deployed path gives no value for (an app template on a cluster path)
# makes the template not apply.
unresolved(template, target) if {
	contains(template, "{app}")
	app_of(target) == ""
}

unresolved(template, target) if {
	contains(template, "{env}")
	object.get(roots[target], "environment", "") == ""
}

unresolved(template, target) if {
	contains(template, "{cluster}")
	object.get(roots[target], "cluster", "") == ""
}

expected(template, target) := name if {
	root := roots[target]
	not unresolved(template, target)
	name := replace(replace(replace(template, "{app}", app_of(target)), "{env}", object.get(root, "environment", "")), "{cluster}", object.get(root, "cluster", ""))
}

deny contains violation if {
	template := params.entryPoints
	is_string(template)
	some edge in input.edges
	edge.kind == "deploys"
	want := expected(template, edge.to)
	# The entry point's id is "<Kind> <namespace>/<name>" or "<Kind> <name>".
	parts := split(edge.from, " ")
	qualified := parts[count(parts) - 1]
	name_parts := split(qualified, "/")
	name := name_parts[count(name_parts) - 1]
	name != want
	violation := {
		"msg": sprintf("%s deploys %s, so by the convention %q it should be named %q", [edge.from, edge.to, template, want]),
		"file": edge.file,
		"line": edge.line,
	}
}
