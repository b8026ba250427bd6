# METADATA
# title: Kustomization or entry point nothing deploys
# description: |-
#   A kustomization directory (or an Argo CD / Flux entry point) that no cluster,
#   kustomization or entry point uses is dead configuration: edits to it are reviewed and
#   merged but never reach a cluster. Which ones must be used is configuration: the rule's
#   parameter `paths` lists globs (`*` within a segment, `**` across) of the roots that must be
#   reachable, for example `["apps/*/overlays/*", "clusters/*"]`, set under
#   `rules.params.orphaned-root` in .kgate.yaml. Without `paths` the rule checks nothing.
# custom:
#   id: orphaned-root
#   needsParams: true
#   scope: repo
#   severity: warning
#   remediation: >-
#     Reference the directory from the cluster (or the Argo CD Application / Flux
#     Kustomization) that should deploy it, or delete it.
package kgate.rules.structure.orphaned_root

paths := p if {
	p := data.kgate.params["orphaned-root"].paths
	is_array(p)
} else := []

deny contains violation if {
	some root in array.concat(input.roots, input.entryPoints)
	count(root.usedBy) == 0
	some pattern in paths
	glob.match(pattern, ["/"], root.id)
	violation := {
		"msg": sprintf("%s is used by no kustomization, cluster or entry point, so nothing deploys it", [root.id]),
		"file": object.get(root, "file", root.id),
	}
}
