# METADATA
# title: Image not pinned by digest where the environment requires it
# description: |-
#   A tag can be moved to another image at any time; a digest cannot. Environments listed
#   under `images.requireDigest` in .kgate.yaml (e.g. prod) must deploy exactly the image
#   that was tested: every container image there needs `@sha256:...`.
#
#   Fires on an image without a digest in a root of such an environment; passes elsewhere,
#   and for `image:tag@sha256:...` or `image@sha256:...`.
#
#   `ko://` import paths pass: ko builds them and writes a digest-pinned image in their place.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: image-not-pinned-by-digest
#   severity: error
#   remediation: >-
#     Pin the image by digest (`registry/app:1.4.2@sha256:...`), e.g. with the overlay's
#     `images:` entry (`digest:`), or let your release tooling resolve tags to digests.
package kgate.rules.images.image_not_pinned_by_digest

import data.kgate.lib.kubernetes as k8s

deny contains violation if {
	data.kgate.requireDigest == true
	some c in k8s.containers
	image := c.container.image
	is_string(image)
	not k8s.built_by_ko(image)
	not contains(image, "@sha256:")
	violation := {
		"msg": sprintf("%s uses image %q, not pinned by digest, in an environment that requires digests", [c.label, image]),
		"path": array.concat(c.path, ["image"]),
	}
}
