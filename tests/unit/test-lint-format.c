/* SPDX-License-Identifier: Apache-2.0 */
/* kiln lint's JSON and SARIF output: string escaping (byte by byte and eight
 * bytes at a time, invalid UTF-8 replaced) and SARIF laid out as jansson lays it out. */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "analyze/lint.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/decimal.h"
#include "tap.h"

/* Length of the valid UTF-8 sequence at p (RFC 3629), 0 if none starts there. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;
	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef) {
		n = 3;
		lo = *p == 0xe0 ? 0xa0 : 0x80;
		hi = *p == 0xed ? 0x9f : 0xbf;
	} else if (*p >= 0xf0 && *p <= 0xf4) {
		n = 4;
		lo = *p == 0xf0 ? 0x90 : 0x80;
		hi = *p == 0xf4 ? 0x8f : 0xbf;
	} else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* The escaped form the JSON output must hold, one byte at a time, as jansson
 * escapes; a byte that starts no UTF-8 sequence is U+FFFD. */
static void escape_slowly(struct kiln_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char tmp[8];
		size_t n;
		if (*p >= 0x80) {
			n = utf8_len(p);
			if (kiln_buf_add(b, n ? (const char *)p : "\xef\xbf\xbd", n ? n : 3) < 0)
				abort();
			p += n ? n - 1 : 0;
			continue;
		}
		if (*p == '"' || *p == '\\')
			snprintf(tmp, sizeof(tmp), "\\%c", *p);
		else if (*p == '\b')
			snprintf(tmp, sizeof(tmp), "\\b");
		else if (*p == '\f')
			snprintf(tmp, sizeof(tmp), "\\f");
		else if (*p == '\n')
			snprintf(tmp, sizeof(tmp), "\\n");
		else if (*p == '\t')
			snprintf(tmp, sizeof(tmp), "\\t");
		else if (*p == '\r')
			snprintf(tmp, sizeof(tmp), "\\r");
		else if (*p < 0x20)
			snprintf(tmp, sizeof(tmp), "\\u%04X", *p);
		else
			snprintf(tmp, sizeof(tmp), "%c", *p);
		if (kiln_buf_addstr(b, tmp) < 0)
			abort();
	}
}

/* One finding whose message is `message`, rendered as JSON: the message field as written. */
static int render_message(const char *message, struct kiln_buf *field, char **parsed)
{
	struct kiln_lint_finding f = { .rule = "DL3003", .severity = KILN_LINT_WARNING, .line = 1,
				       .col = 1, .message = (char *)message };
	struct kiln_lint_report rep = { .file = "Dockerfile", .findings = &f, .n_findings = 1 };
	const struct kiln_lint_report *rv[] = { &rep };
	struct kiln_buf out = KILN_BUF_INIT;
	if (kiln_lint_render(rv, 1, KILN_LINT_FORMAT_JSON, 0, "1.0", &out, NULL) < 0)
		return -1;
	const char *start = strstr(out.buf, "\"message\": \"");
	const char *end = start ? strstr(start, "\",\n") : NULL;
	int r = -1;
	if (start && end) {
		start += strlen("\"message\": \"");
		r = kiln_buf_add(field, start, (size_t)(end - start));
	}
	json_t *doc = json_loads(out.buf, 0, NULL);
	json_t *m = json_object_get(json_array_get(doc, 0), "message");
	*parsed = json_is_string(m) ? kiln_strdup(json_string_value(m)) : NULL;
	json_decref(doc);
	kiln_buf_release(&out);
	return r;
}

/* The message as the output must carry it: bytes that start no UTF-8 sequence become U+FFFD. */
static char *replaced(const char *s)
{
	struct kiln_buf b = KILN_BUF_INIT;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		size_t n = *p >= 0x80 ? utf8_len(p) : 1;
		if (kiln_buf_add(&b, n ? (const char *)p : "\xef\xbf\xbd", n ? n : 3) < 0)
			abort();
		p += n ? n - 1 : 0;
	}
	return kiln_buf_detach(&b, NULL);
}

static void test_escape(const char *what, const char *message)
{
	struct kiln_buf want = KILN_BUF_INIT, got = KILN_BUF_INIT;
	escape_slowly(&want, message);
	cleanup_free char *parsed = NULL, *expect = replaced(message);
	int r = render_message(message, &got, &parsed);
	TAP_OK(r >= 0 && got.len == want.len && !memcmp(got.buf, want.buf, want.len),
	       "%s: escaped as byte by byte", what);
	TAP_OK(parsed && expect && !strcmp(parsed, expect), "%s: parses back to the message", what);
	kiln_buf_release(&want);
	kiln_buf_release(&got);
}

static struct kiln_lint_finding finding(const char *rule, enum kiln_lint_family family, int line,
					const char *message)
{
	return (struct kiln_lint_finding){ .rule = (char *)rule, .family = family,
					   .severity = KILN_LINT_WARNING, .line = line, .col = 1,
					   .message = (char *)message, .fingerprint = "f00d" };
}

/* SARIF text must be what jansson's json_dumps would write for the same document. */
static void test_sarif_layout(void)
{
	struct kiln_lint_finding a[] = {
		finding("DL3003", KILN_LINT_HADOLINT, 2, "use WORKDIR"),
		finding("SC2086", KILN_LINT_SHELLCHECK, 3, "Double quote to prevent globbing."),
		finding("DL3003", KILN_LINT_HADOLINT, 5, "use WORKDIR \"again\"\n"),
		finding("StageNameCasing", KILN_LINT_BUILDKIT, 1, "Stage name 'B\xff" "ad'"),
	};
	struct kiln_lint_finding b[] = {
		finding("KL9999", KILN_LINT_KILN, 0, "a rule the table does not know"),
		finding("SC2086", KILN_LINT_SHELLCHECK, 7, "again"),
	};
	struct kiln_lint_report ra = { .file = "dir/Docker file", .findings = a,
				       .n_findings = KILN_ARRAY_SIZE(a) };
	struct kiln_lint_report rb = { .file = "b/Dockerfile", .findings = b,
				       .n_findings = KILN_ARRAY_SIZE(b) };
	const struct kiln_lint_report *both[] = { &ra, &rb };
	for (size_t n = 0; n <= 2; n++) {
		struct kiln_buf out = KILN_BUF_INIT;
		int r = kiln_lint_render(both, n, KILN_LINT_FORMAT_SARIF, 0, "1.2.3", &out, NULL);
		json_t *doc = r >= 0 ? json_loads(out.buf, 0, NULL) : NULL;
		char *again = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
		int same = again && out.len == strlen(again) + 1 &&
			   !strncmp(out.buf, again, out.len - 1) && out.buf[out.len - 1] == '\n';
		TAP_OK(same,
		       "SARIF of %zu reports reads as jansson writes it", n);
		json_t *run = json_array_get(json_object_get(doc, "runs"), 0);
		json_t *tool = json_object_get(run, "tool");
		json_t *rules = json_object_get(json_object_get(tool, "driver"), "rules");
		json_t *results = json_object_get(run, "results");
		size_t i, bad = 0;
		json_t *res;
		json_array_foreach(results, i, res) {
			json_int_t ix = json_integer_value(json_object_get(res, "ruleIndex"));
			json_t *rule = json_array_get(rules, (size_t)ix);
			bad += !json_equal(json_object_get(rule, "id"),
					   json_object_get(res, "ruleId"));
		}
		size_t want_rules = n == 0 ? 0 : n == 1 ? 3 : 4;
		TAP_OK(json_array_size(rules) == want_rules && !bad &&
			       json_array_size(results) == (n == 0 ? 0 : n == 1 ? 4 : 6),
		       "SARIF of %zu reports: %zu rules, each result points at its own", n,
		       want_rules);
		free(again);
		json_decref(doc);
		kiln_buf_release(&out);
	}
}

/* The checkstyle form of an attribute value, one byte at a time. */
static void xml_slowly(struct kiln_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		static const char *const ent[] = { ['<'] = "&lt;", ['>'] = "&gt;", ['&'] = "&amp;",
						   ['"'] = "&quot;", ['\''] = "&apos;" };
		size_t n = *p >= 0x80 ? utf8_len(p) : 1;
		int r;
		if (*p < sizeof(ent) / sizeof(ent[0]) && ent[*p])
			r = kiln_buf_addstr(b, ent[*p]);
		else if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			r = kiln_buf_addch(b, ' ');
		else
			r = kiln_buf_add(b, n ? (const char *)p : "\xef\xbf\xbd", n ? n : 3);
		if (r < 0)
			abort();
		p += n ? n - 1 : 0;
	}
}

/* Every byte in a checkstyle message and file name, escaped as the reference escapes. */
static void test_checkstyle_escapes(void)
{
	char all[256];
	for (int c = 1; c < 256; c++)
		all[c - 1] = (char)c;
	all[255] = 0;
	const char *messages[] = { all, "a<b>&\"c'\xe2\x80\x94\xc3", "" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(messages); i++) {
		struct kiln_lint_finding f = { .rule = "DL3003", .severity = KILN_LINT_INFO,
					       .line = 3, .col = 2 };
		f.message = (char *)messages[i];
		struct kiln_lint_report rep = { .file = (char *)messages[i], .findings = &f,
						.n_findings = 1 };
		const struct kiln_lint_report *rv[] = { &rep };
		struct kiln_buf out = KILN_BUF_INIT, want = KILN_BUF_INIT, esc = KILN_BUF_INIT;
		xml_slowly(&esc, messages[i]);
		if (kiln_buf_addstr(&want, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
					   "<checkstyle version=\"4.3\">\n<file name=\"") < 0 ||
		    kiln_buf_add(&want, esc.buf ? esc.buf : "", esc.len) < 0 ||
		    kiln_buf_addstr(&want, "\">\n<error line=\"3\" column=\"2\" severity=\"info\" "
					   "message=\"") < 0 ||
		    kiln_buf_add(&want, esc.buf ? esc.buf : "", esc.len) < 0 ||
		    kiln_buf_addstr(&want, "\" source=\"DL3003\"/>\n</file>\n</checkstyle>\n") < 0)
			abort();
		int r = kiln_lint_render(rv, 1, KILN_LINT_FORMAT_CHECKSTYLE, 0, "1.0", &out, NULL);
		TAP_OK(r >= 0 && out.len == want.len && !memcmp(out.buf, want.buf, want.len),
		       "checkstyle escapes message %zu as the reference does", i);
		kiln_buf_release(&out);
		kiln_buf_release(&want);
		kiln_buf_release(&esc);
	}
}

/* tty lines, with and without colours and hints, as a terminal shows them. */
static void test_tty(void)
{
	struct kiln_lint_finding f[] = {
		{ .rule = "DL3003", .severity = KILN_LINT_WARNING, .line = 12, .col = 1,
		  .message = "use WORKDIR", .hint = "WORKDIR /x" },
		{ .rule = "SC2086", .severity = KILN_LINT_ERROR, .line = 0, .col = 140,
		  .message = "quote it" },
	};
	struct kiln_lint_report rep = { .file = "a/Dockerfile", .findings = f, .n_findings = 2 };
	const struct kiln_lint_report *rv[] = { &rep };
	static const struct {
		unsigned flags;
		const char *want;
	} cases[] = {
		{ 0, "a/Dockerfile:12:1 DL3003 warning: use WORKDIR\n    fix: WORKDIR /x\n"
		     "a/Dockerfile:1:140 SC2086 error: quote it\n" },
		{ KILN_LINT_RENDER_NO_HINTS, "a/Dockerfile:12:1 DL3003 warning: use WORKDIR\n"
					     "a/Dockerfile:1:140 SC2086 error: quote it\n" },
		{ KILN_LINT_RENDER_COLOR,
		  "\033[1ma/Dockerfile:12:1\033[0m \033[35mDL3003\033[0m \033[1;33mwarning\033[0m: "
		  "use WORKDIR\n\033[2m    fix: WORKDIR /x\033[0m\n"
		  "\033[1ma/Dockerfile:1:140\033[0m \033[35mSC2086\033[0m \033[1;31merror\033[0m: "
		  "quote it\n" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct kiln_buf out = KILN_BUF_INIT;
		unsigned flags = cases[i].flags;
		int r = kiln_lint_render(rv, 1, KILN_LINT_FORMAT_TTY, flags, "1.0", &out, NULL);
		TAP_STR_EQ(r >= 0 && out.buf ? out.buf : "", cases[i].want, "tty flags %u", flags);
		kiln_buf_release(&out);
	}
}

/* kiln_decimal against printf at the edges of long long. */
static void test_decimal(void)
{
	static const long long values[] = { 0,
					    1,
					    -1,
					    9,
					    10,
					    -10,
					    99,
					    100,
					    2147483647LL,
					    -2147483648LL,
					    LLONG_MAX,
					    LLONG_MIN,
					    LLONG_MIN + 1 };
	size_t same = 0;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char buf[KILN_DECIMAL_MAX], want[32];
		char *p = kiln_decimal(buf + sizeof(buf), values[i]);
		snprintf(want, sizeof(want), "%lld", values[i]);
		if ((size_t) (buf + sizeof(buf) - p) == strlen(want) &&
		    !memcmp(p, want, strlen(want)))
			same++;
		else
			tap_diag("kiln_decimal(%s) differs", want);
	}
	char ubuf[KILN_DECIMAL_MAX];
	char *u = kiln_decimal_u(ubuf + sizeof(ubuf), ULLONG_MAX);
	TAP_OK(same == sizeof(values) / sizeof(values[0]) &&
		       (size_t) (ubuf + sizeof(ubuf) - u) == 20 &&
		       !memcmp(u, "18446744073709551615", 20),
	       "decimal numbers as printf writes them, LLONG_MIN and ULLONG_MAX included");
}

int main(void)
{
	test_decimal();
	/* every ASCII byte, starting at each offset of an eight-byte word */
	char all[160];
	for (size_t off = 0; off < 8; off++) {
		memset(all, 'a', off);
		for (int c = 1; c < 128; c++)
			all[off + (size_t)c - 1] = (char)c;
		all[off + 127] = 0;
		char what[32];
		snprintf(what, sizeof(what), "ASCII at offset %zu", off);
		test_escape(what, all);
	}
	/* one byte to escape at each position of words with none around it */
	static const char specials[] = { '"', '\\', '\n', '\t', '\r', 0x01, 0x1f, 0x7f };
	for (size_t i = 0; i < sizeof(specials); i++)
		for (size_t pos = 0; pos < 24; pos++) {
			char msg[25];
			memset(msg, 'x', 24);
			msg[24] = 0;
			msg[pos] = specials[i];
			char what[48];
			snprintf(what, sizeof(what), "byte 0x%02x at %zu",
				 (unsigned char)specials[i], pos);
			test_escape(what, msg);
		}
	/* the tail of a string longer than a word, read again with the bytes before it: a
	 * byte to escape or a UTF-8 sequence at each position of each length */
	static const char *const odd[] = { "\"", "\n", "\xc3\xa9", "\xff" };
	for (size_t k = 0; k < sizeof(odd) / sizeof(odd[0]); k++)
		for (size_t len = 9; len < 18; len++)
			for (size_t pos = 0; pos + strlen(odd[k]) <= len; pos++) {
				char msg[24];
				memset(msg, 'y', len);
				msg[len] = 0;
				memcpy(msg + pos, odd[k], strlen(odd[k]));
				char what[48];
				snprintf(what, sizeof(what), "tail: %zu bytes, odd one at %zu", len,
					 pos);
				test_escape(what, msg);
			}
	/* UTF-8 passes through: bytes >= 0x80 are no escapes, next to ones that are */
	test_escape("UTF-8", "caf\xc3\xa9 \xe2\x80\x94 \"q\" \xf0\x9f\x90\xb3\x01"
			     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	test_escape("empty", "");
	test_escape("seven bytes", "1234567");
	test_escape("eight bytes", "12345678");
	test_escape("nine bytes", "123456789");
	/* bytes that start no UTF-8 sequence, alone and next to ASCII words */
	for (int c = 0x80; c < 0x100; c++)
		for (size_t pos = 0; pos < 10; pos += 3) {
			char msg[16] = "abcdefghijklmn";
			msg[pos] = (char)c;
			char what[48];
			snprintf(what, sizeof(what), "byte 0x%02x at %zu", (unsigned)c, pos);
			test_escape(what, msg);
		}
	test_escape("surrogate", "a\xed\xa0\x80" "b");
	test_escape("overlong", "a\xc0\x80" "b\xe0\x80\x80" "c");
	test_escape("past U+10FFFF", "a\xf4\x90\x80\x80" "b");
	test_escape("truncated", "a\xe2\x82\xf0\x9f\x90");
	test_escape("four bytes", "\xf0\x9f\x90\xb3\xf4\x8f\xbf\xbf");
	test_sarif_layout();
	test_checkstyle_escapes();
	test_tty();
	return tap_done();
}
