/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "analyze/lint.h"
#include "base/alloc.h"
#include "base/decimal.h"
#include "lint-format.h"
#include "lint-json.h"

/* Rendering findings for people (tty) and for CI systems (json, SARIF,
 * checkstyle, GitLab Code Quality; hadolint's others are lint-format-ci.c's). */

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"

static int line_of(const struct kiln_lint_finding *f)
{
	return f->line > 0 ? f->line : 1;
}

/* Decimal digits of v at the end of num[16]; returns where they start. */
static char *fmt_int(char num[16], int v)
{
	/* columns and most line numbers have one or two digits: no division loop */
	if ((unsigned)v < 10) {
		num[15] = (char)('0' + v);
		return num + 15;
	}
	if ((unsigned)v < 100) {
		num[14] = (char)('0' + v / 10);
		num[15] = (char)('0' + v % 10);
		return num + 14;
	}
	return kiln_decimal(num + 16, v);
}

/* A piece of a tty line: constants and digits come with their lengths. */
struct piece {
	const char *s;
	size_t n;
};

static struct piece str_piece(const char *s)
{
	return (struct piece){ s, strlen(s) };
}

/* Append pieces with one growth of the buffer: a tty line has about twenty. */
static int add_pieces(struct kiln_buf *b, const struct piece *p, size_t n)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		if (kiln_add_size(total, p[i].n, &total) < 0)
			return -KILN_ELIMIT;
	int r = kiln_buf_grow(b, total);
	if (r < 0)
		return r;
	char *o = b->buf + b->len;
	for (size_t i = 0; i < n; i++)
		if (p[i].n) {
			memcpy(o, p[i].s, p[i].n);
			o += p[i].n;
		}
	b->len += total;
	b->buf[b->len] = '\0';
	return 0;
}

#define LIT(s) ((struct piece){ s, sizeof(s) - 1 })

/* Copy n bytes to o; the end. */
static inline char *put(char *o, const char *s, size_t n)
{
	memcpy(o, s, n);
	return o + n;
}

#define PUT_LIT(o, s) put(o, s, sizeof(s) - 1)

/*
 * A severity's name and colour for the tty, padded to 8 bytes: copied 8 at a time (no
 * strlen, no memcpy call), the length says how many count. Past the table: "?" (as
 * kiln_lint_severity_name() gives) and dim.
 */
struct tty_word {
	char s[8];
	unsigned char n;
};

static const struct tty_word tty_sev[] = {
	{ "error", 5 }, { "warning", 7 }, { "info", 4 },
	{ "style", 5 }, { "ignore", 6 },  { "none", 4 },
};
static const struct tty_word tty_sev_c[] = {
	{ "\033[1;31m", 7 }, { "\033[1;33m", 7 }, { "\033[1;36m", 7 },
	{ "\033[2m", 4 },    { "\033[2m", 4 },    { "\033[2m", 4 },
};
static const struct tty_word tty_unknown = { "?", 1 }, tty_unknown_c = { "\033[2m", 4 };

/* Room past a line's end for the fixed-size copies of digits (16) and words (8). */
#define TTY_SLACK 16

/*
 * FILE:LINE:COL RULE SEVERITY: MESSAGE, and "    fix: HINT". Each finding is
 * measured, the buffer grown once, and the line copied in: the rendering
 * runs on one thread after the linting of all files, so it is worth little
 * work per finding.
 */
static inline __attribute__((always_inline)) int
render_tty_as(const struct kiln_lint_report *const *reps, size_t n, unsigned flags,
	      struct kiln_buf *out, int color)
{
	/* the colour sequences, all but the severity's: bold, magenta, dim, four resets */
	size_t color_len = color ? strlen(C_BOLD) + strlen("\033[35m") + strlen(C_DIM) +
					   4 * strlen(C_RESET)
				 : 0;
	/* room for the usual lines at once, not by doubling and copying: a guess, which
	 * may fail (each line grows the buffer as needed still) */
	size_t guess = 0;
	for (size_t r = 0; r < n; r++)
		guess += reps[r]->n_findings;
	if (guess && guess < ((size_t)1 << 20)) {
		/* an empty buffer too small for them is let go, not grown: realloc() would copy
		 * its old block, which holds nothing */
		if (!out->len && out->alloc && out->alloc <= guess * 192)
			kiln_buf_release(out);
		if (kiln_buf_grow(out, guess * 192) < 0) {
			/* nothing lost: the lines grow it themselves */
		}
	}
	for (size_t r = 0; r < n; r++) {
		const char *file = reps[r]->file;
		size_t file_len = strlen(file);
		for (size_t i = 0; i < reps[r]->n_findings; i++) {
			const struct kiln_lint_finding *f = &reps[r]->findings[i];
			/* digits end at [16]; the 16 bytes from their start are all in the array */
			char line[32], col[32];
			char *lp = fmt_int(line, line_of(f)), *cp = fmt_int(col, f->col);
			size_t line_len = (size_t)(line + 16 - lp);
			size_t col_len = (size_t)(col + 16 - cp);
			int hint = f->hint && !(flags & KILN_LINT_RENDER_NO_HINTS);
			int known = (unsigned)f->severity < KILN_ARRAY_SIZE(tty_sev);
			const struct tty_word *sev = known ? &tty_sev[f->severity] : &tty_unknown;
			const struct tty_word *sev_c =
				known ? &tty_sev_c[f->severity] : &tty_unknown_c;
			size_t sev_c_len = color ? sev_c->n : 0;
			size_t rule_len = f->rule_len ? f->rule_len : strlen(f->rule);
			size_t msg_len = f->message_len ? f->message_len : strlen(f->message);
			size_t hint_len = !hint ? 0 : f->hint_len ? f->hint_len : strlen(f->hint);
			size_t total;
			/* ":" ":" " " " " ": " "\n", "    fix: " "\n" (17 bytes) and the colours */
			size_t small = line_len + col_len + rule_len + sev->n;
			small += sev_c_len + color_len;
			if (kiln_add_size(file_len, msg_len, &total) < 0 ||
			    kiln_add_size(total, hint_len, &total) < 0 ||
			    kiln_add_size(total, small + 17 + TTY_SLACK, &total) < 0)
				return -KILN_ELIMIT;
			/* kiln_buf_grow()'s test, inline: the buffer has room for most lines */
			size_t cap = out->cap ? out->cap : KILN_BUF_DEFAULT_CAP;
			if (total >= out->alloc - out->len || total > cap - out->len) {
				int rc = kiln_buf_grow(out, total);
				if (rc < 0)
					return rc;
			}
			char *o = out->buf + out->len;
			if (color)
				o = PUT_LIT(o, C_BOLD);
			o = put(o, file, file_len);
			*o++ = ':';
			memcpy(o, lp, 16);
			o += line_len;
			*o++ = ':';
			memcpy(o, cp, 16);
			o += col_len;
			if (color)
				o = PUT_LIT(o, C_RESET " \033[35m");
			else
				*o++ = ' ';
			o = put(o, f->rule, rule_len);
			if (color)
				o = PUT_LIT(o, C_RESET);
			*o++ = ' ';
			memcpy(o, sev_c->s, 8);
			o += sev_c_len;
			memcpy(o, sev->s, 8);
			o += sev->n;
			if (color)
				o = PUT_LIT(o, C_RESET);
			o = PUT_LIT(o, ": ");
			o = put(o, f->message, msg_len);
			*o++ = '\n';
			if (hint) {
				if (color)
					o = PUT_LIT(o, C_DIM);
				o = PUT_LIT(o, "    fix: ");
				o = put(o, f->hint, hint_len);
				if (color)
					o = PUT_LIT(o, C_RESET);
				*o++ = '\n';
			}
			/* kiln_buf_setlen()'s work, inline: the room was made above (alloc > 0) */
			out->len = (size_t)(o - out->buf);
			*o = '\0';
		}
	}
	return 0;
}

/* color a constant in each of the two copies: its tests go from the loop */
static int render_tty(const struct kiln_lint_report *const *reps, size_t n, unsigned flags,
		      struct kiln_buf *out)
{
	return flags & KILN_LINT_RENDER_COLOR ? render_tty_as(reps, n, flags, out, 1)
					      : render_tty_as(reps, n, flags, out, 0);
}

/*
 * JSON output is written straight into the buffer: reports of thousands of
 * findings spent more time in printf and one-byte appends than in linting.
 */

/* `  "key": "value"` with the separator before it. */
static int json_field_str(struct kiln_buf *b, const char *sep, const char *key, const char *v)
{
	size_t sl = strlen(sep), kl = strlen(key);
	int r = kiln_buf_grow(b, sl + kl + 4);
	if (r < 0)
		return r;
	char *o = b->buf + b->len;
	memcpy(o, sep, sl);
	o += sl;
	*o++ = '"';
	memcpy(o, key, kl);
	o += kl;
	memcpy(o, "\": ", 3);
	o += 3;
	kiln_buf_setlen(b, (size_t)(o - b->buf));
	return lint_json_add_str(b, v);
}

/* A JSON string of s[0..n) at o (room: LINT_JSON_ESCAPE_MAX * n + 2). */
static char *put_json_str(char *o, const char *s, size_t n)
{
	*o++ = '"';
	o = lint_json_escape(o, s, n);
	*o++ = '"';
	return o;
}

/* `KEY: N` (KEY with its separator and quotes) at o */
static char *put_json_int(char *o, const char *key, size_t key_len, int v)
{
	char num[16], *p = fmt_int(num, v);
	o = put(o, key, key_len);
	return put(o, p, (size_t)(num + 16 - p));
}

#define PUT_JSON_INT(o, key, v) put_json_int(o, key, sizeof(key) - 1, v)

/*
 * Each finding measured (its strings at their longest escaped), the buffer grown once and
 * the object written in: no field appended on its own.
 */
static int render_json(const struct kiln_lint_report *const *reps, size_t n, struct kiln_buf *out)
{
	int first = 1;
	if (kiln_buf_addch(out, '[') < 0)
		return -KILN_ENOMEM;
	for (size_t r = 0; r < n; r++) {
		const char *file = reps[r]->file;
		size_t file_len = strlen(file);
		for (size_t i = 0; i < reps[r]->n_findings; i++) {
			const struct kiln_lint_finding *f = &reps[r]->findings[i];
			/* kiln_lint_severity_name()'s, with its length */
			int known = (unsigned)f->severity < KILN_ARRAY_SIZE(tty_sev);
			const struct tty_word *sev = known ? &tty_sev[f->severity] : &tty_unknown;
			const char *level = sev->s;
			size_t hint_len = 0;
			if (f->hint)
				hint_len = f->hint_len ? f->hint_len : strlen(f->hint);
			/* the lengths the findings carry, else measured */
			size_t len[7] = { file_len,
					  f->rule_len ? f->rule_len : strlen(f->rule),
					  sev->n,
					  f->message_len ? f->message_len : strlen(f->message),
					  strlen(f->fingerprint),
					  hint_len,
					  f->url ? strlen(f->url) : 0 };
			/* keys, separators, quotes and three numbers: under 256 bytes */
			size_t room = 256, esc;
			for (size_t k = 0; k < 7; k++)
				if (kiln_mul_size(len[k], LINT_JSON_ESCAPE_MAX, &esc) < 0 ||
				    kiln_add_size(room, esc, &room) < 0)
					return -KILN_ELIMIT;
			int rc = kiln_buf_grow(out, room);
			if (rc < 0)
				return rc;
			char *o = out->buf + out->len;
			o = first ? PUT_LIT(o, "\n  {") : PUT_LIT(o, ",\n  {");
			first = 0;
			o = PUT_LIT(o, "\n    \"file\": ");
			o = put_json_str(o, file, len[0]);
			o = PUT_JSON_INT(o, ",\n    \"line\": ", line_of(f));
			o = PUT_JSON_INT(o, ",\n    \"column\": ", f->col);
			o = PUT_JSON_INT(o, ",\n    \"end_line\": ",
					 f->end_line > 0 ? f->end_line : line_of(f));
			o = PUT_LIT(o, ",\n    \"code\": ");
			o = put_json_str(o, f->rule, len[1]);
			o = PUT_LIT(o, ",\n    \"level\": ");
			o = put_json_str(o, level, len[2]);
			o = PUT_LIT(o, ",\n    \"message\": ");
			o = put_json_str(o, f->message, len[3]);
			o = PUT_LIT(o, ",\n    \"fingerprint\": ");
			o = put_json_str(o, f->fingerprint, len[4]);
			if (f->hint) {
				o = PUT_LIT(o, ",\n    \"hint\": ");
				o = put_json_str(o, f->hint, len[5]);
			}
			if (f->url) {
				o = PUT_LIT(o, ",\n    \"url\": ");
				o = put_json_str(o, f->url, len[6]);
			}
			o = PUT_LIT(o, "\n  }");
			kiln_buf_setlen(out, (size_t)(o - out->buf));
		}
	}
	return kiln_buf_addstr(out, first ? "]\n" : "\n]\n");
}

/* A file name as a URI reference: unreserved characters and '/' stay, the rest is %XX. */
static char *uri_of(const char *path)
{
	struct kiln_buf b = KILN_BUF_INIT;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			 strchr("-._~/", *p);
		if ((ok ? kiln_buf_addch(&b, (char)*p) : kiln_buf_addf(&b, "%%%02X", *p)) < 0) {
			kiln_buf_release(&b);
			return NULL;
		}
	}
	return kiln_buf_detach(&b, NULL);
}

static const char *sarif_level(enum kiln_lint_severity s)
{
	return s == KILN_LINT_ERROR ? "error" : s == KILN_LINT_WARNING ? "warning" : "note";
}

/* The driver's entry for a rule, from the first finding that names it. */
static void sarif_rule(struct lint_json *j, const struct kiln_lint_finding *f)
{
	const struct kiln_lint_rule_info *ri = kiln_lint_rule_find(f->rule);
	cleanup_free char *sc_desc = NULL, *sc_url = NULL;
	const char *desc = ri ? ri->summary : NULL;
	const char *url = ri ? ri->url : NULL;
	if (!ri) {
		sc_desc = kiln_asprintf("ShellCheck %s", f->rule);
		sc_url = kiln_asprintf("https://www.shellcheck.net/wiki/%s", f->rule);
		if (!sc_desc || !sc_url) {
			j->r = -KILN_ENOMEM;
			return;
		}
		desc = sc_desc;
		url = f->family == KILN_LINT_SHELLCHECK ? sc_url : NULL;
	}
	lint_json_open(j, NULL, '{');
	lint_json_str(j, "id", f->rule);
	lint_json_open(j, "shortDescription", '{');
	lint_json_str(j, "text", desc);
	lint_json_close(j, '{');
	if (ri && ri->hint) {
		lint_json_open(j, "help", '{');
		lint_json_str(j, "text", ri->hint);
		lint_json_close(j, '{');
	}
	if (url)
		lint_json_str(j, "helpUri", url);
	lint_json_open(j, "defaultConfiguration", '{');
	lint_json_str(j, "level", sarif_level(ri ? ri->severity : f->severity));
	lint_json_close(j, '{');
	lint_json_close(j, '{');
}

/* Rule ids in the order they first fire, each with its index in the driver's rules. */
struct rule_index {
	struct rule_slot {
		const char *rule;
		size_t index;
	} *slots;
	size_t cap, n;
	const struct kiln_lint_finding **first; /* the finding that named each rule first */
};

static size_t rule_hash(const char *s)
{
	size_t h = 14695981039346656037ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int rule_index_build(struct rule_index *ix, const struct kiln_lint_report *const *reps,
			    size_t n)
{
	size_t total = 0;
	for (size_t r = 0; r < n; r++)
		total += reps[r]->n_findings;
	ix->cap = 16;
	while (ix->cap < 2 * total)
		ix->cap *= 2;
	ix->slots = kiln_calloc(ix->cap, sizeof(*ix->slots));
	ix->first = kiln_calloc(total ? total : 1, sizeof(*ix->first));
	if (!ix->slots || !ix->first)
		return -KILN_ENOMEM;
	for (size_t r = 0; r < n; r++)
		for (size_t i = 0; i < reps[r]->n_findings; i++) {
			const struct kiln_lint_finding *f = &reps[r]->findings[i];
			size_t k = rule_hash(f->rule) & (ix->cap - 1);
			while (ix->slots[k].rule && strcmp(ix->slots[k].rule, f->rule))
				k = (k + 1) & (ix->cap - 1);
			if (!ix->slots[k].rule) {
				ix->slots[k] = (struct rule_slot){ f->rule, ix->n };
				ix->first[ix->n++] = f;
			}
		}
	return 0;
}

static size_t rule_index_of(const struct rule_index *ix, const char *rule)
{
	size_t k = rule_hash(rule) & (ix->cap - 1);
	while (strcmp(ix->slots[k].rule, rule))
		k = (k + 1) & (ix->cap - 1);
	return ix->slots[k].index;
}

static void sarif_result(struct lint_json *j, const struct kiln_lint_finding *f, size_t rule_index,
			 const char *uri)
{
	lint_json_open(j, NULL, '{');
	lint_json_str(j, "ruleId", f->rule);
	lint_json_int(j, "ruleIndex", (long long)rule_index);
	lint_json_str(j, "level", sarif_level(f->severity));
	lint_json_open(j, "message", '{');
	lint_json_str(j, "text", f->message);
	lint_json_close(j, '{');
	lint_json_open(j, "locations", '[');
	lint_json_open(j, NULL, '{');
	lint_json_open(j, "physicalLocation", '{');
	lint_json_open(j, "artifactLocation", '{');
	lint_json_str(j, "uri", uri);
	lint_json_close(j, '{');
	lint_json_open(j, "region", '{');
	lint_json_int(j, "startLine", line_of(f));
	lint_json_int(j, "startColumn", f->col > 0 ? f->col : 1);
	lint_json_int(j, "endLine", f->end_line >= line_of(f) ? f->end_line : line_of(f));
	lint_json_close(j, '{');
	lint_json_close(j, '{');
	lint_json_close(j, '{');
	lint_json_close(j, '[');
	lint_json_open(j, "partialFingerprints", '{');
	lint_json_str(j, "kilnFindingHash/v1", f->fingerprint);
	lint_json_close(j, '{');
	lint_json_close(j, '{');
}

static int render_sarif(const struct kiln_lint_report *const *reps, size_t n, const char *version,
			struct kiln_buf *out)
{
	struct rule_index ix = { 0 };
	int r = rule_index_build(&ix, reps, n);
	struct lint_json j;
	lint_json_begin(&j, out);
	j.r = r;
	lint_json_open(&j, NULL, '{');
	lint_json_str(&j, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
	lint_json_str(&j, "version", "2.1.0");
	lint_json_open(&j, "runs", '[');
	lint_json_open(&j, NULL, '{');
	lint_json_open(&j, "tool", '{');
	lint_json_open(&j, "driver", '{');
	lint_json_str(&j, "name", "kiln-lint");
	lint_json_str(&j, "version", version ? version : "0");
	lint_json_str(&j, "informationUri", "https://docs.docker.com/build/checks/");
	lint_json_open(&j, "rules", '[');
	for (size_t i = 0; i < ix.n; i++)
		sarif_rule(&j, ix.first[i]);
	lint_json_close(&j, '[');
	lint_json_close(&j, '{');
	lint_json_close(&j, '{');
	lint_json_open(&j, "results", '[');
	for (size_t k = 0; j.r >= 0 && k < n; k++) {
		cleanup_free char *uri = uri_of(reps[k]->file);
		if (!uri) {
			j.r = -KILN_ENOMEM;
			break;
		}
		for (size_t i = 0; i < reps[k]->n_findings; i++) {
			const struct kiln_lint_finding *f = &reps[k]->findings[i];
			sarif_result(&j, f, rule_index_of(&ix, f->rule), uri);
		}
	}
	lint_json_close(&j, '[');
	lint_json_str(&j, "columnKind", "unicodeCodePoints");
	lint_json_close(&j, '{');
	lint_json_close(&j, '[');
	lint_json_close(&j, '{');
	free(ix.slots);
	free(ix.first);
	r = lint_json_end(&j);
	return r < 0 ? r : kiln_buf_addch(out, '\n');
}

/* Bytes that stand for themselves in an XML attribute value: printable
 * ASCII but '"' (0x22), '&' (0x26), '\'' (0x27), '<' (0x3c) and '>' (0x3e). */
static const unsigned char xml_plain[256] = {
	[0x20 ... 0x21] = 1, [0x23 ... 0x25] = 1, [0x28 ... 0x3b] = 1, [0x3d] = 1,
	[0x3f ... 0x7f] = 1,
};

/* The longest XML form of one byte ("&quot;"). */
#define XML_ESCAPE_MAX 6

/* An attribute value, escaped: control characters that XML 1.0 cannot carry
 * become spaces, bytes that start no UTF-8 sequence U+FFFD. */
static int xml_escaped(struct kiln_buf *b, const char *s)
{
	size_t n = strlen(s), room;
	if (kiln_mul_size(n, XML_ESCAPE_MAX, &room) < 0)
		return -KILN_ELIMIT;
	int r = kiln_buf_grow(b, room);
	if (r < 0)
		return r;
	char *o = b->buf + b->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (xml_plain[c]) {
			*o++ = (char)c;
			continue;
		}
		const char *ent = c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;"
				  : c == '"' ? "&quot;" : c == '\'' ? "&apos;" : NULL;
		if (ent) {
			size_t el = strlen(ent);
			memcpy(o, ent, el);
			o += el;
		} else if (c >= 0x80) {
			size_t width = lint_utf8_width(s + i, n - i);
			memcpy(o, width ? s + i : "\xef\xbf\xbd", width ? width : 3);
			o += width ? width : 3;
			i += width ? width - 1 : 0;
		} else {
			*o++ = c == '\t' || c == '\n' || c == '\r' ? (char)c : ' ';
		}
	}
	kiln_buf_setlen(b, (size_t)(o - b->buf));
	return 0;
}

static int render_checkstyle(const struct kiln_lint_report *const *reps, size_t n,
			     struct kiln_buf *out)
{
	int r = kiln_buf_addstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				     "<checkstyle version=\"4.3\">\n");
	for (size_t k = 0; r >= 0 && k < n; k++) {
		if ((r = kiln_buf_addstr(out, "<file name=\"")) < 0 ||
		    (r = xml_escaped(out, reps[k]->file)) < 0 || (r = kiln_buf_addstr(out, "\">\n")) < 0)
			break;
		for (size_t i = 0; r >= 0 && i < reps[k]->n_findings; i++) {
			const struct kiln_lint_finding *f = &reps[k]->findings[i];
			const char *sev = f->severity == KILN_LINT_ERROR     ? "error"
					  : f->severity == KILN_LINT_WARNING ? "warning"
									     : "info";
			char line[16], col[16];
			char *lp = fmt_int(line, line_of(f)), *cp = fmt_int(col, f->col);
			const struct piece head[] = {
				LIT("<error line=\""), { lp, (size_t)(line + 16 - lp) },
				LIT("\" column=\""),   { cp, (size_t)(col + 16 - cp) },
				LIT("\" severity=\""), str_piece(sev),
				LIT("\" message=\""),
			};
			if ((r = add_pieces(out, head, KILN_ARRAY_SIZE(head))) < 0 ||
			    (r = xml_escaped(out, f->message)) < 0 ||
			    (r = kiln_buf_addstr(out, "\" source=\"")) < 0 ||
			    (r = xml_escaped(out, f->rule)) < 0 || (r = kiln_buf_addstr(out, "\"/>\n")) < 0)
				break;
		}
		if (r >= 0)
			r = kiln_buf_addstr(out, "</file>\n");
	}
	if (r >= 0)
		r = kiln_buf_addstr(out, "</checkstyle>\n");
	return r;
}

/* GitLab's category of a finding: secrets are Security, ShellCheck's Bug Risk. */
const char *lint_codeclimate_category(const struct kiln_lint_finding *f)
{
	static const char *const security[] = { "KL1006", "KL1007", "KL1008", "DL3064",
						"SecretsUsedInArgOrEnv" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(security); i++)
		if (!strcmp(f->rule, security[i]))
			return "Security";
	if (f->family == KILN_LINT_SHELLCHECK)
		return "Bug Risk";
	return f->severity == KILN_LINT_STYLE ? "Style" : "Bug Risk";
}

static int render_codeclimate(const struct kiln_lint_report *const *reps, size_t n,
			      struct kiln_buf *out)
{
	static const char *const sev[] = { "blocker", "major", "info", "minor" };
	int first = 1;
	if (kiln_buf_addch(out, '[') < 0)
		return -KILN_ENOMEM;
	for (size_t r = 0; r < n; r++) {
		for (size_t i = 0; i < reps[r]->n_findings; i++) {
			const struct kiln_lint_finding *f = &reps[r]->findings[i];
			int rc = kiln_buf_addstr(out, first ? "\n  {\n    \"type\": \"issue\""
							    : ",\n  {\n    \"type\": \"issue\"");
			first = 0;
			if (rc >= 0)
				rc = json_field_str(out, ",\n    ", "check_name", f->rule);
			if (rc >= 0)
				rc = json_field_str(out, ",\n    ", "description", f->message);
			if (rc >= 0) {
				const struct piece cat[] = { LIT(",\n    \"categories\": [\""),
							     str_piece(lint_codeclimate_category(f)),
							     LIT("\"]") };
				rc = add_pieces(out, cat, KILN_ARRAY_SIZE(cat));
			}
			if (rc >= 0)
				rc = json_field_str(out, ",\n    ", "fingerprint", f->fingerprint);
			if (rc >= 0)
				rc = json_field_str(out, ",\n    ", "severity",
						    sev[f->severity < 4 ? f->severity : 3]);
			if (rc >= 0)
				rc = json_field_str(out, ",\n    \"location\": {\n      ", "path",
						    reps[r]->file);
			char begin[16], end[16];
			char *bp = fmt_int(begin, line_of(f));
			int last = f->end_line >= line_of(f) ? f->end_line : line_of(f);
			char *ep = fmt_int(end, last);
			const struct piece lines[] = {
				LIT(",\n      \"lines\": {\"begin\": "),
				{ bp, (size_t)(begin + 16 - bp) },
				LIT(", \"end\": "),
				{ ep, (size_t)(end + 16 - ep) },
				LIT("}\n    }\n  }"),
			};
			if (rc >= 0)
				rc = add_pieces(out, lines, KILN_ARRAY_SIZE(lines));
			if (rc < 0)
				return rc == -KILN_ELIMIT ? rc : -KILN_ENOMEM;
		}
	}
	return kiln_buf_addstr(out, first ? "]\n" : "\n]\n") < 0 ? -KILN_ENOMEM : 0;
}

int kiln_lint_render(const struct kiln_lint_report *const *reps, size_t n,
		     enum kiln_lint_format fmt, unsigned flags, const char *version,
		     struct kiln_buf *out, struct kiln_error *err)
{
	int r;
	switch (fmt) {
	case KILN_LINT_FORMAT_TTY:
		r = render_tty(reps, n, flags, out);
		break;
	case KILN_LINT_FORMAT_JSON:
		r = render_json(reps, n, out);
		break;
	case KILN_LINT_FORMAT_SARIF:
		r = render_sarif(reps, n, version, out);
		break;
	case KILN_LINT_FORMAT_CHECKSTYLE:
		r = render_checkstyle(reps, n, out);
		break;
	case KILN_LINT_FORMAT_CODECLIMATE:
		r = render_codeclimate(reps, n, out);
		break;
	case KILN_LINT_FORMAT_CODECLIMATE_ENGINE:
		r = lint_render_codeclimate_engine(reps, n, out);
		break;
	case KILN_LINT_FORMAT_GNU:
		r = lint_render_gnu(reps, n, out);
		break;
	case KILN_LINT_FORMAT_CODACY:
		r = lint_render_codacy(reps, n, out);
		break;
	case KILN_LINT_FORMAT_SONARQUBE:
		r = lint_render_sonarqube(reps, n, out);
		break;
	default:
		return kiln_fail(err, KILN_EINVAL, 0, "unknown output format %d", (int)fmt);
	}
	if (r == -KILN_ELIMIT)
		return kiln_fail(err, KILN_ELIMIT, 0, "the report is too large");
	if (r < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}
