# METADATA
# title: Pod mounts the container runtime socket
# description: |-
#   The Docker, containerd or CRI-O socket controls every container on the node: whoever can
#   write to it starts a privileged container and owns the node. Fires on a hostPath volume
#   whose path is one of the runtime sockets (/var/run/docker.sock, /run/docker.sock,
#   /run/containerd/containerd.sock, /var/run/crio/crio.sock) or a directory holding them
#   (/var/run, /run, /run/containerd, /var/run/crio). Reported in addition to
#   host-path-volume.
# custom:
#   kinds: [Pod, PodTemplate, ReplicationController, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob]
#   id: docker-socket-mount
#   severity: error
#   remediation: Do not mount the runtime socket; build images with a rootless builder (BuildKit, kaniko) and use the Kubernetes API for what the workload needs.
package kgate.rules.security.docker_socket_mount

import data.kgate.lib.kubernetes as k8s

sockets := {
	"/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
	"/var/run/containerd/containerd.sock", "/var/run/crio/crio.sock", "/run/crio/crio.sock",
	"/var/run", "/run", "/run/containerd", "/var/run/containerd", "/var/run/crio", "/run/crio",
}

deny contains violation if {
	some i, v in object.get(k8s.pod_spec, "volumes", [])
	path := trim_suffix(v.hostPath.path, "/")
	path in sockets
	violation := {
		"msg": sprintf("volume %q mounts the container runtime socket %s from the node", [v.name, v.hostPath.path]),
		"path": array.concat(k8s.pod_spec_path, ["volumes", i, "hostPath", "path"]),
	}
}
