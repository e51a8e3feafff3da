/* SPDX-License-Identifier: Apache-2.0 */
/* kiln lint's JSON output: string escaping, byte by byte and eight bytes at a time. */
#include <jansson.h>
#include <string.h>

#include "analyze/lint.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "tap.h"

/* The escaped form the JSON output must hold, one byte at a time. */
static void escape_slowly(struct kiln_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char tmp[8];
		if (*p == '"' || *p == '\\')
			snprintf(tmp, sizeof(tmp), "\\%c", *p);
		else if (*p == '\n')
			snprintf(tmp, sizeof(tmp), "\\n");
		else if (*p == '\t')
			snprintf(tmp, sizeof(tmp), "\\t");
		else if (*p == '\r')
			snprintf(tmp, sizeof(tmp), "\\r");
		else if (*p < 0x20)
			snprintf(tmp, sizeof(tmp), "\\u%04x", *p);
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

static void test_escape(const char *what, const char *message)
{
	struct kiln_buf want = KILN_BUF_INIT, got = KILN_BUF_INIT;
	escape_slowly(&want, message);
	cleanup_free char *parsed = NULL;
	int r = render_message(message, &got, &parsed);
	TAP_OK(r >= 0 && got.len == want.len && !memcmp(got.buf, want.buf, want.len),
	       "%s: escaped as byte by byte", what);
	TAP_OK(parsed && !strcmp(parsed, message), "%s: parses back to the message", what);
	kiln_buf_release(&want);
	kiln_buf_release(&got);
}

int main(void)
{
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
	/* UTF-8 passes through: bytes >= 0x80 are no escapes, next to ones that are */
	test_escape("UTF-8", "caf\xc3\xa9 \xe2\x80\x94 \"q\" \xf0\x9f\x90\xb3\x01"
			     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	test_escape("empty", "");
	test_escape("seven bytes", "1234567");
	test_escape("eight bytes", "12345678");
	test_escape("nine bytes", "123456789");
	return tap_done();
}
