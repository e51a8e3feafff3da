/* SPDX-License-Identifier: Apache-2.0 */
#include "ref/ref.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/digest.h"

/*
 * A hand-written matcher for distribution's reference regular expressions.
 * The grammar is small and unambiguous once split at the right places:
 *
 * - a tag and a digest never contain '@', so the first '@' starts the digest;
 * - a name contains ':' only inside its domain, which a '/' must follow, so a
 *   last ':' with no '/' after it starts the tag;
 * - the optional domain is taken when the first element is a valid domain and
 *   the rest a valid path (the regexp's greedy optional group), else the whole
 *   name must be a path.
 */

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static int is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static int is_xdigit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* [a-z0-9]+ ((?:[._]|__|[-]+)[a-z0-9]+)* over exactly [s, s+len) */
static int component_valid(const char *s, size_t len)
{
	size_t i = 0;
	if (len == 0 || !is_lower_alnum(s[0]))
		return 0;
	while (i < len) {
		while (i < len && is_lower_alnum(s[i]))
			i++;
		if (i == len)
			return 1;
		/* a separator, then at least one alphanumeric */
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < len && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < len && s[i] == '-')
				i++;
		} else {
			return 0;
		}
		if (i == len || !is_lower_alnum(s[i]))
			return 0;
	}
	return 1;
}

int kiln_ref_path_valid(const char *s, size_t len)
{
	size_t start = 0;
	if (len == 0)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '/') {
			if (!component_valid(s + start, i - start))
				return 0;
			start = i + 1;
		}
	}
	return 1;
}

/* (?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]) */
static int domain_component_valid(const char *s, size_t len)
{
	if (len == 0 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return 0;
	for (size_t i = 1; i + 1 < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

int kiln_ref_domain_valid(const char *s, size_t len)
{
	size_t hostlen;
	if (len == 0)
		return 0;
	if (s[0] == '[') {
		/* \[(?:[a-fA-F0-9:]+)\] */
		const char *close = memchr(s, ']', len);
		if (!close || close == s + 1)
			return 0;
		for (const char *p = s + 1; p < close; p++)
			if (!is_xdigit(*p) && *p != ':')
				return 0;
		hostlen = (size_t) (close - s) + 1;
	} else {
		const char *colon = memchr(s, ':', len);
		hostlen = colon ? (size_t) (colon - s) : len;
		size_t start = 0;
		if (hostlen == 0)
			return 0;
		for (size_t i = 0; i <= hostlen; i++) {
			if (i == hostlen || s[i] == '.') {
				if (!domain_component_valid(s + start, i - start))
					return 0;
				start = i + 1;
			}
		}
	}
	if (hostlen == len)
		return 1;
	/* (?::[0-9]+)? */
	if (s[hostlen] != ':' || hostlen + 1 == len)
		return 0;
	for (size_t i = hostlen + 1; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int tag_valid_n(const char *s, size_t len)
{
	if (len == 0 || len > KILN_REF_TAG_MAX || !is_word(s[0]))
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
			return 0;
	return 1;
}

int kiln_ref_tag_valid(const char *tag)
{
	return tag && tag_valid_n(tag, strlen(tag));
}

/* [A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,} */
static int digest_pattern_ok(const char *s, size_t len)
{
	size_t i = 0;
	for (;;) {
		if (i >= len || !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
		while (i < len && is_alnum(s[i]))
			i++;
		if (i < len && (s[i] == '-' || s[i] == '_' || s[i] == '+' || s[i] == '.')) {
			i++;
			continue;
		}
		break;
	}
	if (i >= len || s[i] != ':')
		return 0;
	i++;
	if (len - i < 32)
		return 0;
	for (; i < len; i++)
		if (!is_xdigit(s[i]))
			return 0;
	return 1;
}

int kiln_ref_digest_validate(const char *s, size_t len, struct kiln_error *err)
{
	static const struct {
		const char *name;
		size_t hexlen;
	} algs[] = { { "sha256", 64 }, { "sha384", 96 }, { "sha512", 128 } };
	const char *colon = memchr(s, ':', len);
	if (!colon || colon == s || colon + 1 == s + len)
		return kiln_fail(err, KILN_EPARSE, 0, "invalid checksum digest format");
	size_t alen = (size_t) (colon - s);
	const char *hex = colon + 1;
	size_t hexlen = len - alen - 1;
	for (size_t i = 0; i < KILN_ARRAY_SIZE(algs); i++) {
		if (strlen(algs[i].name) != alen || memcmp(algs[i].name, s, alen) != 0)
			continue;
		if (hexlen != algs[i].hexlen)
			return kiln_fail(err, KILN_EPARSE, 0, "invalid checksum digest length");
		for (size_t j = 0; j < hexlen; j++)
			if (!is_lower_hex(hex[j]))
				return kiln_fail(err, KILN_EPARSE, 0,
						 "invalid checksum digest format");
		return 0;
	}
	/* go-digest's general DigestRegexp for algorithms it does not know */
	for (size_t i = 0; i < alen; i++) {
		char c = s[i];
		int sep = c == '.' || c == '+' || c == '_' || c == '-';
		if (!is_lower_alnum(c) && !sep)
			return kiln_fail(err, KILN_EPARSE, 0, "invalid checksum digest format");
		if (sep && (i == 0 || i + 1 == alen || !is_lower_alnum(s[i - 1])))
			return kiln_fail(err, KILN_EPARSE, 0, "invalid checksum digest format");
	}
	for (size_t j = 0; j < hexlen; j++)
		if (!is_alnum(hex[j]) && hex[j] != '=' && hex[j] != '_' && hex[j] != '-')
			return kiln_fail(err, KILN_EPARSE, 0, "invalid checksum digest format");
	return kiln_fail(err, KILN_EUNSUPP, 0, "unsupported digest algorithm");
}

int kiln_ref_is_identifier(const char *s)
{
	return kiln_digest_is_hex(s);
}

/* Spans of a matched reference, pointing into the input. */
struct span {
	const char *p;
	size_t len;
};

struct parts {
	struct span domain, path, tag, digest;
};

/* distribution's ReferenceRegexp: 1 and `out` filled on a match. */
static int match_reference(const char *s, size_t len, struct parts *out)
{
	memset(out, 0, sizeof(*out));
	size_t namelen = len;
	const char *at = memchr(s, '@', len);
	if (at) {
		out->digest.p = at + 1;
		out->digest.len = len - (size_t) (at - s) - 1;
		if (!digest_pattern_ok(out->digest.p, out->digest.len))
			return 0;
		namelen = (size_t) (at - s);
	}
	const char *colon = NULL;
	for (size_t i = namelen; i > 0; i--) {
		if (s[i - 1] == '/')
			break;
		if (s[i - 1] == ':') {
			colon = s + i - 1;
			break;
		}
	}
	if (colon) {
		out->tag.p = colon + 1;
		out->tag.len = namelen - (size_t) (colon - s) - 1;
		if (!tag_valid_n(out->tag.p, out->tag.len))
			return 0;
		namelen = (size_t) (colon - s);
	}
	const char *slash = memchr(s, '/', namelen);
	if (slash && kiln_ref_domain_valid(s, (size_t) (slash - s)) &&
	    kiln_ref_path_valid(slash + 1, namelen - (size_t) (slash - s) - 1)) {
		out->domain.p = s;
		out->domain.len = (size_t) (slash - s);
		out->path.p = slash + 1;
		out->path.len = namelen - out->domain.len - 1;
		return 1;
	}
	if (!kiln_ref_path_valid(s, namelen))
		return 0;
	out->path.p = s;
	out->path.len = namelen;
	return 1;
}

/* distribution's Parse(): match, then the checks on the matched parts. */
static int parse_full(const char *s, struct parts *out, struct kiln_error *err)
{
	size_t len = strlen(s);
	if (len == 0)
		return kiln_fail(err, KILN_EPARSE, 0,
				 "repository name must have at least one component");
	if (!match_reference(s, len, out)) {
		cleanup_free char *lower = kiln_strdup(s);
		if (!lower)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		int changed = 0;
		for (char *p = lower; *p; p++)
			if (*p >= 'A' && *p <= 'Z') {
				*p = (char) (*p - 'A' + 'a');
				changed = 1;
			}
		struct parts tmp;
		if (changed && match_reference(lower, len, &tmp))
			return kiln_fail(err, KILN_EPARSE, 0, "repository name must be lowercase");
		return kiln_fail(err, KILN_EPARSE, 0, "invalid reference format");
	}
	if (out->path.len > KILN_REF_PATH_MAX)
		return kiln_fail(err, KILN_ELIMIT, 0,
				 "repository name must not be more than %d characters",
				 KILN_REF_PATH_MAX);
	if (out->digest.p) {
		int r = kiln_ref_digest_validate(out->digest.p, out->digest.len, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int ref_from_parts(const struct parts *pt, unsigned flags, struct kiln_ref **ret,
			  struct kiln_error *err)
{
	cleanup(kiln_ref_freep) struct kiln_ref *ref = kiln_calloc(1, sizeof(*ref));
	if (!ref)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	ref->domain = kiln_strndup(pt->domain.p, pt->domain.len);
	ref->path = kiln_strndup(pt->path.p, pt->path.len);
	if (!ref->domain || !ref->path)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (pt->tag.p) {
		ref->tag = kiln_strndup(pt->tag.p, pt->tag.len);
		if (!ref->tag)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	} else if (!pt->digest.p && (flags & KILN_REF_DEFAULT_TAG_LATEST)) {
		ref->tag = kiln_strdup(KILN_REF_DEFAULT_TAG);
		if (!ref->tag)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	if (pt->digest.p) {
		ref->digest = kiln_strndup(pt->digest.p, pt->digest.len);
		if (!ref->digest)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	*ret = steal_ptr(&ref);
	return 0;
}

static int has_upper(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return 1;
	return 0;
}

int kiln_ref_parse(const char *s, unsigned flags, struct kiln_ref **ret, struct kiln_error *err)
{
	size_t len = strnlen(s, KILN_REF_INPUT_MAX + 1);
	if (len > KILN_REF_INPUT_MAX)
		return kiln_fail(err, KILN_ELIMIT, 0, "reference longer than %d bytes",
				 KILN_REF_INPUT_MAX);
	if (kiln_ref_is_identifier(s))
		return kiln_fail(err, KILN_EPARSE, 0,
				 "invalid repository name (%s), cannot specify 64-byte "
				 "hexadecimal strings",
				 s);

	/* splitDockerDomain */
	const char *domain = KILN_REF_DEFAULT_DOMAIN;
	size_t domlen = strlen(domain);
	const char *rest = s;
	const char *slash = strchr(s, '/');
	if (slash) {
		size_t first = (size_t) (slash - s);
		if ((first == 9 && memcmp(s, "localhost", 9) == 0) || memchr(s, '.', first) ||
		    memchr(s, ':', first) || has_upper(s, first)) {
			domain = s;
			domlen = first;
			rest = slash + 1;
		}
		if (first == 15 && memcmp(s, "index.docker.io", 15) == 0) {
			domain = KILN_REF_DEFAULT_DOMAIN;
			domlen = strlen(domain);
			rest = slash + 1;
		}
	}
	int official = domlen == strlen(KILN_REF_DEFAULT_DOMAIN) &&
		       memcmp(domain, KILN_REF_DEFAULT_DOMAIN, domlen) == 0 && !strchr(rest, '/');

	cleanup_free char *full =
		kiln_asprintf("%.*s/%s%s", (int) domlen, domain, official ? "library/" : "", rest);
	if (!full)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	const char *remainder = full + domlen + 1;
	size_t remote_len = strcspn(remainder, ":");
	if (has_upper(remainder, remote_len))
		return kiln_fail(err, KILN_EPARSE, 0,
				 "invalid reference format: repository name (%.*s) must be "
				 "lowercase",
				 (int) remote_len, remainder);

	struct parts pt;
	int r = parse_full(full, &pt, err);
	if (r < 0)
		return r;
	/*
	 * A first element that looked like a domain but is not one (say
	 * "my_host.com/x") ends up inside the path; distribution then returns
	 * a name without a domain, which no registry can serve.
	 */
	if (pt.domain.len != domlen)
		return kiln_fail(err, KILN_EPARSE, 0, "invalid reference format");
	return ref_from_parts(&pt, flags, ret, err);
}

int kiln_ref_parse_canonical(const char *s, struct kiln_ref **ret, struct kiln_error *err)
{
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	int r = kiln_ref_parse(s, 0, &ref, err);
	if (r < 0)
		return r;
	cleanup_free char *full = kiln_ref_string(ref);
	if (!full)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (strcmp(full, s) != 0)
		return kiln_fail(err, KILN_EPARSE, 0, "repository name must be canonical");
	*ret = steal_ptr(&ref);
	return 0;
}

void kiln_ref_free(struct kiln_ref *ref)
{
	if (!ref)
		return;
	free(ref->domain);
	free(ref->path);
	free(ref->tag);
	free(ref->digest);
	free(ref);
}

static int dup_opt(const char *s, char **ret)
{
	*ret = NULL;
	if (!s)
		return 0;
	*ret = kiln_strdup(s);
	return *ret ? 0 : -1;
}

int kiln_ref_dup(const struct kiln_ref *ref, struct kiln_ref **ret, struct kiln_error *err)
{
	cleanup(kiln_ref_freep) struct kiln_ref *n = kiln_calloc(1, sizeof(*n));
	if (!n || dup_opt(ref->domain, &n->domain) < 0 || dup_opt(ref->path, &n->path) < 0 ||
	    dup_opt(ref->tag, &n->tag) < 0 || dup_opt(ref->digest, &n->digest) < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	*ret = steal_ptr(&n);
	return 0;
}

int kiln_ref_set_tag(struct kiln_ref *ref, const char *tag, struct kiln_error *err)
{
	char *n = NULL;
	if (tag) {
		if (!kiln_ref_tag_valid(tag))
			return kiln_fail(err, KILN_EPARSE, 0, "invalid tag format");
		n = kiln_strdup(tag);
		if (!n)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	free(ref->tag);
	ref->tag = n;
	return 0;
}

int kiln_ref_set_digest(struct kiln_ref *ref, const char *digest, struct kiln_error *err)
{
	char *n = NULL;
	if (digest) {
		size_t len = strlen(digest);
		if (!digest_pattern_ok(digest, len))
			return kiln_fail(err, KILN_EPARSE, 0, "invalid digest format");
		int r = kiln_ref_digest_validate(digest, len, err);
		if (r < 0)
			return r;
		n = kiln_strdup(digest);
		if (!n)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	free(ref->digest);
	ref->digest = n;
	return 0;
}

char *kiln_ref_name(const struct kiln_ref *ref)
{
	return kiln_asprintf("%s/%s", ref->domain, ref->path);
}

static char *with_suffix(const char *name, const struct kiln_ref *ref)
{
	if (!name)
		return NULL;
	return kiln_asprintf("%s%s%s%s%s", name, ref->tag ? ":" : "", ref->tag ? ref->tag : "",
			     ref->digest ? "@" : "", ref->digest ? ref->digest : "");
}

char *kiln_ref_string(const struct kiln_ref *ref)
{
	cleanup_free char *name = kiln_ref_name(ref);
	return with_suffix(name, ref);
}

char *kiln_ref_familiar_name(const struct kiln_ref *ref)
{
	if (strcmp(ref->domain, KILN_REF_DEFAULT_DOMAIN) != 0)
		return kiln_ref_name(ref);
	const char *path = ref->path;
	/*
	 * Unlike distribution's FamiliarName, keep "docker.io/" when the path's
	 * first element would read as a domain ("docker.io/a.b/c" is not
	 * "a.b/c"), so that the familiar spelling names the same repository.
	 */
	size_t first = strcspn(path, "/");
	if (path[first] == '/' &&
	    (memchr(path, '.', first) || (first == 9 && memcmp(path, "localhost", 9) == 0)))
		return kiln_ref_name(ref);
	if (strncmp(path, "library/", 8) == 0 && !strchr(path + 8, '/'))
		path += 8;
	return kiln_strdup(path);
}

char *kiln_ref_familiar_string(const struct kiln_ref *ref)
{
	cleanup_free char *name = kiln_ref_familiar_name(ref);
	return with_suffix(name, ref);
}
