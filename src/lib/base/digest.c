/* SPDX-License-Identifier: Apache-2.0 */
#include "digest.h"

/*
 * OpenSSL's SHA256_* functions are deprecated in OpenSSL 3 in favour of EVP, which this file
 * avoids on purpose (below).
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <string.h>

#include "alloc.h"

/*
 * libcrypto's low-level SHA-256 rather than EVP or nettle (docs/internals/footprint.md): it
 * picks SHA-NI, AVX2 or SSSE3 code at start-up, and without SHA-NI it is about 1.7 times as
 * fast as nettle 3.8, which hashes block by block in plain x86-64 code; with SHA-NI about
 * 10 % faster. EVP would set up OpenSSL 3's providers: about 2.5 MiB of resident memory at
 * its first use. Linked statically, these functions add 22 KB of text and 16 KiB resident.
 */
struct kiln_sha256 {
	SHA256_CTX c;
};

int kiln_sha256_new(struct kiln_sha256 **ret, struct kiln_error *err)
{
	struct kiln_sha256 *h = kiln_calloc(1, sizeof(*h));
	if (!h)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	SHA256_Init(&h->c);
	*ret = h;
	return 0;
}

void kiln_sha256_update(struct kiln_sha256 *h, const void *data, size_t len)
{
	if (len)
		SHA256_Update(&h->c, data, len);
}

void kiln_sha256_final(struct kiln_sha256 *h, struct kiln_digest *ret)
{
	uint8_t raw[SHA256_DIGEST_LENGTH];
	SHA256_Final(raw, &h->c);
	SHA256_Init(&h->c); /* ready for the next message, as digest.h promises */
	kiln_digest_from_raw(ret, raw);
}

void kiln_sha256_free(struct kiln_sha256 *h)
{
	free(h);
}

int kiln_sha256_buf(const void *data, size_t len, struct kiln_digest *ret, struct kiln_error *err)
{
	SHA256_CTX c;
	uint8_t raw[SHA256_DIGEST_LENGTH];
	(void) err;
	/* not SHA256(): in OpenSSL 3 that is EVP_Q_digest(), providers and all */
	SHA256_Init(&c);
	if (len)
		SHA256_Update(&c, data, len);
	SHA256_Final(raw, &c);
	kiln_digest_from_raw(ret, raw);
	return 0;
}

void kiln_digest_from_raw(struct kiln_digest *d, const uint8_t raw[32])
{
	static const char hexd[] = "0123456789abcdef";
	memcpy(d->raw, raw, 32);
	for (int i = 0; i < 32; i++) {
		d->hex[2 * i] = hexd[raw[i] >> 4];
		d->hex[2 * i + 1] = hexd[raw[i] & 15];
	}
	d->hex[64] = '\0';
	memcpy(d->str, "sha256:", 7);
	memcpy(d->str + 7, d->hex, 65);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int kiln_digest_is_hex(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (hexval(s[n]) < 0)
			return 0;
	return n == 64;
}

int kiln_digest_parse(const char *s, struct kiln_digest *ret, struct kiln_error *err)
{
	const char *colon = strchr(s, ':');
	if (!colon || colon == s)
		return kiln_fail(err, KILN_EINVAL, 0, "invalid digest '%s'", s);
	if ((size_t)(colon - s) != 6 || memcmp(s, "sha256", 6) != 0)
		return kiln_fail(err, KILN_EUNSUPP, 0, "unsupported digest algorithm in '%s'", s);
	const char *h = colon + 1;
	if (strlen(h) != 64)
		return kiln_fail(err, KILN_EINVAL, 0, "invalid digest '%s': want 64 hex digits", s);
	uint8_t raw[32];
	for (int i = 0; i < 32; i++) {
		int a = hexval(h[2 * i]), b = hexval(h[2 * i + 1]);
		if (a < 0 || b < 0)
			return kiln_fail(err, KILN_EINVAL, 0,
					 "invalid digest '%s': not lower-case hex", s);
		raw[i] = (uint8_t)(a << 4 | b);
	}
	kiln_digest_from_raw(ret, raw);
	return 0;
}

int kiln_digest_equal(const struct kiln_digest *a, const struct kiln_digest *b)
{
	return memcmp(a->raw, b->raw, 32) == 0;
}
