#!/bin/sh
# Install what provgate needs to build and test, with apt-get, only when
# something is missing (so a second run is silent and fast).
set -eu
PKGS="gcc make pkg-config git ca-certificates curl openssl
libh2o-evloop-dev libjansson-dev libyaml-dev libgpgme-dev libcurl4-openssl-dev
libssl-dev zlib1g-dev libcmocka-dev libnghttp2-dev
docker-registry apache2-utils nghttp2-client nghttp2-server
gnupg gpgv gpg-agent sq rnp clang clang-format libclang-rt-14-dev libtsan2 valgrind yamllint jq"
missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
