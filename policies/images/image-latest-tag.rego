# METADATA
# title: Container image uses the latest tag or no tag
# description: |-
#   A container image without a tag, or tagged `latest`, names whatever was pushed last.
#   Two nodes can run different code for the same pod, a rollback redeploys the new code,
#   and nobody can tell from Git what is running. Images pinned by digest
#   (`name@sha256:...`) are immutable and pass whatever their tag says.
#
#   Fires on `image: nginx`, `image: nginx:latest`, `image: registry:5000/team/app`;
#   passes `image: nginx:1.27.3` and `image: nginx@sha256:0d17b565...`.
#
#   `ko://` import paths pass: ko builds them and writes a digest-pinned image in their place.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: image-latest-tag
#   severity: error
#   remediation: Pin the image to an immutable version tag (for example `nginx:1.27.3`) or to a digest (`nginx@sha256:...`).
package kgate.rules.images.image_latest_tag

import data.kgate.lib.kubernetes as k8s

deny contains violation if {
	some c in k8s.containers
	image := c.container.image
	is_string(image)
	not k8s.built_by_ko(image)
	problem := mutable_reference(image)
	violation := {
		"msg": sprintf("%s uses image %q, %s", [c.label, image, problem]),
		"path": array.concat(c.path, ["image"]),
	}
}

mutable_reference(image) := "which has no tag and so pulls `latest`" if {
	not contains(image, "@")
	not image_tag(image)
}

mutable_reference(image) := "whose tag `latest` is mutable" if {
	not contains(image, "@")
	image_tag(image) == "latest"
}

# The tag follows the last ':' of the last path component; a ':' before a '/' is a port.
image_tag(image) := tag if {
	parts := split(image, "/")
	last := parts[count(parts) - 1]
	contains(last, ":")
	tag := substring(last, indexof(last, ":") + 1, -1)
}
