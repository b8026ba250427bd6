# METADATA
# title: Image comes from a registry outside the allowlist
# description: |-
#   Images should come only from registries the platform team trusts (mirrored, scanned,
#   signed). With `images.allowedRegistries` set in .kgate.yaml, every container, init
#   container and ephemeral container of every workload must use an image under one of
#   them. An entry matches on path boundaries: `registry.example.com/platform` allows
#   `registry.example.com/platform/app:1` but not `registry.example.com/platformx/app:1`.
#   Docker Hub short names are expanded as the container runtime does (`nginx` is
#   `docker.io/library/nginx`, `bitnami/redis` is `docker.io/bitnami/redis`).
#
#   Fires on an image outside every allowed prefix; passes when none is configured.
#
#   `ko://` import paths pass: ko builds them and writes a digest-pinned image in their place.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: image-untrusted-registry
#   severity: error
#   remediation: >-
#     Pull the image through an allowed registry (mirror it there), or add the registry to
#     `images.allowedRegistries` in .kgate.yaml if it is trusted.
package kgate.rules.images.image_untrusted_registry

import data.kgate.lib.kubernetes as k8s

allowed := data.kgate.allowedRegistries if is_array(data.kgate.allowedRegistries)

deny contains violation if {
	count(allowed) > 0
	some c in k8s.containers
	image := c.container.image
	is_string(image)
	not k8s.built_by_ko(image)
	not trusted(normalize(image))
	violation := {
		"msg": sprintf("%s uses image %q from a registry outside images.allowedRegistries (%s)", [c.label, image, concat(", ", allowed)]),
		"path": array.concat(c.path, ["image"]),
	}
}

trusted(image) if {
	some prefix in allowed
	p := trim_suffix(normalize(prefix), "/")
	startswith(image, concat("", [p, "/"]))
}

trusted(image) if {
	some prefix in allowed
	image == trim_suffix(normalize(prefix), "/")
}

# The first path component names a registry when it has a dot or a port, or is localhost.
has_registry(image) if {
	first := split(image, "/")[0]
	contains(image, "/")
	regex.match(`[.:]|^localhost$`, first)
}

normalize(image) := image if has_registry(image)

normalize(image) := concat("", ["docker.io/", image]) if {
	not has_registry(image)
	contains(image, "/")
}

normalize(image) := concat("", ["docker.io/library/", image]) if {
	not has_registry(image)
	not contains(image, "/")
}
