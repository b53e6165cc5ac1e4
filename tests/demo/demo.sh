#!/bin/bash
# make demo: provgate deciding against real servers, all on loopback.
#
#   - a docker-registry with TLS holding demo/signed:1.0 (signed with a cosign
#     key the way cosign signs: ECDSA P-256 over the simple-signing payload,
#     legacy sha256-<hex>.sig tag; made here with openssl) and demo/unsigned:1.0;
#   - an HTTPS chart repository (nghttpd, HTTP/2) with index.yaml, the chart
#     demo-signed-1.0.0.tgz and its .prov (clearsigned here with gpg), and
#     demo-unsigned-1.0.0.tgz without one;
#   - a policy written for them (key rule, .prov rule, allowUnsigned pause,
#     kube-system exempt), `provgate serve`, and AdmissionReviews sent with
#     curl over HTTP/2.
#
# Prints one row per reference (object, reference, decision, reason) and
# exits 0 only if every decision is the one expected.  Everything started
# here is stopped by its PID and the temporary directory is removed, also
# on failure (tests/integration/lib.sh does both at exit) — unless KEEP=1
# (`make demo KEEP=1`): then, after a successful run, the registry, the chart
# repository and provgate are left running and the next commands to try
# (and how to stop everything) are printed.
. "$(dirname "$0")/../integration/lib.sh"
. "$TOP/tests/integration/lib_registry.sh"
. "$TOP/tests/integration/lib_review.sh"
. "$TOP/tests/integration/lib_server.sh"

# Interrupted (Ctrl-C, timeout): still stop everything via lib.sh's EXIT trap.
trap 'exit 130' INT
trap 'exit 143' TERM
t_start=$(date +%s%N)
die() { echo "demo: $*" >&2; exit 1; }

for tool in /usr/bin/docker-registry nghttpd gpg gpg-connect-agent jq curl openssl tar; do
	command -v "$tool" >/dev/null || die "$tool is missing (run make deps)"
done
[ -x "$PG" ] || die "$PG is missing (run make)"

# Nothing here reads or writes the user's ~/.gnupg or ~/.docker.
export HOME="$T/home" GNUPGHOME="$T/gnupg" DOCKER_CONFIG="$T/docker"
mkdir -m 700 "$HOME" "$GNUPGHOME" "$DOCKER_CONFIG" "$T/state"
echo "demo: working in $T"

# --- registry: a signed and an unsigned image ------------------------------
registry_start || die "docker-registry does not start: $(tail -3 "$T"/registry-*.err 2>/dev/null)"
make_key cosign || die "openssl cannot make a key"
SIGNED_DG=$(make_image demo/signed 1.0) || die "push demo/signed failed"
sig_payload "$REG/demo/signed" "$SIGNED_DG" >"$T/payload.json"
layer=$(sig_layer demo/signed "$T/payload.json" "$T/cosign.key") &&
	push_sig demo/signed "$SIGNED_DG" "$layer" >/dev/null || die "push signature failed"
make_image demo/unsigned 1.0 >/dev/null || die "push demo/unsigned failed"
echo "demo: registry https://$REG: demo/signed:1.0 ($SIGNED_DG, signed), demo/unsigned:1.0"

# --- chart repository: a signed and an unsigned chart ----------------------
gpg --batch --passphrase '' --quick-gen-key "Demo Charts <charts@provgate.demo>" ed25519 sign never \
	2>"$T/gpg.err" || die "gpg cannot make a key: $(cat "$T/gpg.err")"
agent=$(gpg-connect-agent 'getinfo pid' /bye 2>/dev/null | awk '/^D /{print $2}')
[ -n "$agent" ] && PIDS+=("$agent") # gpg started it; stop it by its PID too
gpg --export charts@provgate.demo >"$T/charts.gpg" 2>>"$T/gpg.err"

WWW="$T/www"
mkdir -p "$WWW/charts"
# package NAME VERSION: $WWW/charts/NAME-VERSION.tgz from a minimal chart
package() {
	local d="$T/src/$1"
	mkdir -p "$d/templates"
	printf 'apiVersion: v2\nname: %s\nversion: %s\ndescription: provgate demo chart\n' "$1" "$2" >"$d/Chart.yaml"
	printf 'replicas: 1\n' >"$d/values.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n' >"$d/templates/cm.yaml"
	tar -C "$T/src" -czf "$WWW/charts/$1-$2.tgz" "$1"
}
# prov NAME VERSION: the Helm provenance file, as `helm package --sign` makes it
prov() {
	local tgz="$WWW/charts/$1-$2.tgz"
	{
		cat "$T/src/$1/Chart.yaml"
		printf '\n...\nfiles:\n  %s: sha256:%s\n' "$1-$2.tgz" "$(sha256sum "$tgz" | cut -d' ' -f1)"
	} | gpg --batch --yes -u charts@provgate.demo --clearsign >"$tgz.prov" 2>>"$T/gpg.err"
}
package demo-signed 1.0.0 && prov demo-signed 1.0.0 || die "chart signing failed: $(cat "$T/gpg.err")"
package demo-unsigned 1.0.0 || die "chart packaging failed"
{
	echo "apiVersion: v1"
	echo "entries:"
	for c in demo-signed demo-unsigned; do
		echo "  $c:"
		echo "  - {name: $c, version: 1.0.0, urls: [$c-1.0.0.tgz]}"
	done
} >"$WWW/charts/index.yaml"
CPORT=$(free_port)
CHARTS="https://127.0.0.1:$CPORT/charts"
bg nghttpd nghttpd --address=127.0.0.1 -d "$WWW" "$CPORT" "$PKI/server.key" "$PKI/server.pem"
wait_tcp "$CPORT" 10 || die "nghttpd does not start: $(cat "$T/nghttpd.err")"
curl -sf --cacert "$PKI/ca.pem" -o /dev/null "$CHARTS/index.yaml" || die "chart repository unreachable"
echo "demo: chart repository $CHARTS: demo-signed 1.0.0 (.prov), demo-unsigned 1.0.0"

# --- policy --------------------------------------------------------------------
mkdir -p "$T/policy"
cat >"$T/policy/demo.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ProvenancePolicy
metadata:
  name: demo
spec:
  mode: enforce
  exemptNamespaces: [kube-system]
  trust:
    keys:
      demo-release: {path: $T/cosign.pub}
    keyrings:
      demo-charts: {path: $T/charts.gpg}
  images:
    - name: demo-images
      match: ["$REG/demo/**"]
      verify:
        - cosign: {key: demo-release}
      tlog: optional        # key-signed without a Rekor upload
    - name: pause
      match: ["registry.k8s.io/pause:*"]
      allowUnsigned: true
  charts:
    - name: demo-charts
      match: ["$CHARTS/**"]
      verify:
        - prov: {keyring: demo-charts}
  registries:
    - host: $REG
      caFile: $PKI/ca.pem
EOF
"$PG" policy check "$T/policy" >"$T/check.out" 2>&1 || die "policy check: $(cat "$T/check.out")"
start_provgate "$T/policy" --ca-file "$PKI/ca.pem" --state-dir "$T/state" --timeout-ms 8000 ||
	die "provgate does not start: $(cat "$T/provgate.err")"
echo "demo: provgate serve on $PG_URL (pid $PG_PID)"
echo "demo: pids $(printf '%s ' "${PIDS[@]}")"

# --- reviews ---------------------------------------------------------------------
pod() { # NAME IMAGE
	jq -n --arg n "$1" --arg i "$2" \
		'{apiVersion: "v1", kind: "Pod", metadata: {name: $n},
		  spec: {containers: [{name: "main", image: $i}]}}'
}
app() { # NAME CHART
	jq -n --arg n "$1" --arg r "$CHARTS" --arg c "$2" \
		'{apiVersion: "argoproj.io/v1alpha1", kind: "Application", metadata: {name: $n},
		  spec: {project: "default",
			 destination: {server: "https://kubernetes.default.svc", namespace: "demo"},
			 source: {repoURL: $r, chart: $c, targetRevision: "1.0.0"}}}'
}

# object-maker|args|namespace|expected decision|expected reason (ERE)
# Decisions are per reference: allow, allow-unverified, deny, or exempt for
# an object admitted without checks.
cases() {
	cat <<EOF
pod|signed-app $REG/demo/signed:1.0|default|allow|^verified by rule demo-images
pod|unsigned-app $REG/demo/unsigned:1.0|default|deny|^no signatures found for $REG/demo/unsigned@sha256:
pod|stray nginx:1.25|default|deny|^no policy rule matches docker\.io/library/nginx:1\.25$
pod|sandbox registry.k8s.io/pause:3.9|default|allow-unverified|allowUnsigned
app|signed-chart demo-signed|argocd|allow|^verified by rule demo-charts
app|unsigned-chart demo-unsigned|argocd|deny|provenance|\.prov
pod|system-agent $REG/demo/unsigned:1.0|kube-system|exempt|^$
EOF
}

rows=() n=0 bad=0
while IFS='|' read -r maker args ns want_dec want_re; do
	read -r name arg <<<"$args"
	"$maker" "$name" "$arg" >"$T/obj.json"
	mkreview "$T/obj.json" "$ns" CREATE v1 "demo-$name" >"$T/review.json"
	cp "$T/review.json" "$T/review-$name.json" # for KEEP=1's next commands
	ver=$(pgcurl --http2 -H 'Content-Type: application/json' --data-binary @"$T/review.json" \
		-o "$T/resp.json" -w '%{http_version}' "$PG_URL/validate")
	kind=$(jq -r .kind "$T/obj.json")
	obj="$kind $ns/$name"
	n=$((n + 1))
	if [ "$ver" != 2 ] || ! jq -e '.response.uid == "demo-'"$name"'"' "$T/resp.json" >/dev/null 2>&1; then
		rows+=("$obj"$'\t'"$arg"$'\t'"error"$'\t'"no HTTP/2 answer for this review (http $ver)")
		bad=$((bad + 1))
		continue
	fi
	# auditAnnotations: decision, and ref-N = "<ref> <state> rule=<r> digest=<d>: <reason>"
	label=$(jq -r '.response.auditAnnotations.decision' "$T/resp.json")
	allowed=$(jq -r '.response.allowed' "$T/resp.json")
	if [ "$label" = exempt ]; then
		got_ref=$arg got_dec=exempt got_reason=""
		shown_reason="namespace exempt: admitted without checks"
	else
		line=$(jq -r '.response.auditAnnotations["ref-0"] // ""' "$T/resp.json")
		if [[ $line =~ ^([^ ]+)\ ([^ ]+)\ rule=([^ ]+)\ digest=([^ ]+):\ (.*)$ ]]; then
			got_ref=${BASH_REMATCH[1]} got_dec=${BASH_REMATCH[2]} got_reason=${BASH_REMATCH[5]}
			dg=${BASH_REMATCH[4]}
			[ "$dg" != none ] && got_ref="$got_ref@${dg:0:19}..."
		else
			got_ref=$arg got_dec="?" got_reason="unreadable auditAnnotations: $line"
		fi
		shown_reason=$got_reason
	fi
	verdict=ok
	if [ "$got_dec" != "$want_dec" ] || ! [[ $got_reason =~ $want_re ]]; then
		verdict=bad
	fi
	# The allowed flag must agree with the per-reference decision.
	case "$got_dec" in
	deny) [ "$allowed" = false ] || verdict=bad ;;
	*) [ "$allowed" = true ] || verdict=bad ;;
	esac
	case $verdict in
	ok) mark="" ;;
	bad) mark=" (UNEXPECTED: wanted $want_dec /$want_re/)"; bad=$((bad + 1)) ;;
	esac
	rows+=("$obj"$'\t'"$got_ref"$'\t'"$got_dec"$'\t'"$shown_reason$mark")
done < <(cases)

# --- the table ---------------------------------------------------------------------
w1=6 w2=9 w3=8
for r in "${rows[@]}"; do
	IFS=$'\t' read -r a b c _ <<<"$r"
	[ ${#a} -gt $w1 ] && w1=${#a}
	[ ${#b} -gt $w2 ] && w2=${#b}
	[ ${#c} -gt $w3 ] && w3=${#c}
done
echo
printf "%-${w1}s  %-${w2}s  %-${w3}s  %s\n" OBJECT REFERENCE DECISION REASON
printf "%-${w1}s  %-${w2}s  %-${w3}s  %s\n" "$(printf '%*s' $w1 '' | tr ' ' -)" \
	"$(printf '%*s' $w2 '' | tr ' ' -)" "$(printf '%*s' $w3 '' | tr ' ' -)" ------
for r in "${rows[@]}"; do
	IFS=$'\t' read -r a b c d <<<"$r"
	printf "%-${w1}s  %-${w2}s  %-${w3}s  %s\n" "$a" "$b" "$c" "$d"
done
echo

secs=$(( ($(date +%s%N) - t_start) / 1000000 ))
if [ "$bad" -gt 0 ]; then
	echo "demo: $bad of $n decisions NOT as expected; the server's last log lines:"
	tail -n 5 "$T/provgate.err" | sed 's/^/  stderr: /'
	tail -n "$n" "$T/provgate.out" | sed 's/^/  review: /'
	exit 1
fi
if [ "${KEEP:-0}" = 1 ]; then
	# Leave everything running: no cleanup at exit.
	trap - EXIT
	cat <<EOF
demo: KEEP=1: left running (pids ${PIDS[*]}), files in $T
  registry          https://$REG  (CA $PKI/ca.pem)
  chart repository  $CHARTS
  provgate          $PG_URL  (policy $T/policy, admission log $T/provgate.out)

Next commands to try:
  $PG verify-image $REG/demo/signed:1.0 --key $T/cosign.pub --insecure-ignore-tlog --ca-file $PKI/ca.pem
  $PG verify-chart --repo $CHARTS --version 1.0.0 demo-signed --keyring $T/charts.gpg --ca-file $PKI/ca.pem
  $PG review --policy $T/policy --ca-file $PKI/ca.pem $T/review-unsigned-app.json
  curl -s --cacert $PKI/ca.pem -H 'Content-Type: application/json' --data-binary @$T/review-signed-app.json $PG_URL/validate | jq .response
  curl -s --cacert $PKI/ca.pem $PG_URL/metrics | grep '^provgate_reviews_total'
  edit $T/policy/demo.yaml (provgate reloads it), then send a review again

Stop everything:
  kill ${PIDS[*]}; rm -rf $T
EOF
fi
echo "demo: all $n decisions as expected in $((secs / 1000)).$(printf '%03d' $((secs % 1000))) s"
exit 0
