#!/bin/sh
# make lint: the checks a compiler does not do (curl's checksrc, in small).
#
#   1. banned calls (STYLE.md "Memory and input"): the unbounded string and
#      number functions, in webhook/.
#   2. every foreign library stays in its room: a file under webhook/ may
#      include a library's headers only if its room (webhook/<room>/, or the
#      file itself for webhook/main.c) is in the table below.
#   3. a room's internals stay in the room: a file under webhook/ includes
#      a `*_int.h` only of its own room (docs/internals.md, "The room map").
#   4. clang-format --dry-run -Werror over the C sources of webhook/,
#      tests/unit, tests/fuzz and tests/bench, with the committed
#      .clang-format (LINT_FORMAT=0 leaves it out).
#
# Prints one line per finding and exits non-zero if there was any.
set -u
cd "$(dirname "$0")/.." || exit 2
rc=0

# --- 1. banned calls ---
if grep -rnE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|atoll|sscanf|gets)[[:space:]]*\(' \
	--include='*.c' --include='*.h' webhook; then
	echo "lint: banned calls above (use the bounded forms: snprintf, strtol/strtoul with checks, ...)" >&2
	rc=1
fi

# --- 2. foreign libraries and their rooms ---
# library | header pattern (extended regex on the <...> name) | allowed rooms
# A room is a folder under webhook/ (or main.c).  Why each room may:
#   h2o      server/ is the only HTTP server code (DESIGN.md: h2o types never leave server/).
#   curl     fetch/ is the only network client (DESIGN.md: libcurl never leaves fetch/).
#   gpgme    pgp/ drives gpg (its process set-up is pg_pgp_global_init).
#   yaml     policy/ reads the policy file, helm/ reads Chart.yaml and index.yaml.
#   zlib     helm/ inflates chart archives (.tgz).
#   jansson  the rooms that decode or build JSON: the AdmissionReview codec and
#            the decision (admission/, decide/), evidence formats (sigstore/,
#            notation/, attest/, helm/ release and OCI manifests, oci/, verify/),
#            metrics and logs (obs/), the API server (kube/), the JSON
#            allocator bound (jsonmem/), the policy CLI (cli/).
#   openssl  the offline crypto rooms (sigstore/, notation/, pgp/), TLS
#            (server/), digests over fetched bytes (cache/, helm/, oci/,
#            policy/), secret wiping and key loading (cli/); buf/ and digest/
#            are the ground-floor rooms that take over digests and wiping
#            (#11 item 3).
ROOMS='
h2o     |h2o(/.*)?\.h    |server
curl    |curl/.*\.h      |fetch
gpgme   |gpgme\.h        |pgp
yaml    |yaml\.h         |policy helm
zlib    |zlib\.h         |helm
jansson |jansson\.h      |admission decide attest cli helm json jsonmem kube notation obs oci sigstore verify
openssl |openssl/.*\.h   |digest notation policy server sigstore
'
files=$(find webhook -name '*.[ch]' | sort)
found=$(echo "$ROOMS" | while IFS='|' read -r lib re rooms; do
	lib=$(echo "$lib" | tr -d ' ')
	re=$(echo "$re" | tr -d ' ')
	[ -n "$lib" ] || continue
	# shellcheck disable=SC2086
	for f in $(grep -lE "^[[:space:]]*#[[:space:]]*include[[:space:]]*<$re>" $files); do
		rel=${f#webhook/}
		room=${rel%%/*}
		okf=0
		for r in $rooms; do [ "$room" = "$r" ] && okf=1; done
		[ $okf = 1 ] && continue
		echo "lint: $f includes $lib ($(grep -m1 -oE "<$re>" "$f")) outside its rooms: $rooms"
	done
done)
if [ -n "$found" ]; then
	echo "$found" >&2
	rc=1
fi

# --- 3. internals stay in their room ---
# Another room is reached through its public header (room/room.h); its
# room_int.h is for the files of that room alone.  Tests may include
# internals (they include the .c under test): only webhook/ is checked.
found=$(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*_int\.h"' $files |
	while IFS= read -r hit; do
		f=${hit%%:*}
		rel=${f#webhook/}
		room=${rel%%/*}
		[ "$room" = "$rel" ] && room=""
		inc=$(echo "$hit" | sed -E 's/.*#[[:space:]]*include[[:space:]]*"([^"]*)".*/\1/')
		case "$inc" in
		"$room"/*) [ -n "$room" ] && continue ;;
		esac
		echo "lint: $f includes $inc, another room's internals (use its public header)"
	done)
if [ -n "$found" ]; then
	echo "$found" >&2
	rc=1
fi

# --- 4. format ---
if [ "${LINT_FORMAT:-1}" = 1 ]; then
	if ! command -v clang-format >/dev/null 2>&1; then
		echo "lint: clang-format not found (make deps installs it)" >&2
		rc=1
	else
		# shellcheck disable=SC2046
		bad=$(clang-format --dry-run -Werror $(find webhook tests/unit tests/fuzz tests/bench \
			-name '*.[ch]' | sort) 2>&1 >/dev/null | sed -n 's/^\([^ :]*\):[0-9]*:[0-9]*: error: .*/\1/p' | uniq)
		if [ -n "$bad" ]; then
			echo "$bad" | sed 's/^/lint: not clang-formatted: /' >&2
			echo "lint: run \`make format\` on the files above" >&2
			rc=1
		fi
	fi
fi

[ $rc = 0 ] && echo "lint: ok"
exit $rc
