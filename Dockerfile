# provgate container image.
#
#   docker build -t provgate:dev --build-arg VERSION="$(git describe --always --dirty)" .
#
# Two stages: "build" compiles build/provgate with the Debian -dev packages;
# the final stage holds only the binary, the Debian runtime libraries it links
# (libh2o-evloop, jansson, libyaml, gpgme, OpenSSL, zlib; libcurl is opened
# with dlopen at its first use, so ldd does not list it), gnupg and gpgv
# (provgate runs gpgv to verify and gpgme runs gpg to list a keyring's keys,
# so they must be in the image) and ca-certificates.
#
# The image runs as the numeric user 65532 and needs no writable root
# filesystem: every file it writes (gpg homes, gpg-agent sockets) lives under
# /var/run/provgate, which the Deployment mounts as an emptyDir.  Policy is
# read from /etc/provgate/policy (ConfigMaps), the serving certificate from
# /etc/provgate/tls (a kubernetes.io/tls Secret: tls.crt, tls.key).

FROM debian:bookworm-slim AS build
RUN apt-get update \
	&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		gcc libc6-dev make pkg-config git ca-certificates \
		libh2o-evloop-dev libjansson-dev libyaml-dev libgpgme-dev \
		libcurl4-openssl-dev libssl-dev zlib1g-dev \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# .git is not copied (see .dockerignore), so the version comes from the build
# argument instead of `git describe`.
ARG VERSION=unknown
RUN make -j"$(nproc)" PG_VERSION="$VERSION" build/provgate \
	&& strip build/provgate

FROM debian:bookworm-slim
ARG VERSION=unknown
# OCI image annotations (image-spec annotations.md), as `docker inspect`,
# registries and scanners read them.
LABEL org.opencontainers.image.title="provgate" \
	org.opencontainers.image.description="Kubernetes admission webhook: admits only images and Helm charts that prove their provenance" \
	org.opencontainers.image.url="https://provgate.dev" \
	org.opencontainers.image.source="https://github.com/provgate/provgate" \
	org.opencontainers.image.version="${VERSION}" \
	org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"
RUN apt-get update \
	&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		libh2o-evloop0.13 libjansson4 libyaml-0-2 libgpgme11 libcurl4 libssl3 zlib1g \
		gnupg gpgv gpg-agent ca-certificates \
	&& rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/provgate /usr/local/bin/provgate
# Fail the build here, not in the cluster, if a shared library or a program
# it runs is missing (libcurl.so.4 is dlopen'ed, so ldd cannot see it).
RUN ! ldd /usr/local/bin/provgate | grep -q 'not found' \
	&& ldconfig -p | grep -q 'libcurl\.so\.4 ' \
	&& test -x /usr/bin/gpgv && test -x /usr/bin/gpg \
	&& mkdir -p /etc/provgate/policy /etc/provgate/tls /var/run/provgate \
	&& chown 65532:65532 /var/run/provgate \
	&& chmod 0700 /var/run/provgate
# gpg and gpg-agent look in $HOME / $GNUPGHOME; point both at the writable
# state directory (provgate keeps its per-keyring gpg homes under --state-dir).
ENV HOME=/var/run/provgate \
	GNUPGHOME=/var/run/provgate/gnupg \
	TMPDIR=/var/run/provgate
USER 65532:65532
EXPOSE 8443
# The binary is the entrypoint, the verb is the default command: `docker run
# IMAGE review --policy ...` or `... policy check DIR` work as on a laptop.
# A Deployment that sets args must start them with "serve".
ENTRYPOINT ["provgate"]
CMD ["serve", "--policy", "/etc/provgate/policy", \
	"--tls-cert", "/etc/provgate/tls/tls.crt", \
	"--tls-key", "/etc/provgate/tls/tls.key", \
	"--state-dir", "/var/run/provgate", \
	"--listen", "0.0.0.0:8443"]
