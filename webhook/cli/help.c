/*
 * cli/help — `provgate VERB --help` (and `provgate help VERB`): what each
 * verb does and every flag it parses, on stdout, exit 0.  One text per verb,
 * kept beside the verbs' parsers; tests/integration/t_cli_help.sh checks
 * that every flag a verb's source parses is described here.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *verb, *text;
} helps[] = {
	{"serve",
	 "usage: provgate serve --policy DIR --tls-cert FILE --tls-key FILE [flags]\n"
	 "\n"
	 "Run the admission webhook: POST /validate, POST /mutate (optional digest pinning),\n"
	 "GET /healthz, /readyz, /metrics over TLS (h2 and http/1.1).\n"
	 "\n"
	 "  --policy DIR                 policy directory (ProvenancePolicy files; reloaded on change)\n"
	 "  --tls-cert FILE              serving certificate (PEM, chain after the leaf; reloaded)\n"
	 "  --tls-key FILE               its private key (PEM; reloaded)\n"
	 "  --listen ADDR:PORT           TLS listener (default 0.0.0.0:8443; [v6]:PORT for IPv6)\n"
	 "  --metrics-listen ADDR:PORT   also serve GET /metrics, only, in plain HTTP on this port\n"
	 "  --client-ca FILE             require client certificates issued by this CA\n"
	 "  --client-name NAME           accept only client certificates naming NAME (repeatable)\n"
	 "  --ca-file FILE               extra CA for registries and chart repositories\n"
	 "  --state-dir DIR              writable directory for gpg homes (default $TMPDIR)\n"
	 "  --http1-only                 offer only http/1.1 in ALPN (no HTTP/2)\n"
	 "  --threads N                  event-loop threads (default 2)\n"
	 "  --workers N                  verification workers (default 4)\n"
	 "  --queue N                    bound of the verification queue (default 1024)\n"
	 "  --timeout-ms N               answer every review within N ms (default 9000)\n"
	 "  --max-body BYTES             request body bound (default 3 MiB)\n"
	 "  --max-streams N              HTTP/2 concurrent streams per connection (default 100)\n"
	 "  --reload-ms N                how often policy and certificate files are polled (default 1000)\n"
	 "  --cache-entries N            verdict cache bound, entries (default 100000)\n"
	 "  --cache-bytes N              verdict cache bound, bytes (default 48 MiB)\n"
	 "  --cache-ttl-ms N             lifetime of a verified verdict (default 600000)\n"
	 "  --cache-negative-ttl-ms N    lifetime of a definite failure (default 30000)\n"
	 "  --cache-tag-ttl-ms N         lifetime of any verdict of a tag reference (default 30000)\n"},
	{"review",
	 "usage: provgate review --policy DIR [--ca-file FILE] [--timeout-ms N] [--mutate] [FILE|-]\n"
	 "\n"
	 "Decide one AdmissionReview (a file, or stdin) with the server's code: the response\n"
	 "on stdout, the admission-log line on stderr.  Exit 0 allowed, 1 denied, 2 bad input.\n"
	 "\n"
	 "  --policy DIR       policy directory\n"
	 "  --ca-file FILE     extra CA for registries and chart repositories\n"
	 "  --timeout-ms N     verification deadline (default 9000)\n"
	 "  --mutate           answer as POST /mutate: the JSONPatch pinning verified tags\n"},
	{"verify-chart",
	 "usage: provgate verify-chart CHART.tgz --keyring FILE [--keyring FILE]... [--prov FILE]\n"
	 "       provgate verify-chart https://host/path/name-1.2.3.tgz --keyring FILE [--ca-file FILE]\n"
	 "       provgate verify-chart --repo URL --version VER NAME --keyring FILE [--ca-file FILE]\n"
	 "       provgate verify-chart oci://host/repo/name:VER --keyring FILE [--ca-file FILE]\n"
	 "\n"
	 "Verify a Helm chart's provenance (.prov) as `helm verify` does.\n"
	 "\n"
	 "  --keyring FILE     OpenPGP keyring, binary or armored (repeatable)\n"
	 "  --prov FILE        the .prov of a local CHART.tgz (default CHART.tgz.prov)\n"
	 "  --repo URL         chart repository (index.yaml) to resolve NAME in\n"
	 "  --version VER      chart version with --repo\n"
	 "  --ca-file FILE     extra CA for the repository or registry\n"},
	{"verify-image",
	 "usage: provgate verify-image IMAGE (--key PEM | --certificate-identity ID\n"
	 "         | --certificate-identity-regexp RE) [flags]\n"
	 "\n"
	 "Verify an image's cosign signatures as `cosign verify` does; print the verified\n"
	 "digest and signer.\n"
	 "\n"
	 "  --key PEM                          cosign public key\n"
	 "  --certificate-identity ID          keyless: exact certificate identity (SAN)\n"
	 "  --certificate-identity-regexp RE   keyless: identity regular expression (Go syntax)\n"
	 "  --certificate-oidc-issuer URL      keyless: exact OIDC issuer\n"
	 "  --certificate-oidc-issuer-regexp RE  keyless: issuer regular expression\n"
	 "  --trusted-root FILE                Sigstore trusted_root.json (CAs, Rekor, CT logs)\n"
	 "  --insecure-ignore-tlog[=true|false]  do not require a Rekor entry\n"
	 "  --ca-file FILE                     extra CA for the registry\n"
	 "  --allow-http-registry              reach the registry over plain HTTP\n"
	 "  --timeout SECONDS                  overall deadline (1-3600)\n"},
	{"verify-bundle",
	 "usage: provgate verify-bundle [--staging] --bundle FILE (--certificate-identity ID\n"
	 "         --certificate-oidc-issuer URL | --key FILE) [--trusted-root FILE] FILE_OR_DIGEST\n"
	 "\n"
	 "Verify a Sigstore bundle over a file or sha256:<hex> (the sigstore-conformance\n"
	 "client protocol).\n"
	 "\n"
	 "  --bundle FILE                   the Sigstore bundle (JSON)\n"
	 "  --certificate-identity ID       keyless: exact certificate identity\n"
	 "  --certificate-oidc-issuer URL   keyless: exact OIDC issuer\n"
	 "  --key FILE                      verify with this public key instead\n"
	 "  --trusted-root FILE             Sigstore trusted_root.json\n"
	 "  --staging                       accepted for the conformance protocol (no effect:\n"
	 "                                  provgate never fetches a root; pass --trusted-root)\n"},
	{"policy",
	 "usage: provgate policy check DIR|FILE [--root DIR]\n"
	 "\n"
	 "Load a policy exactly as the server does, trust material included (keys,\n"
	 "keyrings, trusted roots), and print a summary.  Exit 0 valid, 2 invalid with\n"
	 "\"Error: FILE:LINE: path: what is wrong\".  The input is the policy directory,\n"
	 "one policy file, a ConfigMap manifest (its data keys are the policy files), or\n"
	 "the chart's values (policy.files).\n"
	 "\n"
	 "  --root DIR   read in-cluster trust paths (/etc/provgate/trust/...) under DIR\n"
	 "               (DIR/etc/provgate/trust/...); relative paths under\n"
	 "               DIR/etc/provgate/policy.  Not for a directory.\n"},
	{"version", "usage: provgate version\n\nPrint the version.\n"},
};

bool
pg_cli_is_help(const char *arg)
{
	return arg && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0);
}

int
pg_cli_help(const char *verb)
{
	size_t i;

	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (strcmp(verb, helps[i].verb) == 0) {
			fputs(helps[i].text, stdout);
			return PG_EXIT_OK;
		}
	return pg_cli_fail(PG_EXIT_USAGE, "no help for unknown verb \"%s\"", verb);
}
