/*
 * cli/help — `provgate VERB --help` (and `provgate help VERB`): what each
 * verb does and every flag it parses, on stdout, exit 0.  One text per verb,
 * kept beside the verbs' parsers; tests/integration/t_cli_help.sh checks
 * that every flag a verb's source parses is described here.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

/* Every time flag takes this one form (cli/duration.c). */
#define DURATION_TEXT                                                                              \
	"\n"                                                                                       \
	"DURATION is a number with a unit, as kubectl, cosign and helm take it: 500ms, 10s,\n"     \
	"2m, 1h, 1m30s.  A bare number is seconds.\n"

static const struct {
	const char *verb, *text;
} helps[] = {
    {"serve",
     "usage: provgate serve --policy DIR --tls-cert FILE --tls-key FILE [--listen ADDR:PORT]\n"
     "         [--client-ca FILE [--client-name NAME]...] [--ca-file FILE]\n"
     "         [--threads N] [--workers N] [--queue N] [--timeout DURATION]\n"
     "         [--max-body BYTES] [--max-streams N] [--http1-only] [--reload DURATION]\n"
     "         [--state-dir DIR] [--metrics-listen ADDR:PORT]\n"
     "         [--cache-entries N] [--cache-bytes N] [--cache-ttl DURATION]\n"
     "         [--cache-negative-ttl DURATION] [--cache-tag-ttl DURATION]\n"
     "\n"
     "Run the admission webhook: POST /validate, POST /mutate (optional digest pinning),\n"
     "GET /healthz, /readyz, /metrics over TLS (h2 and http/1.1).\n"
     "\n"
     "  --policy DIR                 policy directory (ProvenancePolicy files; reloaded on "
     "change)\n"
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
     "  --timeout DURATION           answer every review within this time (default 9s)\n"
     "  --max-body BYTES             request body bound (default 6 MiB; past 3 MiB a review\n"
     "                               is denied unread)\n"
     "  --max-streams N              HTTP/2 concurrent streams per connection (default 100)\n"
     "  --reload DURATION            how often policy and certificate files are polled (default "
     "1s)\n"
     "  --cache-entries N            verdict cache bound, entries (default 100000)\n"
     "  --cache-bytes N              verdict cache bound, bytes (default 48 MiB)\n"
     "  --cache-ttl DURATION         lifetime of a verified verdict (default 10m)\n"
     "  --cache-negative-ttl DURATION  lifetime of a definite failure (default 30s)\n"
     "  --cache-tag-ttl DURATION     lifetime of any verdict of a tag or chart version, not\n"
     "                               a digest (default 30s)\n"
     "  --timeout-ms N  --reload-ms N  --cache-ttl-ms N  --cache-negative-ttl-ms N\n"
     "  --cache-tag-ttl-ms N         the older names of these: a bare number is "
     "milliseconds\n" DURATION_TEXT},
    {"review",
     "usage: provgate review --policy DIR [--ca-file FILE] [--timeout DURATION] [--mutate] "
     "[FILE|-]\n"
     "\n"
     "Decide one AdmissionReview (a file, or stdin) with the server's code: the response\n"
     "on stdout, the admission-log line on stderr.  Exit 0 allowed, 1 denied, 2 bad input.\n"
     "\n"
     "  --policy DIR       policy directory\n"
     "  --ca-file FILE     extra CA for registries and chart repositories\n"
     "  --timeout DURATION verification deadline (default 9s)\n"
     "  --timeout-ms N     the older name: a bare number is milliseconds\n"
     "  --mutate           answer as POST /mutate: the JSONPatch pinning verified "
     "tags\n" DURATION_TEXT},
    {"verify-chart",
     "usage: provgate verify-chart CHART.tgz --keyring FILE [--keyring FILE]... [--prov FILE]\n"
     "       provgate verify-chart https://host/path/name-1.2.3.tgz --keyring FILE [--ca-file "
     "FILE]\n"
     "       provgate verify-chart --repo URL --version VER NAME --keyring FILE [--ca-file FILE]\n"
     "       provgate verify-chart oci://host/repo/name:VER --keyring FILE [--ca-file FILE]\n"
     "\n"
     "Verify a Helm chart's provenance (.prov) as `helm verify` does.\n"
     "\n"
     "  --keyring FILE     OpenPGP keyring, binary or armored (repeatable)\n"
     "  --prov FILE        the .prov of a local CHART.tgz (default CHART.tgz.prov)\n"
     "  --repo URL         chart repository (index.yaml) to resolve NAME in\n"
     "  --version VER      chart version with --repo\n"
     "  --ca-file FILE     extra CA for the repository or registry\n"
     "  --timeout DURATION overall deadline of the remote forms, 1s to 1h\n" DURATION_TEXT},
    {"verify-image",
     "usage: provgate verify-image IMAGE (--key PEM | --certificate-identity ID\n"
     "         | --certificate-identity-regexp RE) [--certificate-oidc-issuer URL\n"
     "         | --certificate-oidc-issuer-regexp RE] [--trusted-root FILE]\n"
     "         [--insecure-ignore-tlog] [--ca-file FILE] [--allow-http-registry]\n"
     "         [--timeout DURATION]\n"
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
     "  --timeout DURATION                 overall deadline, 1s to 1h (default "
     "60s)\n" DURATION_TEXT},
    {"verify-notation",
     "usage: provgate verify-notation IMAGE --config DIR [--ca-file FILE] [--at RFC3339]\n"
     "         [--timeout DURATION]\n"
     "       provgate verify-notation --config DIR --envelope FILE --media-type TYPE\n"
     "         --artifact REF@DIGEST --artifact-media-type TYPE --artifact-size N\n"
     "         [--at RFC3339] [--policy-name NAME] [--user-metadata KEY=VALUE]...\n"
     "\n"
     "Verify Notary Project signatures as `notation verify` does: an image's, found in\n"
     "its registry, or one envelope offline.\n"
     "\n"
     "  --config DIR                 notation configuration (trust policy, truststore/x509)\n"
     "  --ca-file FILE               extra CA for the registry\n"
     "  --timeout DURATION           overall deadline of the online form, 1s to 1h\n"
     "  --at RFC3339                 verify as at this time\n"
     "  --envelope FILE              the signature envelope (JWS or COSE)\n"
     "  --media-type TYPE            the envelope's media type\n"
     "  --artifact REF@DIGEST        the signed artifact\n"
     "  --artifact-media-type TYPE   its media type\n"
     "  --artifact-size N            its size in bytes\n"
     "  --policy-name NAME           blob trust policy to apply (default: the global one)\n"
     "  --user-metadata KEY=VALUE    metadata the signature must carry "
     "(repeatable)\n" DURATION_TEXT},
    {"verify-attestation",
     "usage: provgate verify-attestation --bundle FILE --digest sha256:HEX|sha512:HEX\n"
     "         (--key PEM | --certificate-identity ID | --certificate-identity-regexp RE\n"
     "          | --owner O | --repo O/R) [flags]\n"
     "       provgate verify-attestation IMAGE (identity flags) [--ca-file FILE] [flags]\n"
     "\n"
     "Verify in-toto attestations (SLSA provenance by default) as\n"
     "`cosign verify-attestation` and `gh attestation verify` do: from a bundle file,\n"
     "or found in IMAGE's registry.\n"
     "\n"
     "  --bundle FILE                      bundle(s): JSON, JSON lines or concatenated\n"
     "  --digest sha256:HEX|sha512:HEX     the artifact's digest\n"
     "  --key PEM                          verify with this public key\n"
     "  --certificate-identity ID          keyless: exact certificate identity\n"
     "  --certificate-identity-regexp RE   keyless: identity regular expression\n"
     "  --certificate-oidc-issuer URL      keyless: exact OIDC issuer\n"
     "  --certificate-oidc-issuer-regexp RE  keyless: issuer regular expression\n"
     "  --certificate-claim NAME=VALUE     a certificate claim that must hold (repeatable)\n"
     "  --condition POINTER=VALUE          a predicate field that must hold (repeatable)\n"
     "  --owner O                          GitHub: artifacts of owner O\n"
     "  --repo O/R                         GitHub: artifacts of repository O/R\n"
     "  --signer-workflow O/R/PATH         GitHub: the signing workflow\n"
     "  --signer-repo O/R                  GitHub: the signing repository\n"
     "  --source-ref REF                   GitHub: the source ref (refs/heads/main)\n"
     "  --deny-self-hosted-runners         GitHub: refuse self-hosted runners\n"
     "  --type URI                         predicate type (default SLSA provenance v1)\n"
     "  --trusted-root FILE                Sigstore trusted_root.json\n"
     "                                     (default $PROVGATE_TRUSTED_ROOT)\n"
     "  --at RFC3339                       the certificate must also be valid then\n"
     "  --min-bundle-version 0.N           oldest bundle version accepted\n"
     "  --min-tlog-entries N               transparency log entries required\n"
     "  --min-timestamps N                 trusted timestamps required\n"
     "  --insecure-ignore-sct              do not require a certificate timestamp (SCT)\n"
     "  --ca-file FILE                     extra CA for the registry (IMAGE)\n"
     "  --allow-http-registry              reach the registry over plain HTTP (IMAGE)\n"
     "  --timeout DURATION                 overall deadline of the IMAGE form, 1s to 1h\n"
     "                                     (default 60s)\n" DURATION_TEXT},
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
    {"policy", "usage: provgate policy check DIR|FILE [--root DIR]\n"
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

void
pg_cli_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: provgate VERB [options]\n\nverbs:\n");
	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		const char *s = helps[i].text, *nl;

		/* the usage lines: up to the first blank line, "usage: "
		 * and the continuations' alignment shifted to two spaces */
		while (*s && *s != '\n') {
			nl = strchr(s, '\n');
			if (nl == NULL)
				nl = s + strlen(s);
			if (strncmp(s, "usage: ", 7) == 0 || strncmp(s, "       provgate", 15) == 0)
				s += 7;
			else if (strncmp(s, "     ", 5) == 0)
				s += 5;
			fprintf(f, "  %.*s\n", (int)(nl - s), s);
			s = *nl ? nl + 1 : nl;
		}
	}
	fprintf(f, "  provgate help VERB | provgate VERB --help\n");
}

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
