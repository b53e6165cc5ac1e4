#!/usr/bin/env bash
# t_deploy_manifests: the deployment artifacts are well-formed and keep their
# promises.
#
#   - yamllint (.yamllint) over k8s-manifests/, policy/, certs/cert-manager.yaml,
#     the chart's values.yaml and Chart.yaml;
#   - every manifest parses as Kubernetes objects (kubectl, offline: YAML
#     syntax, apiVersion/kind, typed metadata; there is no schema offline, so
#     the fields that matter are checked one by one below with jq);
#   - the ValidatingWebhookConfiguration fails closed, has no side effects,
#     answers in time, skips provgate's namespace and kube-system, offers no
#     label-based opt-out, and covers exactly the kinds provgate checks;
#   - the Deployment is hardened and wired to its volumes, probes, Service,
#     PodDisruptionBudget, ConfigMap and RBAC;
#   - the Dockerfile is multi-stage, runs as a numeric non-root user, and
#     installs the packages that the Makefile's libraries come from;
#   - certs/gen-certs.sh makes a certificate for the Service names, writing
#     nothing outside its output directory;
#   - the chart: every .Values path exists in values.yaml, every value is
#     documented, template actions are balanced and use only a small known
#     set of functions; and, since helm is not installed, the chart is
#     rendered by tests/tools/chart_render.py (the Go-template subset the
#     chart uses, failing on anything else) for the value combinations that
#     change its structure, and each rendering is decoded and checked.
#
# sanitizers: skip (shell, jq and python checks of files; no C of ours beyond readelf of
# the binary, which the plain suite covers)
#
# kubectl is used only with --local (it never contacts a cluster).
source "$(dirname "$0")/lib.sh"

MAN="$TOP/k8s-manifests"
CHART="$TOP/charts/provgate"
VALUES="$CHART/values.yaml"
export KUBECONFIG="$T/no-kubeconfig"

have() { command -v "$1" >/dev/null 2>&1; }
HAVE_KUBECTL=0
have kubectl && HAVE_KUBECTL=1
HAVE_JQ=0
have jq && HAVE_JQ=1
JSON_OK=$((HAVE_KUBECTL && HAVE_JQ))
NOJSON="kubectl or jq not installed (YAML is converted to JSON with kubectl --local)"

# to_json FILE -> the file's documents as a JSON stream on stdout.
# `kubectl create --dry-run=client` needs an API server for its REST mapping;
# `kubectl label --local` decodes the same way without one.
to_json() {
	timeout 60 kubectl label --local -f "$1" pgcheck.provgate.dev/parsed=true -o json 2>"$T/kubectl.err"
}

# yaml_to_json FILE -> an arbitrary YAML mapping (values.yaml, Chart.yaml, a
# policy) as one JSON object, by wrapping it as .spec of an unknown kind.
yaml_to_json() {
	local line
	{
		printf 'apiVersion: pgcheck.provgate.dev/v1\nkind: Wrapped\nmetadata:\n  name: wrapped\nspec:\n'
		while IFS= read -r line || [ -n "$line" ]; do
			[ "$line" = "---" ] && continue
			printf '  %s\n' "$line"
		done <"$1"
	} >"$T/wrapped.yaml"
	timeout 60 kubectl label --local -f "$T/wrapped.yaml" pgcheck.provgate.dev/parsed=true -o json 2>"$T/kubectl.err" |
		jq -c '.spec'
}

# jcheck NAME FILE JQ-EXPR: ok if the jq expression is true on the JSON file.
jcheck() {
	local got
	got=$(jq -e -s "$3" "$2" 2>&1)
	if [ "$got" = true ]; then ok "$1"; else notok "$1" "jq '$3' gave [$got]"; fi
}

# ---------------------------------------------------------------- yamllint
lint_targets=("$MAN" "$TOP/certs/cert-manager.yaml" "$VALUES" "$CHART/Chart.yaml")
[ -d "$TOP/policy" ] && lint_targets+=("$TOP/policy")
if ! have yamllint; then
	skip "yamllint" "yamllint not installed"
elif [ ! -f "$TOP/.yamllint" ]; then
	notok "yamllint config" "$TOP/.yamllint is missing"
else
	for f in "${lint_targets[@]}"; do
		n=${f#"$TOP"/}
		if [ ! -e "$f" ]; then
			notok "yamllint $n" "missing"
		elif out=$(cd "$TOP" && yamllint -s -f parsable -c .yamllint "$n" 2>&1); then
			ok "yamllint $n"
		else
			notok "yamllint $n" "$(printf '%s' "$out" | head -5 | tr '\n' ' ')"
		fi
	done
fi

# ------------------------------------------------- manifests decode, kinds
mapfile -t MFILES < <(cd "$MAN" && ls -1 -- *.yaml 2>/dev/null)
if [ "${#MFILES[@]}" -lt 8 ]; then
	notok "manifests present" "only ${#MFILES[@]} YAML files in k8s-manifests/"
else
	ok "manifests present"
fi

ALL="$T/all.json"
: >"$ALL"
if [ "$JSON_OK" = 0 ]; then
	skip "manifests decode" "$NOJSON"
else
	for f in "${MFILES[@]}" ../certs/cert-manager.yaml; do
		if to_json "$MAN/$f" >"$T/doc.json" && [ -s "$T/doc.json" ] &&
			jq -e -s 'length > 0 and all(.[]; (.apiVersion | type) == "string"
				and (.kind | type) == "string" and (.metadata.name | length) > 0)' \
				"$T/doc.json" >/dev/null; then
			ok "decodes: ${f#../}"
			# the install itself, not the cert-manager alternative
			case "$f" in ../*) ;; *) jq -c --arg f "$f" '. + {_file: $f}' "$T/doc.json" >>"$ALL" ;; esac
		else
			notok "decodes: ${f#../}" "$(head -c 300 "$T/kubectl.err")"
		fi
	done
	# The negative case: the decoder really rejects a wrong field type.
	printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  labels:\n    a: 1\n' >"$T/bad.yaml"
	if to_json "$T/bad.yaml" >/dev/null; then
		notok "decoder rejects a wrong metadata field type" "kubectl --local accepted an integer label"
	else
		ok "decoder rejects a wrong metadata field type"
	fi

	jcheck "manifests hold every object of the install" "$ALL" \
		'[.[].kind] as $k | ["Namespace","ServiceAccount","ClusterRole","ClusterRoleBinding",
		"ConfigMap","Deployment","Service","PodDisruptionBudget",
		"ValidatingWebhookConfiguration"] | all(.[]; . as $x | $k | index($x))'
	jcheck "apply order: Namespace first, webhook configuration last" "$ALL" \
		'(.[0].kind == "Namespace") and (.[-1].kind == "ValidatingWebhookConfiguration")'
	jcheck "namespaced objects are in namespace provgate" "$ALL" \
		'all(.[] | select(.kind | IN("Namespace","ClusterRole","ClusterRoleBinding",
		"ValidatingWebhookConfiguration") | not); .metadata.namespace == "provgate")'
fi

# ------------------------------------------- ValidatingWebhookConfiguration
if [ "$JSON_OK" = 1 ] && [ -s "$ALL" ]; then
	jq -s '[.[] | select(.kind == "ValidatingWebhookConfiguration")]' "$ALL" >"$T/vwc.json"
	jq -s '[.[] | select(.kind == "Deployment")][0]' "$ALL" >"$T/deploy.json"
	W='.[0][0].webhooks'
	jcheck "webhook: exactly one configuration with webhooks" "$T/vwc.json" \
		"(.[0] | length) == 1 and ($W | length) >= 1"
	jcheck "webhook: failurePolicy Fail" "$T/vwc.json" "all($W[]; .failurePolicy == \"Fail\")"
	jcheck "webhook: sideEffects None" "$T/vwc.json" "all($W[]; .sideEffects == \"None\")"
	jcheck "webhook: admissionReviewVersions [v1]" "$T/vwc.json" \
		"all($W[]; .admissionReviewVersions == [\"v1\"])"
	jcheck "webhook: matchPolicy Equivalent" "$T/vwc.json" "all($W[]; .matchPolicy == \"Equivalent\")"
	jcheck "webhook: timeoutSeconds set and <= 30" "$T/vwc.json" \
		"all($W[]; (.timeoutSeconds | type) == \"number\" and .timeoutSeconds >= 1 and .timeoutSeconds <= 30)"
	jcheck "webhook: calls Service provgate/provgate :443 /validate" "$T/vwc.json" \
		"all($W[]; .clientConfig.service == {name: \"provgate\", namespace: \"provgate\",
		path: \"/validate\", port: 443})"
	jcheck "webhook: excludes namespaces provgate and kube-system" "$T/vwc.json" \
		"all($W[]; any(.namespaceSelector.matchExpressions[];
		.key == \"kubernetes.io/metadata.name\" and .operator == \"NotIn\"
		and (.values | index(\"provgate\")) and (.values | index(\"kube-system\"))))"
	# No self-service bypass: a namespace label is set by whoever may create
	# or label namespaces; exemptions are policy-side (exemptNamespaces).
	jcheck "webhook: no label-based opt-out (namespaceSelector only by namespace name)" "$T/vwc.json" \
		"all($W[]; (.namespaceSelector.matchLabels // {} | length) == 0
		and all(.namespaceSelector.matchExpressions[]; .key == \"kubernetes.io/metadata.name\"))"
	jcheck "webhook: every rule is CREATE+UPDATE, namespaced" "$T/vwc.json" \
		"all($W[].rules[]; (.operations | sort) == [\"CREATE\",\"UPDATE\"] and .scope == \"Namespaced\")"
	want='["/pods","/pods/ephemeralcontainers","/replicationcontrollers","/podtemplates","/secrets",
		"apps/deployments","apps/replicasets","apps/statefulsets","apps/daemonsets",
		"batch/jobs","batch/cronjobs","argoproj.io/applications",
		"helm.toolkit.fluxcd.io/helmreleases","source.toolkit.fluxcd.io/helmcharts",
		"source.toolkit.fluxcd.io/ocirepositories","source.toolkit.fluxcd.io/helmrepositories"]'
	jcheck "webhook: rules cover exactly the checked kinds" "$T/vwc.json" \
		"([$W[].rules[] | .apiGroups[] as \$g | .resources[] | \"\(\$g)/\(.)\"] | sort) == ($want | sort)"
	jcheck "webhook: secrets only with objectSelector owner=helm" "$T/vwc.json" \
		"all($W[] | select(any(.rules[]; .resources | index(\"secrets\")));
		.objectSelector.matchLabels == {owner: \"helm\"} and ([.rules[].resources[]] == [\"secrets\"]))"
	jcheck "webhook: caBundle absent or base64" "$T/vwc.json" \
		"all($W[]; (.clientConfig.caBundle // \"\") | test(\"^[A-Za-z0-9+/=]*$\"))"
	# provgate must answer (deny: verification timed out) before the API server gives up.
	tms=$(jq -r '[.spec.template.spec.containers[0].args[] | select(startswith("--timeout-ms="))
		| ltrimstr("--timeout-ms=") | tonumber][0] // empty' "$T/deploy.json")
	tsec=$(jq -r -s "[$W[].timeoutSeconds] | min" "$T/vwc.json")
	if [ -n "$tms" ] && [ -n "$tsec" ] && [ "$tms" -lt $((tsec * 1000)) ]; then
		ok "deployment --timeout-ms ($tms) below timeoutSeconds ($tsec s)"
	else
		notok "deployment --timeout-ms below timeoutSeconds" "timeout-ms [$tms] timeoutSeconds [$tsec]"
	fi
else
	skip "webhook configuration checks" "$NOJSON"
fi

# ----------------------------------------------------------- Deployment etc.
if [ "$JSON_OK" = 1 ] && [ -s "$ALL" ]; then
	D="$T/deploy.json"
	P='.[0].spec.template.spec'
	C="$P.containers[0]"
	jcheck "deployment: pod runAsNonRoot true" "$D" "$P.securityContext.runAsNonRoot == true"
	jcheck "deployment: numeric non-root user" "$D" \
		"($P.securityContext.runAsUser // $C.securityContext.runAsUser) as \$u | (\$u | type) == \"number\" and \$u > 0"
	jcheck "deployment: readOnlyRootFilesystem true" "$D" "all($P.containers[]; .securityContext.readOnlyRootFilesystem == true)"
	jcheck "deployment: container runAsNonRoot true" "$D" "all($P.containers[]; .securityContext.runAsNonRoot == true)"
	jcheck "deployment: allowPrivilegeEscalation false" "$D" "all($P.containers[]; .securityContext.allowPrivilegeEscalation == false)"
	jcheck "deployment: drops ALL capabilities" "$D" "all($P.containers[]; .securityContext.capabilities.drop == [\"ALL\"] and (.securityContext.capabilities.add // [] | length) == 0)"
	jcheck "deployment: seccomp RuntimeDefault" "$D" "$P.securityContext.seccompProfile.type == \"RuntimeDefault\""
	jcheck "deployment: >= 2 replicas with pod anti-affinity" "$D" \
		"((.[0].spec.replicas | type) == \"number\" and .[0].spec.replicas >= 2) and ($P.affinity.podAntiAffinity | length) > 0"
	jcheck "deployment: requests and limits" "$D" \
		"all($P.containers[]; .resources.requests.cpu and .resources.requests.memory and .resources.limits.memory)"
	jcheck "deployment: liveness /healthz, readiness /readyz over HTTPS" "$D" \
		"$C.livenessProbe.httpGet.path == \"/healthz\" and $C.livenessProbe.httpGet.scheme == \"HTTPS\"
		and $C.readinessProbe.httpGet.path == \"/readyz\" and $C.readinessProbe.httpGet.scheme == \"HTTPS\""
	jcheck "deployment: probes use a declared container port" "$D" \
		"$C as \$c | [\$c.ports[].name, \$c.ports[].containerPort] as \$p | (\$p | index(\$c.livenessProbe.httpGet.port))
		and (\$p | index(\$c.readinessProbe.httpGet.port))"
	jcheck "deployment: args start with the verb serve (the image's ENTRYPOINT is the binary)" "$D" \
		"$C.args[0] == \"serve\" and ($C | has(\"command\") | not)"
	jcheck "deployment: serve args name policy, cert, key, state dir" "$D" \
		"$C.args as \$a | all(\"--policy=/etc/provgate/policy\", \"--tls-cert=/etc/provgate/tls/tls.crt\",
		\"--tls-key=/etc/provgate/tls/tls.key\", \"--state-dir=/var/run/provgate\"; . as \$x | \$a | index(\$x))"
	jcheck "deployment: /var/run/provgate is an emptyDir, HOME/GNUPGHOME under it" "$D" \
		"($C.volumeMounts[] | select(.mountPath == \"/var/run/provgate\") | .name) as \$v
		| any($P.volumes[]; .name == \$v and .emptyDir)
		and all($C.env[] | select(.name == \"HOME\" or .name == \"GNUPGHOME\"); .value | startswith(\"/var/run/provgate\"))"
	jcheck "deployment: TLS secret mounted at /etc/provgate/tls" "$D" \
		"($C.volumeMounts[] | select(.mountPath == \"/etc/provgate/tls\") | .name) as \$v
		| any($P.volumes[]; .name == \$v and .secret.secretName)"
	jcheck "deployment: policy dir from the policy ConfigMap" "$ALL" \
		"([.[] | select(.kind == \"ConfigMap\") | .metadata.name]) as \$cm
		| (.[] | select(.kind == \"Deployment\") | .spec.template.spec) as \$s
		| (\$s.containers[0].volumeMounts[] | select(.mountPath == \"/etc/provgate/policy\") | .name) as \$v
		| [\$s.volumes[] | select(.name == \$v) | (.configMap.name, .projected.sources[]?.configMap.name) | strings] as \$used
		| (\$used | length) > 0 and all(\$used[]; . as \$n | \$cm | index(\$n))"
	jcheck "service: 443 -> the container's https port, selector matches the pods" "$ALL" \
		"(.[] | select(.kind == \"Deployment\")) as \$d | (.[] | select(.kind == \"Service\" and .metadata.name == \"provgate\")) as \$s
		| (\$s.spec.ports[0].port == 443)
		and (\$d.spec.template.spec.containers[0].ports | any(.name == \$s.spec.ports[0].targetPort or .containerPort == \$s.spec.ports[0].targetPort))
		and (\$d.spec.template.spec.containers[0].ports | any(.containerPort == 8443))
		and (\$s.spec.selector | to_entries | all(.key as \$k | .value == \$d.spec.template.metadata.labels[\$k]))
		and (\$s.metadata.name == \"provgate\")"
	jcheck "deployment: selector matches its pod labels" "$D" \
		".[0] as \$d | (\$d.spec.selector.matchLabels | length) > 0 and (\$d.spec.selector.matchLabels | to_entries | all(.key as \$k | .value == \$d.spec.template.metadata.labels[\$k]))"
	jcheck "pdb: minAvailable 1, selects the provgate pods" "$ALL" \
		"(.[] | select(.kind == \"Deployment\")) as \$d | (.[] | select(.kind == \"PodDisruptionBudget\")) as \$p
		| \$p.spec.minAvailable == 1
		and (\$p.spec.selector.matchLabels | to_entries | all(.key as \$k | .value == \$d.spec.template.metadata.labels[\$k]))"
	jcheck "rbac: get/list/watch helmrepositories, bound to the pods' ServiceAccount" "$ALL" \
		"(.[] | select(.kind == \"Deployment\") | .spec.template.spec.serviceAccountName) as \$sa
		| (.[] | select(.kind == \"ClusterRole\")) as \$r | (.[] | select(.kind == \"ClusterRoleBinding\")) as \$b
		| any(\$r.rules[]; (.apiGroups | index(\"source.toolkit.fluxcd.io\")) and (.resources | index(\"helmrepositories\"))
			and ((.verbs | sort) == [\"get\",\"list\",\"watch\"]))
		and all(\$r.rules[]; (.verbs | index(\"*\") | not) and (.resources | index(\"*\") | not) and (.resources | index(\"secrets\") | not))
		and \$b.roleRef.name == \$r.metadata.name
		and any(\$b.subjects[]; .kind == \"ServiceAccount\" and .name == \$sa and .namespace == \"provgate\")
		and any(.[]; .kind == \"ServiceAccount\" and .metadata.name == \$sa)"

	# The default policy in the ConfigMap: a ProvenancePolicy in enforce mode
	# that exempts kube-system and provgate.
	jq -r -s '[.[] | select(.kind == "ConfigMap")][0].data["default.yaml"] // empty' "$ALL" >"$T/default-policy.yaml"
	if [ -s "$T/default-policy.yaml" ] && to_json "$T/default-policy.yaml" >"$T/default-policy.json"; then
		jcheck "policy ConfigMap: default.yaml is ProvenancePolicy, enforce, exempts kube-system+provgate" \
			"$T/default-policy.json" \
			'.[0] | .apiVersion == "provgate.dev/v1alpha1" and .kind == "ProvenancePolicy"
			and .spec.mode == "enforce" and (.spec.exemptNamespaces | sort) == ["kube-system","provgate"]'
		if [ -f "$TOP/policy/default.yaml" ]; then
			if to_json "$TOP/policy/default.yaml" >"$T/repo-policy.json"; then
				a=$(jq -c -s '[.[] | select(.kind == "ProvenancePolicy") | .spec | {mode, e: (.exemptNamespaces | sort)}]' "$T/repo-policy.json")
				b=$(jq -c -s '[.[] | .spec | {mode, e: (.exemptNamespaces | sort)}]' "$T/default-policy.json")
				expect_eq "policy ConfigMap agrees with policy/default.yaml (mode, exemptions)" "$b" "$a"
			else
				notok "policy/default.yaml decodes" "$(head -c 300 "$T/kubectl.err")"
			fi
		fi
	else
		notok "policy ConfigMap: default.yaml" "missing or does not parse"
	fi
else
	skip "deployment checks" "$NOJSON"
fi

# --------------------------------------------------------------- Dockerfile
DF="$TOP/Dockerfile"
if [ ! -f "$DF" ]; then
	notok "Dockerfile present" "missing"
else
	# Join continuation lines, drop comments; split into stages.
	df=""
	cont=""
	while IFS= read -r line || [ -n "$line" ]; do
		[[ "$line" =~ ^[[:space:]]*# ]] && continue
		if [[ "$line" =~ \\$ ]]; then cont+="${line%\\} "; continue; fi
		df+="$cont$line"$'\n'
		cont=""
	done <"$DF"
	nfrom=$(grep -ciE '^[[:space:]]*FROM[[:space:]]' <<<"$df")
	if [ "$nfrom" -ge 2 ] && grep -qiE '^[[:space:]]*COPY[[:space:]]+--from=' <<<"$df"; then
		ok "Dockerfile: multi-stage ($nfrom stages, COPY --from)"
	else
		notok "Dockerfile: multi-stage" "$nfrom FROM lines"
	fi
	final=""
	build_stage=""
	stage=0
	while IFS= read -r line; do
		if [[ "$line" =~ ^[[:space:]]*[Ff][Rr][Oo][Mm][[:space:]] ]]; then stage=$((stage + 1)); final=""; fi
		[ "$stage" = 1 ] && build_stage+="$line"$'\n'
		final+="$line"$'\n'
	done <<<"$df"
	expect_match "Dockerfile: stages on debian bookworm" \
		"$(grep -iE '^[[:space:]]*FROM' <<<"$df" | tr '\n' ' ')" \
		'^FROM debian:bookworm(-slim)?( |$).*FROM debian:bookworm(-slim)?( |$)'
	user=$(grep -iE '^[[:space:]]*USER[[:space:]]' <<<"$final" | tail -1 | sed -E 's/^[[:space:]]*USER[[:space:]]+//I; s/[[:space:]]+$//')
	uid=${user%%:*}
	if [[ "$uid" =~ ^[0-9]+$ ]] && [ "$uid" -gt 0 ]; then
		ok "Dockerfile: final stage runs as numeric non-root USER $user"
	else
		notok "Dockerfile: final stage runs as numeric non-root USER" "USER [$user]"
	fi
	expect_match "Dockerfile: EXPOSE 8443" "$(grep -iE '^[[:space:]]*EXPOSE' <<<"$final")" '^[[:space:]]*EXPOSE[[:space:]]+8443$'
	expect_match "Dockerfile: ENTRYPOINT [\"provgate\"] (the verb is the command)" \
		"$(grep -iE '^[[:space:]]*ENTRYPOINT' <<<"$final")" '^[[:space:]]*ENTRYPOINT \["provgate"\][[:space:]]*$'
	expect_match "Dockerfile: CMD serve with policy, tls, state dir" \
		"$(grep -iE '^[[:space:]]*CMD' <<<"$final")" \
		'^[[:space:]]*CMD \["serve", *"--policy", *"/etc/provgate/policy".*/etc/provgate/tls/tls\.crt.*/etc/provgate/tls/tls\.key.*--state-dir", *"/var/run/provgate'
	labels=$(grep -iE '^[[:space:]]*LABEL' <<<"$final")
	missing=""
	for l in title description source version; do
		grep -q "org\.opencontainers\.image\.$l=" <<<"$labels" || missing+=" $l"
	done
	expect_eq "Dockerfile: OCI image labels (title, description, source, version)" "${missing:-none}" "none"
	expect_match "Dockerfile: version label from the VERSION build argument" \
		"$(grep -E '^ARG VERSION' <<<"$final" | head -1) $labels" \
		'^ARG VERSION.*org\.opencontainers\.image\.version="\$\{VERSION\}"'
	expect_match "Dockerfile: HOME and GNUPGHOME under /var/run/provgate" "$final" \
		'HOME=/var/run/provgate.*GNUPGHOME=/var/run/provgate'
	expect_match "Dockerfile: build stage runs make" "$build_stage" 'RUN .*make'
	# Packages named on an apt-get install line of a stage.
	pkgs_of() { grep -oE 'apt-get install[^&;]*' <<<"$1" | tr -s ' \t' '\n\n' | grep -vE '^(apt-get|install|-.*|)$' | sort -u; }
	final_pkgs=$(pkgs_of "$final")
	build_pkgs=$(pkgs_of "$build_stage")
	missing=""
	for p in libh2o-evloop0.13 libjansson4 libyaml-0-2 libgpgme11 libcurl4 libssl3 zlib1g gnupg gpgv gpg-agent ca-certificates; do
		grep -qx "$p" <<<"$final_pkgs" || missing+=" $p"
	done
	expect_eq "Dockerfile: runtime packages in the final stage" "${missing:-none}" "none"
	expect_eq "Dockerfile: no compiler or -dev package in the final stage" \
		"$(grep -E -- '-dev$|^(gcc|make|git|pkg-config)$' <<<"$final_pkgs" | tr '\n' ' ')" ""
	# Every library the Makefile builds against must come from a package the
	# build stage installs, so a new dependency cannot be forgotten here.
	if have dpkg-query && have pkg-config; then
		owner() { # PATH -> package owning it (usrmerge: try /usr and / forms)
			local f=$1 o
			for f in "$1" "/usr${1#/usr}" "${1#/usr}"; do
				o=$(dpkg-query -S "$f" 2>/dev/null | head -1 | cut -d: -f1) && [ -n "$o" ] && { echo "$o"; return; }
			done
		}
		mk_pkgs=$(grep -E '^PKGS[[:space:]]*=' "$TOP/Makefile" | cut -d= -f2-)
		mk_libs=$(grep -E '^LDLIBS[[:space:]]*=' "$TOP/Makefile" | grep -oE -- '-l[A-Za-z0-9_]+' | cut -c3-)
		missing=""
		for pc in $mk_pkgs; do
			f=$(pkg-config --path "$pc" 2>/dev/null)
			o=$([ -n "$f" ] && owner "$(realpath -s "$f")")
			if [ -z "$o" ]; then missing+=" $pc(no .pc owner)"; elif ! grep -qx "$o" <<<"$build_pkgs"; then missing+=" $o"; fi
		done
		for l in $mk_libs; do
			f=$(gcc -print-file-name="lib$l.so" 2>/dev/null)
			[ -e "$f" ] || f=$(gcc -print-file-name="lib$l.a" 2>/dev/null)
			o=$([ -e "$f" ] && owner "$(realpath -s "$f")")
			if [ -z "$o" ]; then missing+=" -l$l(no owner)"; elif ! grep -qx "$o" <<<"$build_pkgs"; then missing+=" $o"; fi
		done
		expect_eq "Dockerfile: build stage installs the Makefile's -dev packages" "${missing:-none}" "none"
		if [ -x "$PG" ] && have readelf; then
			missing=""
			for so in $(readelf -d "$PG" | grep -oE 'Shared library: \[[^]]+\]' | grep -oE '\[.*\]' | tr -d '[]'); do
				f=$(ldconfig -p | grep -E "^[[:space:]]$so " | grep -v lib32 | head -1 | sed 's/.*=> //')
				o=$([ -n "$f" ] && owner "$f")
				if [ -z "$o" ]; then missing+=" $so(no owner)"; continue; fi
				case "$o" in libc6 | libgcc-s1) continue ;; esac # in every Debian image
				# sanitizer runtimes of `make asan` builds are not in release images
				case "$o" in libasan* | libubsan* | liblsan* | libtsan*) continue ;; esac
				grep -qx "$o" <<<"$final_pkgs" || missing+=" $o"
			done
			expect_eq "Dockerfile: final stage installs the binary's shared libraries" "${missing:-none}" "none"
		else
			skip "Dockerfile: binary's shared libraries" "$PG not built"
		fi
	else
		skip "Dockerfile: packages match the Makefile" "dpkg-query or pkg-config missing"
	fi
	if [ -f "$TOP/.dockerignore" ] && grep -qx '\.git' "$TOP/.dockerignore" &&
		! grep -qE '^(webhook|Makefile)/?$' "$TOP/.dockerignore"; then
		ok ".dockerignore: excludes .git, keeps webhook/ and Makefile"
	else
		notok ".dockerignore: excludes .git, keeps webhook/ and Makefile"
	fi
fi

# ------------------------------------------------------------ gen-certs.sh
GEN="$TOP/certs/gen-certs.sh"
if ! have openssl; then
	skip "gen-certs.sh" "openssl not installed"
elif [ ! -x "$GEN" ]; then
	notok "gen-certs.sh executable" "$GEN"
else
	mkdir -p "$T/cwd" "$T/home"
	(cd "$T/cwd" && HOME="$T/home" "$GEN" -o out >"$T/gen.out" 2>"$T/gen.err")
	rc=$?
	expect_eq "gen-certs.sh exits 0" "$rc" "0"
	O="$T/cwd/out"
	check "gen-certs.sh writes ca.crt tls.crt tls.key" test -s "$O/ca.crt" -a -s "$O/tls.crt" -a -s "$O/tls.key"
	expect_eq "gen-certs.sh writes only its output directory" \
		"$(cd "$T/cwd" && ls -A) | $(ls -A "$T/home")" "out | "
	expect_eq "gen-certs.sh leaves no temporary files" "$(ls -A "$O" | tr '\n' ' ')" \
		"ca-bundle.b64 ca.crt ca.key tls.crt tls.key "
	txt=$(openssl x509 -in "$O/tls.crt" -noout -text 2>&1)
	expect_match "cert SAN: provgate.provgate.svc" "$txt" 'DNS:provgate\.provgate\.svc(,|$)'
	expect_match "cert SAN: provgate.provgate.svc.cluster.local" "$txt" 'DNS:provgate\.provgate\.svc\.cluster\.local'
	expect_match "cert EKU: serverAuth" "$(tr '\n' ' ' <<<"$txt")" 'Extended Key Usage:[[:space:]]*TLS Web Server Authentication'
	expect_match "cert key: P-256 or RSA-2048" "$txt" '(NIST CURVE: P-256|Public-Key: \(2048 bit\))'
	expect_match "cert is not a CA" "$txt" 'CA:FALSE'
	check "cert verifies against ca.crt for TLS server use" \
		openssl verify -CAfile "$O/ca.crt" -purpose sslserver "$O/tls.crt"
	kp1=$(openssl x509 -in "$O/tls.crt" -noout -pubkey 2>/dev/null)
	kp2=$(openssl pkey -in "$O/tls.key" -pubout 2>/dev/null)
	if [ -n "$kp1" ] && [ "$kp1" = "$kp2" ]; then ok "tls.key matches tls.crt"; else notok "tls.key matches tls.crt"; fi
	expect_eq "private keys are mode 600" "$(stat -c %a "$O/tls.key" "$O/ca.key" | tr '\n' ' ')" "600 600 "
	bundle=$(tr -d '\n' <"$T/gen.out")
	expect_eq "printed caBundle is base64 of ca.crt" "$bundle" "$(openssl base64 -A -in "$O/ca.crt")"
	(cd "$T/cwd" && "$GEN" -n gate -s hook -o out >"$T/gen2.out" 2>/dev/null)
	txt=$(openssl x509 -in "$O/tls.crt" -noout -text 2>&1)
	expect_match "gen-certs.sh -n/-s: SANs follow the names" "$txt" 'DNS:hook\.gate\.svc, DNS:hook\.gate\.svc\.cluster\.local'
	expect_eq "gen-certs.sh reuses the CA of its output directory" "$(tr -d '\n' <"$T/gen2.out")" "$bundle"
	(cd "$T/cwd" && "$GEN" -n 'x;touch pwned' -o out2 >/dev/null 2>&1)
	rc=$?
	expect_eq "gen-certs.sh rejects a namespace that is not a DNS label" "$rc:$(ls -A "$T/cwd" | tr '\n' ' ')" "2:out "
fi

# -------------------------------------------------------------------- chart
check "chart: Chart.yaml, values.yaml, templates present" \
	test -f "$CHART/Chart.yaml" -a -f "$VALUES" -a -d "$CHART/templates"

# Every key of values.yaml has a comment line directly above it (keys inside
# block scalars, e.g. the policy text, are content, not keys).
undocumented=""
prev=""
block=-1
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	ind=${line%%[! ]*}
	if [ "$block" -ge 0 ]; then
		if [ -z "${line// /}" ] || [ "${#ind}" -gt "$block" ]; then continue; fi
		block=-1
	fi
	if [[ "$line" =~ ^(\ *)([A-Za-z0-9_.\"/-]+):([[:space:]]|$) ]]; then
		key=${BASH_REMATCH[2]}
		kind=${#BASH_REMATCH[1]}
		[[ "$prev" =~ ^[[:space:]]*# ]] || undocumented+=" $key(line $lineno)"
		[[ "$line" =~ :[[:space:]]*[\|\>][-+0-9]*[[:space:]]*$ ]] && block=$kind
	fi
	prev=$line
done <"$VALUES"
expect_eq "chart: every value in values.yaml has a comment" "${undocumented:-none}" "none"

# Template actions: {{ and }} balance, blocks open and close, and only a
# small set of functions is used (anything else needs a real helm render).
allowed=" if else end range with define include required quote nindent toYaml not and or eq gt int printf b64enc list index lookup genCA genSignedCert nil "
bad=""
for f in "$CHART"/templates/*; do
	n=${f##*/}
	s=$(<"$f")
	o=$(grep -o '{{' <<<"$s" | wc -l)
	c=$(grep -o '}}' <<<"$s" | wc -l)
	[ "$o" = "$c" ] || bad+=" $n:{{$o/}}$c"
	acts=$(grep -oE '\{\{-?[^}]*-?\}\}' <<<"$s" | grep -v '^{{/\*' | grep -vE '^\{\{-? */\*')
	opens=$(grep -cE '^\{\{-? *(if|range|define|with) ' <<<"$acts")
	ends=$(grep -cE '^\{\{-? *end *-?\}\}' <<<"$acts")
	[ "$opens" = "$ends" ] || bad+=" $n:blocks($opens/$ends)"
	while IFS= read -r w; do
		[ -z "$w" ] && continue
		[[ "$allowed" == *" $w "* ]] || bad+=" $n:$w"
	done < <(sed -E 's/"[^"]*"//g' <<<"$acts" | grep -oE '(^|[^.$A-Za-z0-9_])[a-zA-Z][A-Za-z0-9_]*' |
		grep -oE '[a-zA-Z][A-Za-z0-9_]*' | sort -u)
	while IFS= read -r r; do
		[ -z "$r" ] && continue
		case "$r" in .Release.Name | .Release.Namespace | .Release.Service | .Chart.Name | .Chart.Version | .Chart.AppVersion) ;; *) bad+=" $n:$r" ;; esac
	done < <(grep -oE '\.(Release|Chart|Capabilities|Files|Template)[A-Za-z.]*' <<<"$acts" | sort -u)
done
expect_eq "chart: template actions balanced, only known functions and objects" "${bad:-none}" "none"

# .Values paths used by the templates.
mapfile -t VPATHS < <(cat "$CHART"/templates/* | grep -oE '\.Values(\.[A-Za-z0-9_]+)+' | sort -u)
if [ "${#VPATHS[@]}" -lt 10 ]; then
	notok "chart: templates use values" "only ${#VPATHS[@]} .Values paths found"
fi
missing=""
for p in "${VPATHS[@]}"; do
	leaf=${p##*.}
	grep -qE "^[[:space:]]*$leaf:" "$VALUES" || missing+=" $p"
done
expect_eq "chart: every .Values leaf key appears in values.yaml" "${missing:-none}" "none"

if [ "$JSON_OK" = 1 ] && yaml_to_json "$VALUES" >"$T/values.json" && [ -s "$T/values.json" ]; then
	missing=""
	for p in "${VPATHS[@]}"; do
		jq -e --arg p "${p#.Values.}" 'getpath($p | split(".")) != null' "$T/values.json" >/dev/null || missing+=" $p"
	done
	expect_eq "chart: every .Values path exists in values.yaml" "${missing:-none}" "none"
	jcheck "chart values: failurePolicy Fail, timeoutSeconds <= 30, timeoutMs below it" "$T/values.json" \
		'.[0] | .webhook.failurePolicy == "Fail" and .webhook.timeoutSeconds <= 30
		and .server.timeoutMs < .webhook.timeoutSeconds * 1000'
	jcheck "chart values: >= 2 replicas, kube-system excluded, no opt-out label, mutate off" "$T/values.json" \
		'.[0] | .replicaCount >= 2 and (.webhook.excludedNamespaces | index("kube-system"))
		and (.webhook | has("optOutLabel") | not) and .podDisruptionBudget.minAvailable == 1
		and .mutate.enabled == false'
	if [ -s "$ALL" ]; then
		a=$(jq -r '.[0].policy.files["default.yaml"]' -s "$T/values.json")
		b=$(jq -r -s '[.[] | select(.kind == "ConfigMap")][0].data["default.yaml"]' "$ALL")
		expect_eq "chart default policy is the manifests' default policy" "$a" "$b"
	fi
	if yaml_to_json "$CHART/Chart.yaml" >"$T/chart.json" && [ -s "$T/chart.json" ]; then
		jcheck "Chart.yaml: apiVersion v2, name provgate, version" "$T/chart.json" \
			'.[0] | .apiVersion == "v2" and .name == "provgate" and (.version | test("^[0-9]+\\.[0-9]+\\.[0-9]+"))'
	else
		notok "Chart.yaml parses" "$(head -c 300 "$T/kubectl.err")"
	fi
else
	skip "chart: .Values paths resolve in values.yaml" "$NOJSON"
fi

# The chart's webhook and Deployment templates keep the same promises as the
# plain manifests (checked textually: the templates are not rendered).
VT="$CHART/templates/validatingwebhookconfiguration.yaml"
DT="$CHART/templates/deployment.yaml"
missing=""
for r in pods pods/ephemeralcontainers replicationcontrollers podtemplates secrets deployments replicasets \
	statefulsets daemonsets jobs cronjobs applications helmreleases helmcharts ocirepositories helmrepositories; do
	grep -qE "resources:.*\"$r\"" "$VT" || missing+=" $r"
done
expect_eq "chart webhook template: rules name every checked resource" "${missing:-none}" "none"
missing=""
for pat in 'sideEffects: None' 'admissionReviewVersions: \["v1"\]' 'matchPolicy: Equivalent' \
	'key: kubernetes.io/metadata.name' 'operator: NotIn' '- \{\{ \.Release\.Namespace \}\}' \
	'cert-manager.io/inject-ca-from' 'caBundle: \{\{ required'; do
	n=$(cat "$VT" "$CHART/templates/_helpers.tpl" | grep -cE -- "$pat")
	[ "$n" -ge 1 ] || missing+=" [$pat]"
done
expect_eq "chart webhook template: selectors, side effects, caBundle" "${missing:-none}" "none"
missing=""
for pat in 'runAsNonRoot: true' 'readOnlyRootFilesystem: true' 'allowPrivilegeEscalation: false' \
	'drop: \["ALL"\]' 'type: RuntimeDefault' 'path: /healthz' 'path: /readyz' 'scheme: HTTPS' \
	'mountPath: /var/run/provgate' 'emptyDir:' '--state-dir=/var/run/provgate' 'podAntiAffinity:'; do
	grep -qE -- "$pat" "$DT" || missing+=" [$pat]"
done
expect_eq "chart deployment template: hardening, probes, state dir" "${missing:-none}" "none"

# ------------------------------------------------- optional manifests
OPT="$MAN/optional"
if [ "$JSON_OK" = 1 ] && [ -s "$ALL" ]; then
	for f in 40-validatingwebhookconfiguration-cert-manager.yaml 50-mutatingwebhookconfiguration.yaml 60-networkpolicy.yaml; do
		if to_json "$OPT/$f" >"$T/opt-$f.json" && [ -s "$T/opt-$f.json" ]; then
			ok "decodes: optional/$f"
		else
			notok "decodes: optional/$f" "$(head -c 300 "$T/kubectl.err")"
		fi
	done
	# The cert-manager variant: the same webhooks, with the cainjector
	# annotation instead of a caBundle, and cert-manager's namespace skipped.
	base=$(jq -c '.webhooks | map(del(.clientConfig.caBundle)
		| .namespaceSelector.matchExpressions[0].values += ["cert-manager"])' "$T/vwc.json" 2>/dev/null ||
		jq -c -s '.[0][0].webhooks | map(del(.clientConfig.caBundle)
		| .namespaceSelector.matchExpressions[0].values += ["cert-manager"])' "$T/vwc.json")
	cm=$(jq -c '.webhooks' "$T/opt-40-validatingwebhookconfiguration-cert-manager.yaml.json")
	expect_eq "manifests cert-manager variant: same webhooks, no caBundle, cert-manager skipped" "$cm" "$base"
	jcheck "manifests cert-manager variant: inject-ca-from provgate/provgate-serving, no caBundle" \
		"$T/opt-40-validatingwebhookconfiguration-cert-manager.yaml.json" \
		'.[0] | .metadata.annotations["cert-manager.io/inject-ca-from"] == "provgate/provgate-serving"
		and all(.webhooks[]; .clientConfig | has("caBundle") | not)'
	jcheck "manifests mutate: Pods CREATE only, /mutate, IfNeeded, no label opt-out" \
		"$T/opt-50-mutatingwebhookconfiguration.yaml.json" \
		'.[0] | .kind == "MutatingWebhookConfiguration" and (.webhooks | length) == 1
		and .webhooks[0].rules == [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"],
			resources: ["pods"], scope: "Namespaced"}]
		and .webhooks[0].clientConfig.service.path == "/mutate"
		and .webhooks[0].reinvocationPolicy == "IfNeeded" and .webhooks[0].sideEffects == "None"
		and all(.webhooks[0].namespaceSelector.matchExpressions[]; .key == "kubernetes.io/metadata.name")'
	jcheck "manifests: metrics Service on the container's metrics port, --metrics-listen matches" "$ALL" \
		'(.[] | select(.kind == "Deployment") | .spec.template.spec.containers[0]) as $c
		| (.[] | select(.kind == "Service" and .metadata.name == "provgate-metrics")) as $s
		| ($c.ports | any(.name == "metrics" and .containerPort == 9090))
		and ($c.args | index("--metrics-listen=0.0.0.0:9090"))
		and $s.spec.ports == [{name: "metrics", port: 9090, targetPort: "metrics", protocol: "TCP"}]'
	jcheck "manifests networkpolicy: ingress only to ports 8443 and 9090" "$T/opt-60-networkpolicy.yaml.json" \
		'.[0] | .spec.policyTypes == ["Ingress"] and ([.spec.ingress[].ports[].port] | sort) == [8443, 9090]'
fi
if grep -rqs 'provgate.dev/ignore' "$MAN" "$CHART"; then
	notok "no provgate.dev/ignore label anywhere in the chart or manifests" "$(grep -rl 'provgate.dev/ignore' "$MAN" "$CHART")"
else
	ok "no provgate.dev/ignore label anywhere in the chart or manifests"
fi

# --------------------------------------------------------- chart renders
# render NAME [--set-json PATH=JSON]... : the chart rendered to $T/r-NAME.yaml
# and decoded to $T/r-NAME.json (one JSON array of objects); rc in RRC.
RENDER="$TOP/tests/tools/chart_render.py"
render() {
	local n=$1
	shift
	python3 "$RENDER" "$CHART" "$@" >"$T/r-$n.yaml" 2>"$T/r-$n.err"
	RRC=$?
	[ "$RRC" = 0 ] || return 1
	to_json "$T/r-$n.yaml" | jq -s '[.[] | if .kind == "List" then .items[] else . end]' >"$T/r-$n.json"
}
# rj NAME JQ: jq over the decoded objects of a render
rcheck() { jcheck "$1" "$T/r-$2.json" ".[0] as \$o | $3"; }
if ! command -v python3 >/dev/null || ! python3 -c 'import yaml' 2>/dev/null; then
	skip "chart renders" "python3 with PyYAML not installed"
elif [ "$JSON_OK" = 0 ]; then
	skip "chart renders" "$NOJSON"
else
	CA='--set-json webhook.caBundle="Y2E="'
	# shellcheck disable=SC2086
	if render def $CA; then ok "render: defaults + caBundle"; else notok "render: defaults" "$(cat "$T/r-def.err")"; fi
	rcheck "render defaults: the objects of the install" def \
		'([$o[].kind] | sort) == (["ClusterRole","ClusterRoleBinding","ConfigMap","Deployment",
		"PodDisruptionBudget","Service","Service","ServiceAccount","ValidatingWebhookConfiguration"] | sort)'
	rcheck "render defaults: standard labels on every object" def \
		'all($o[]; .metadata.labels["helm.sh/chart"] == "provgate-0.1.0"
		and .metadata.labels["app.kubernetes.io/name"] == "provgate"
		and .metadata.labels["app.kubernetes.io/instance"] == "provgate"
		and .metadata.labels["app.kubernetes.io/version"] == "0.1.0"
		and .metadata.labels["app.kubernetes.io/managed-by"] == "Helm")'
	rcheck "render defaults: webhook is a post-install/upgrade hook (active only once ready)" def \
		'($o[] | select(.kind == "ValidatingWebhookConfiguration") | .metadata.annotations)
		== {"helm.sh/hook": "post-install,post-upgrade", "helm.sh/hook-delete-policy": "before-hook-creation"}'
	rcheck "render defaults: webhooks equal the plain manifests' (caBundle aside)" def \
		"([\$o[] | select(.kind == \"ValidatingWebhookConfiguration\") | .webhooks[] | del(.clientConfig.caBundle)])
		== $(jq -c -s '[.[0][0].webhooks[] | del(.clientConfig.caBundle)]' "$T/vwc.json")"
	rcheck "render defaults: Deployment equals the plain manifest's pod spec" def \
		"(\$o[] | select(.kind == \"Deployment\") | .spec.template.spec | del(.containers[0].image))
		== $(jq -c '.spec.template.spec | del(.containers[0].image)' "$T/deploy.json")"
	rcheck "render defaults: no mutating webhook, no NetworkPolicy, no ServiceMonitor" def \
		'all($o[]; .kind | IN("MutatingWebhookConfiguration","NetworkPolicy","ServiceMonitor","Secret") | not)'

	# shellcheck disable=SC2086
	render one $CA --set-json replicaCount=1 || notok "render replicaCount=1" "$(cat "$T/r-one.err")"
	rcheck "render replicaCount=1: no PodDisruptionBudget" one \
		'([$o[] | select(.kind == "PodDisruptionBudget")] | length) == 0
		and ($o[] | select(.kind == "Deployment") | .spec.replicas) == 1'

	render nobundle || true
	expect_eq "render: no caBundle, no cert-manager, no generate -> fails with the reason" \
		"$RRC $(grep -c 'webhook.caBundle is required' "$T/r-nobundle.err")" "1 1"
	# Its own namespace is never checked: installed into "default", every
	# workload of that namespace would run unchecked.
	render indefault $CA --namespace default || true
	expect_eq "render: into namespace default -> fails with the reason" \
		"$RRC $(grep -c 'install provgate into a namespace of its own' "$T/r-indefault.err")" "1 1"
	render inown $CA --namespace gatekeeping || notok "render into another namespace" "$(cat "$T/r-inown.err")"
	rcheck "render into namespace gatekeeping: that namespace is the one skipped" inown \
		'[$o[] | select(.kind == "ValidatingWebhookConfiguration") | .webhooks[].namespaceSelector.matchExpressions[0].values[0]] | unique == ["gatekeeping"]'

	# With a client CA the kubelet's probes (no client certificate) go to the
	# plain listener, which runs even with metrics off.
	render mtls $CA --set-json server.clientCA.secretName='"apiserver-ca"' --set-json metrics.enabled=false ||
		notok "render clientCA" "$(cat "$T/r-mtls.err")"
	rcheck "render clientCA: probes on the plain metrics port, which runs with metrics off" mtls \
		'($o[] | select(.kind == "Deployment") | .spec.template.spec.containers[0]) as $c
		| $c.livenessProbe.httpGet == {path: "/healthz", port: "metrics", scheme: "HTTP"}
		and $c.readinessProbe.httpGet == {path: "/readyz", port: "metrics", scheme: "HTTP"}
		and ($c.args | index("--metrics-listen=0.0.0.0:9090")) and ($c.args | index("--client-ca=/etc/provgate/client-ca/ca.crt"))
		and ([$c.ports[].name] | index("metrics"))'
	rcheck "render defaults: probes over HTTPS on the webhook port" def \
		'($o[] | select(.kind == "Deployment") | .spec.template.spec.containers[0].readinessProbe.httpGet) == {path: "/readyz", port: "https", scheme: "HTTPS"}'
	render cm --set-json certManager.enabled=true --set-json certManager.namespace='"cm-system"' ||
		notok "render certManager" "$(cat "$T/r-cm.err")"
	rcheck "render certManager: inject-ca-from, no caBundle, cert-manager namespace skipped" cm \
		'($o[] | select(.kind == "ValidatingWebhookConfiguration")) as $v
		| $v.metadata.annotations["cert-manager.io/inject-ca-from"] == "provgate/provgate-serving"
		and all($v.webhooks[]; (.clientConfig | has("caBundle") | not)
		and (.namespaceSelector.matchExpressions[0].values | index("cm-system")))
		and ([$o[] | select(.kind == "Certificate")] | length) == 2'

	render gen --set-json tls.generate=true --set-json mutate.enabled=true --set-json fullnameOverride='"gate"' ||
		notok "render tls.generate" "$(cat "$T/r-gen.err")"
	rcheck "render tls.generate: TLS Secret kept on uninstall, its ca.crt is every webhook's caBundle" gen \
		'($o[] | select(.kind == "Secret")) as $s
		| $s.type == "kubernetes.io/tls" and $s.metadata.annotations["helm.sh/resource-policy"] == "keep"
		and ([$o[] | select(.kind | test("WebhookConfiguration$")) | .webhooks[].clientConfig.caBundle] | unique)
		== [$s.data["ca.crt"]]'
	jq -r '.[] | select(.kind == "Secret") | .data["ca.crt"]' "$T/r-gen.json" | base64 -d >"$T/gen-ca.pem"
	jq -r '.[] | select(.kind == "Secret") | .data["tls.crt"]' "$T/r-gen.json" | base64 -d >"$T/gen-tls.pem"
	jq -r '.[] | select(.kind == "Secret") | .data["tls.key"]' "$T/r-gen.json" | base64 -d >"$T/gen-tls.key"
	check "render tls.generate: serving certificate verifies against the generated CA" \
		openssl verify -CAfile "$T/gen-ca.pem" -purpose sslserver "$T/gen-tls.pem"
	expect_match "render tls.generate: SANs follow fullnameOverride" \
		"$(openssl x509 -in "$T/gen-tls.pem" -noout -ext subjectAltName 2>&1)" 'DNS:gate\.provgate\.svc, DNS:gate\.provgate\.svc\.cluster\.local'
	expect_eq "render tls.generate: key matches certificate" \
		"$(openssl x509 -in "$T/gen-tls.pem" -noout -pubkey 2>&1)" "$(openssl pkey -in "$T/gen-tls.key" -pubout 2>&1)"
	rcheck "render fullnameOverride: objects and webhook service named gate" gen \
		'all($o[] | select(.kind | IN("Deployment","ServiceAccount","ClusterRole")); .metadata.name == "gate")
		and all($o[] | select(.kind | test("WebhookConfiguration$")) | .webhooks[]; .clientConfig.service.name == "gate")
		and ([$o[] | select(.kind == "Service") | .metadata.name] | sort) == ["gate", "gate-metrics"]'
	rcheck "render mutate.enabled: one Pod-CREATE webhook on /mutate" gen \
		'[$o[] | select(.kind == "MutatingWebhookConfiguration")] as $m | ($m | length) == 1
		and ($m[0].webhooks | length) == 1 and $m[0].webhooks[0].clientConfig.service.path == "/mutate"
		and $m[0].webhooks[0].rules == [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"],
			resources: ["pods"], scope: "Namespaced"}]
		and $m[0].webhooks[0].reinvocationPolicy == "IfNeeded"'

	# shellcheck disable=SC2086
	render sa $CA --set-json serviceAccount.create=false --set-json serviceAccount.name='"existing"' \
		--set-json webhook.activateAfterReady=false ||
		notok "render serviceAccount.create=false" "$(cat "$T/r-sa.err")"
	rcheck "render serviceAccount.create=false: no ServiceAccount, pods and binding use the named one" sa \
		'([$o[] | select(.kind == "ServiceAccount")] | length) == 0
		and ($o[] | select(.kind == "Deployment") | .spec.template.spec.serviceAccountName) == "existing"
		and ($o[] | select(.kind == "ClusterRoleBinding") | .subjects) == [{kind: "ServiceAccount", name: "existing", namespace: "provgate"}]'
	rcheck "render activateAfterReady=false: webhook is a plain release resource" sa \
		'($o[] | select(.kind == "ValidatingWebhookConfiguration") | .metadata | has("annotations")) | not'

	# shellcheck disable=SC2086
	render mx $CA --set-json metrics.enabled=false || notok "render metrics.enabled=false" "$(cat "$T/r-mx.err")"
	rcheck "render metrics.enabled=false: no metrics Service, flag or port" mx \
		'($o[] | select(.kind == "Deployment") | .spec.template.spec.containers[0]) as $c
		| ([$o[] | select(.kind == "Service")] | length) == 1
		and ($c.args | map(select(startswith("--metrics-listen"))) | length) == 0
		and ($c.ports | length) == 1'

	# shellcheck disable=SC2086
	render sm $CA --set-json metrics.serviceMonitor.enabled=true --set-json metrics.port=9191 \
		--set-json 'metrics.serviceMonitor.labels={"release":"kps"}' \
		--set-json networkPolicy.enabled=true \
		--set-json 'networkPolicy.webhookFrom=[{"ipBlock":{"cidr":"10.0.0.1/32"}}]' ||
		notok "render serviceMonitor + networkPolicy" "$(cat "$T/r-sm.err")"
	rcheck "render serviceMonitor: selects the metrics Service, its port by name" sm \
		'($o[] | select(.kind == "ServiceMonitor")) as $m
		| ($o[] | select(.kind == "Service" and (.metadata.name | endswith("-metrics")))) as $s
		| $m.metadata.labels.release == "kps" and $m.spec.endpoints[0].port == "metrics"
		and ($m.spec.selector.matchLabels | to_entries | all(.key as $k | $s.metadata.labels[$k] == .value))
		and $s.spec.ports[0].port == 9191
		and (($o[] | select(.kind == "Deployment") | .spec.template.spec.containers[0].args) | index("--metrics-listen=0.0.0.0:9191"))'
	rcheck "render networkPolicy: webhook port from the given peers, metrics port separately" sm \
		'($o[] | select(.kind == "NetworkPolicy")) as $n
		| $n.spec.ingress == [{ports: [{port: 8443, protocol: "TCP"}], from: [{ipBlock: {cidr: "10.0.0.1/32"}}]},
			{ports: [{port: 9191, protocol: "TCP"}]}]
		and ($n.spec.podSelector.matchLabels | to_entries | all(.key as $k | (($o[] | select(.kind == "Deployment")
			| .spec.template.metadata.labels[$k]) == .value)))'

	# shellcheck disable=SC2086
	render pod $CA --set-json 'extraEnv=[{"name":"HTTPS_PROXY","value":"http://proxy:3128"}]' \
		--set-json 'extraVolumes=[{"name":"regca","configMap":{"name":"regca"}}]' \
		--set-json 'extraVolumeMounts=[{"name":"regca","mountPath":"/etc/regca","readOnly":true}]' \
		--set-json 'podLabels={"team":"platform"}' \
		--set-json 'affinity={"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"pool","operator":"In","values":["sys"]}]}]}}}' \
		--set-json 'topologySpreadConstraints=[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"ScheduleAnyway","labelSelector":{"matchLabels":{"app.kubernetes.io/name":"provgate"}}}]' \
		--set-json 'resources={"requests":{"cpu":"100m","memory":"64Mi"},"limits":{"memory":"512Mi"}}' ||
		notok "render pod values" "$(cat "$T/r-pod.err")"
	rcheck "render pod values: extraEnv, extraVolumes/Mounts, podLabels, affinity, spread, resources as given" pod \
		'($o[] | select(.kind == "Deployment") | .spec.template) as $t | $t.spec.containers[0] as $c
		| ($c.env[-1] == {name: "HTTPS_PROXY", value: "http://proxy:3128"})
		and ($t.spec.volumes[-1] == {name: "regca", configMap: {name: "regca"}})
		and ($c.volumeMounts[-1] == {name: "regca", mountPath: "/etc/regca", readOnly: true})
		and $t.metadata.labels.team == "platform"
		and ($t.spec.affinity | keys) == ["nodeAffinity"]
		and $t.spec.topologySpreadConstraints[0].topologyKey == "topology.kubernetes.io/zone"
		and $c.resources == {requests: {cpu: "100m", memory: "64Mi"}, limits: {memory: "512Mi"}}
		and ($c.env | map(.name) | index("GNUPGHOME"))'
	rcheck "render podLabels: the selector is unchanged (never changes after install)" pod \
		'($o[] | select(.kind == "Deployment") | .spec.selector.matchLabels)
		== {"app.kubernetes.io/name": "provgate", "app.kubernetes.io/instance": "provgate"}'

	# The renderer itself must refuse what it does not implement.
	mkdir -p "$T/badchart/templates"
	cp "$CHART/Chart.yaml" "$CHART/values.yaml" "$T/badchart/"
	printf 'a: {{ .Values.x | sha256sum }}\n' >"$T/badchart/templates/x.yaml"
	python3 "$RENDER" "$T/badchart" >/dev/null 2>"$T/bad.err"
	expect_eq "chart_render.py refuses an unknown function" "$?:$(grep -c 'not supported' "$T/bad.err")" "1:1"
fi
