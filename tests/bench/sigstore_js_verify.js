// sigstore-js (npm "sigstore": @sigstore/verify, @sigstore/bundle) as the
// reference verifier for verify.sh (make bench), offline against the same
// trusted_root.json files provgate is given.
//   node sigstore_js_verify.js one BUNDLE ARTIFACT ROOT key|id KEY|ID ISSUER
//       verify one bundle; exit 0 verified, 1 not (the whole-process figure)
//   node sigstore_js_verify.js loop MANIFEST ROUNDS
//       every case of the manifest ROUNDS times in one process, trust
//       material built once per root; prints the same line as bundle_bench
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { toSignedEntity, toTrustMaterial, Verifier } = require('@sigstore/verify');

function prepare(bundlePath, artifactPath, rootPath, mode, who, issuer, roots) {
	const c = {
		bundleJSON: JSON.parse(fs.readFileSync(bundlePath, 'utf8')),
		artifact: fs.readFileSync(artifactPath),
	};
	const key = mode === 'key' ? crypto.createPublicKey(fs.readFileSync(who)) : null;
	const rootKey = rootPath + '|' + (key ? who : '');
	if (!roots.has(rootKey)) {
		let v = null;
		try {
			const tr = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(rootPath, 'utf8')));
			const finder = key ? () => ({ publicKey: key, validFor: () => true }) : undefined;
			const tm = toTrustMaterial(tr, finder);
			v = new Verifier(tm, { tlogThreshold: 1, ctlogThreshold: key ? 0 : 1 });
		} catch (e) {
			v = null;
		}
		roots.set(rootKey, v);
	}
	c.verifier = roots.get(rootKey);
	c.policy = key ? {} : { subjectAlternativeName: who, extensions: { issuer } };
	return c;
}

function verify(c) {
	try {
		if (!c.verifier) return false;
		const entity = toSignedEntity(bundleFromJSON(c.bundleJSON), c.artifact);
		c.verifier.verify(entity, c.policy);
		return true;
	} catch (e) {
		return false;
	}
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'one') {
	let c;
	try {
		c = prepare(...args.slice(0, 6), new Map());
	} catch (e) {
		process.exit(1);
	}
	process.exit(verify(c) ? 0 : 1);
} else if (mode === 'loop') {
	const roots = new Map();
	const cases = fs.readFileSync(args[0], 'utf8').split('\n').filter(Boolean).map((l) => {
		const f = l.split('\t');
		let c;
		try {
			c = prepare(f[1], f[2], f[3], f[4], f[5], f[6], roots);
		} catch (e) {
			c = { verifier: null }; // unreadable input: a failed verification
		}
		c.want = f[7] === 'pass';
		return c;
	});
	const rounds = parseInt(args[1], 10);
	let agree = 0;
	const t0 = process.hrtime.bigint();
	for (let r = 0; r < rounds; r++) {
		for (const c of cases) {
			const ok = verify(c);
			if (r === 0 && ok === c.want) agree++;
		}
	}
	const us = Number(process.hrtime.bigint() - t0) / 1000;
	console.log(`cases ${cases.length} rounds ${rounds} total_us ${Math.round(us)} ` +
		`per_verify_us ${(us / (cases.length * rounds)).toFixed(1)} agree ${agree}`);
} else {
	console.error('usage: sigstore_js_verify.js one ... | loop MANIFEST ROUNDS');
	process.exit(2);
}
