# syntax=docker/dockerfile:1
# kgate with Helm v3 and git, static and non-root:
#   docker run --rm -v "$PWD:/repo" ghcr.io/kgate/kgate check /repo
# Built for linux/amd64 (the Helm wheel ci/install-helm.sh reads bundles the amd64 binary).

FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools python3-pip \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
# The release workflow passes the commit (the build context has no .git).
ARG KGATE_COMMIT=unknown
ENV KGATE_COMMIT=${KGATE_COMMIT}
RUN cargo build --release --locked --target x86_64-unknown-linux-musl \
 && install -D target/x86_64-unknown-linux-musl/release/kgate /out/kgate \
 && /out/kgate --version
RUN install -D "$(bash ci/install-helm.sh)" /out/helm \
 && /out/helm version --short

FROM alpine:3.20
# git for --changed-since and `kgate diff --since`; curl and jq for the GitLab template's
# merge-request note; ca-certificates for Helm repositories
# when helm.allowNetwork is set.
RUN apk add --no-cache git ca-certificates curl jq \
 && adduser -D -H -u 65532 kgate \
 && git config --system --add safe.directory '*'
COPY --from=build /out/kgate /out/helm /usr/local/bin/
USER 65532:65532
WORKDIR /repo
ENTRYPOINT ["kgate"]
CMD ["check", "/repo"]
