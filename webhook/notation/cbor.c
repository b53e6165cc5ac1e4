/*
 * notation/cbor — the CBOR (RFC 8949) a COSE_Sign1 envelope needs, and no
 * more: definite-length items only, every length checked against the bytes
 * left before it is used, nesting bounded by the caller.  Indefinite
 * lengths (notation never writes them; deterministic encoding forbids
 * them), reserved additional-information values and truncation are
 * malformed.  Nothing is allocated: strings point into the input.
 */
#include "notation/notation_int.h"

int
nv_cbor_peek(const nv_cbor *c)
{
	if (c->p >= c->end)
		return -1;
	return c->p[0] >> 5;
}

int
nv_cbor_head(nv_cbor *c, int *major, uint64_t *arg, const unsigned char **ptr)
{
	unsigned ai;
	uint64_t v = 0;
	size_t n, i;

	if (c->p >= c->end)
		return PG_EINVAL;
	*major = c->p[0] >> 5;
	ai = c->p[0] & 0x1fu;
	c->p++;
	if (ai < 24) {
		v = ai;
	} else if (ai <= 27) {
		n = (size_t)1 << (ai - 24);
		if ((size_t)(c->end - c->p) < n)
			return PG_EINVAL;
		for (i = 0; i < n; i++)
			v = (v << 8) | c->p[i];
		c->p += n;
	} else {
		return PG_EINVAL; /* 28-30 reserved, 31 indefinite */
	}
	*arg = v;
	if (ptr)
		*ptr = NULL;
	if (*major == NV_CBOR_BSTR || *major == NV_CBOR_TSTR) {
		if (v > (uint64_t)(c->end - c->p))
			return PG_EINVAL;
		if (ptr)
			*ptr = c->p;
		c->p += (size_t)v;
	}
	return PG_OK;
}

int
nv_cbor_skip(nv_cbor *c, int depth)
{
	int major, rc;
	uint64_t arg, i, n;

	if (depth > NV_CBOR_DEPTH_MAX)
		return PG_EINVAL;
	if ((rc = nv_cbor_head(c, &major, &arg, NULL)) != PG_OK)
		return rc;
	switch (major) {
	case NV_CBOR_ARRAY:
	case NV_CBOR_MAP:
		if (arg > NV_CBOR_ITEMS_MAX)
			return PG_EINVAL;
		n = major == NV_CBOR_MAP ? arg * 2 : arg;
		for (i = 0; i < n; i++)
			if ((rc = nv_cbor_skip(c, depth + 1)) != PG_OK)
				return rc;
		return PG_OK;
	case NV_CBOR_TAG:
		return nv_cbor_skip(c, depth + 1);
	default:
		return PG_OK;
	}
}
