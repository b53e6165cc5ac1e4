#!/bin/sh
# make lint: the checks a compiler does not do (curl's checksrc, in small).
set -u
cd "$(dirname "$0")/.." || exit 2
rc=0
if grep -rnE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|sscanf|gets)[[:space:]]*\(' webhook; then
	echo "lint: banned calls above (use the bounded forms)" >&2
	rc=1
fi
# Foreign libraries stay in their room.
for pair in "h2o.h:server" "curl/curl.h:fetch" "gpgme.h:pgp main.c" "yaml.h:policy helm"; do
	hdr=${pair%%:*}; rooms=${pair#*:}
	for f in $(grep -rl "#include <$hdr>" webhook); do
		okf=0
		for r in $rooms; do case "$f" in webhook/$r/*|webhook/$r) okf=1 ;; esac; done
		[ $okf = 1 ] || { echo "lint: $f includes <$hdr> outside its module ($rooms)" >&2; rc=1; }
	done
done
exit $rc
