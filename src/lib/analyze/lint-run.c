/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "analyze/lint-internal.h"
#include "base/alloc.h"
#include "base/arena.h"
#include "base/decimal.h"
#include "base/digest.h"
#include "base/fs.h"
#include "dockerfile/ast.h"
#include "dockerfile/graph.h"

/*
 * The arena of a report: the report itself, its file name, its findings and
 * their strings (rule and message), one block for all of them instead of
 * two heap strings per finding, allocated and freed one by one. Findings
 * are few per file, and every report keeps its arena until the output is
 * written: 2 KiB chunks, not 4, took 2,400 files from 18.6 to 15.4 MiB
 * resident and 800 fewer page faults (4 % less CPU time), at the same
 * instruction count.
 */
#define LINT_STRINGS_CHUNK ((size_t)2048)

struct kiln_lint_report *lint_report_new(const char *name)
{
	struct kiln_arena *a = kiln_arena_new_sized(LINT_STRINGS_CHUNK);
	if (!a)
		return NULL;
	size_t nl = strlen(name);
	struct kiln_lint_report *rep = kiln_arena_alloc(a, sizeof(*rep));
	char *file = rep ? kiln_arena_take_(a, nl + 1, 1) : NULL;
	if (!file) {
		kiln_arena_free(a);
		return NULL;
	}
	rep->file = memcpy(file, name, nl + 1);
	rep->strings = a;
	return rep;
}

/* The report's arena, which the file borrows (NULL: none, and the file is out of memory). */
static struct kiln_arena *strings_arena(struct lint_file *f)
{
	if (!f->strings)
		f->nomem = 1;
	return f->strings;
}

/*
 * The table's entry of `rule`: the last finding's again when it is the same name, or the
 * thread's cache's when the same address named it before.
 */
static inline __attribute__((always_inline)) const struct kiln_lint_rule_info *
rule_info(struct lint_file *f, const char *rule)
{
	const struct kiln_lint_rule_info *ri = f->last_ri;
	if (ri && ri->code == rule)
		return ri;
	struct lint_rule_cache *c = f->rule_cache;
	uintptr_t a = (uintptr_t)rule;
	size_t k = (size_t)(a ^ a >> 6) % LINT_RULE_CACHE_SLOTS;
	/* the same literal, unless a buffer there now holds another name: compared */
	if (c && c->slot[k].name == rule &&
	    (c->slot[k].ri->code == rule || lint_str_eq(c->slot[k].ri->code, rule)))
		return f->last_ri = c->slot[k].ri;
	if (ri && lint_str_eq(ri->code, rule))
		return ri;
	if ((ri = kiln_lint_rule_find(rule))) {
		f->last_ri = ri;
		if (c) {
			c->slot[k].name = rule;
			c->slot[k].ri = ri;
		}
	}
	return ri;
}

/*
 * Whether finish_findings() drops every finding of `rule` whatever its line says: a rule
 * of the table that is off by default (DL3057), not BuildKit's (which check=error=true
 * raises), and not given a severity by the configuration. Such a finding is counted, not
 * recorded: no message made, no record to sort out. lint_emit_sev()'s severity is its
 * own, so it records as before.
 */
static void count_dropped(struct lint_file *f)
{
	if (f->n_raw + f->n_dropped >= KILN_LINT_MAX_FINDINGS)
		f->truncated = 1; /* as emit_msg() does */
	else
		f->n_dropped++;
}

static int dropped_slow(struct lint_file *f, const char *rule)
{
	const struct kiln_lint_config *cfg = f->cfg;
	for (size_t i = cfg ? cfg->override_rule.len : 0; i-- > 0;)
		if (strcmp(cfg->override_rule.items[i], rule) == 0)
			return 0;
	count_dropped(f);
	return 1;
}

/* ri: rule_info(f, rule). The test of most findings inline, the rest in dropped_slow(). */
static inline int dropped(struct lint_file *f, const struct kiln_lint_rule_info *ri,
			  const char *rule)
{
	if (!ri || ri->severity < KILN_LINT_IGNORE || ri->family == KILN_LINT_BUILDKIT)
		return 0;
	return dropped_slow(f, rule);
}

int lint_rule_off(struct lint_file *f, const char *rule)
{
	const struct kiln_lint_rule_info *ri = rule_info(f, rule);
	if (!ri || ri->severity < KILN_LINT_IGNORE || ri->family == KILN_LINT_BUILDKIT)
		return 0;
	const struct kiln_lint_config *cfg = f->cfg;
	for (size_t i = cfg ? cfg->override_rule.len : 0; i-- > 0;)
		if (strcmp(cfg->override_rule.items[i], rule) == 0)
			return 0;
	return 1;
}

void lint_emit_off(struct lint_file *f)
{
	/* what lint_emit() does before it finds the rule off */
	if (f->nomem || !strings_arena(f))
		return;
	count_dropped(f);
}

/* Record a finding whose message is in f->strings (or static). Inlined in the few emitters:
 * a file has about ten findings, each one a call less. */
static inline __attribute__((always_inline)) void
emit_msg(struct lint_file *f, const struct kiln_lint_rule_info *ri, const char *rule, int instr,
	 int line, int col, enum kiln_lint_severity sev, char *msg, size_t msg_len)
{
	if (f->n_raw + f->n_dropped >= KILN_LINT_MAX_FINDINGS) {
		f->truncated = 1;
		return;
	}
	if (f->n_raw == f->raw_alloc) {
		size_t n = f->raw_alloc ? f->raw_alloc * 2 : 16;
		/* in the model's arena, which lives as long (one allocation less per file); a
		 * grown array leaves the old one there. A file that does not parse has none. */
		int in_arena = f->arena && (f->raw_in_arena || !f->raw);
		struct lint_raw *nr = in_arena ? kiln_arena_array_uninit(f->arena, n, sizeof(*nr))
					       : kiln_reallocarray(f->raw, n, sizeof(*nr));
		if (!nr) {
			f->nomem = 1;
			return;
		}
		if (in_arena && f->n_raw)
			memcpy(nr, f->raw, f->n_raw * sizeof(*nr));
		f->raw = nr;
		f->raw_alloc = n;
		f->raw_in_arena = in_arena;
	}
	struct lint_raw *r = &f->raw[f->n_raw];
	/* each member written, not the record zeroed first (occ: finish_findings()'s) */
	r->ri = ri;
	r->line = line;
	r->end_line = line;
	r->col = col > 0 ? col : 1;
	r->instr = instr;
	r->sev = sev;
	r->sev_set = (int)sev != -1;
	r->occ = 0;
	if (instr >= 0 && (size_t)instr < f->n_instrs)
		r->end_line = f->instrs[instr].end_line > line ? f->instrs[instr].end_line : line;
	/* a rule of the table is named by the table's static string, which nobody writes */
	r->rule = ri ? (char *)ri->code : kiln_arena_strndup_packed(f->strings, rule, strlen(rule));
	r->message = msg;
	r->message_len = msg_len;
	if (!r->rule) {
		f->nomem = 1;
		return;
	}
	f->n_raw++;
}

void lint_emit_sev(struct lint_file *f, const char *rule, int instr, int line, int col,
		   enum kiln_lint_severity sev, const char *msg)
{
	if (f->nomem)
		return;
	struct kiln_arena *a = strings_arena(f);
	size_t n = strlen(msg);
	char *m = a ? kiln_arena_strndup_packed(a, msg, n) : NULL;
	if (!m) {
		f->nomem = 1;
		return;
	}
	emit_msg(f, rule_info(f, rule), rule, instr, line, col, sev, m, n);
}

/* A string of n + 1 bytes: in the arena, or on the heap when a is NULL. */
static char *msg_alloc(struct kiln_arena *a, size_t n)
{
	return a ? kiln_arena_array_uninit(a, n + 1, 1) : kiln_malloc(n + 1);
}

static char *msg_dup(struct kiln_arena *a, const char *s, size_t n)
{
	char *m = msg_alloc(a, n);
	if (m) {
		memcpy(m, s, n);
		m[n] = '\0';
	}
	return m;
}

#define MSG_MAX_ARGS 8

/*
 * A format whose conversions are all "%s" (none NULL), "%d", "%zu" or
 * "%.*s" (up to 8), the pieces put in place: 1 and the message, 0 when
 * printf has to do it, -1 out of memory. Most messages with arguments are
 * texts with a name, a line number or two in them; these conversions give
 * what printf gives. `borrow`: a format without conversions, a string
 * literal, is the message itself (no copy).
 */
static int format_simple(struct kiln_arena *a, const char *fmt, va_list ap, int borrow, char **ret,
			 size_t *ret_len)
{
	struct lint_piece pc[2 * MSG_MAX_ARGS + 1];
	char num[MSG_MAX_ARGS][24]; /* an integer's digits end at num[k] + 24 */
	size_t np = 0, n_args = 0, total = 0;
	const char *p = fmt;
	int plain = 1;
	va_list ap1;
	va_copy(ap1, ap);
	for (;;) {
		const char *pct = strchrnul(p, '%');
		if (pct > p) {
			pc[np++] = (struct lint_piece){ p, (size_t)(pct - p) };
			total += (size_t)(pct - p);
		}
		if (!*pct)
			break;
		if (n_args == MSG_MAX_ARGS) {
			plain = 0;
			break;
		}
		struct lint_piece *arg = &pc[np];
		char *nend = num[n_args] + sizeof(num[n_args]);
		if (pct[1] == 's') {
			if (!(arg->s = va_arg(ap1, const char *))) {
				plain = 0; /* printf's "(null)" */
				break;
			}
			arg->n = strlen(arg->s);
			p = pct + 2;
		} else if (pct[1] == 'd') {
			char *d = kiln_decimal(nend, va_arg(ap1, int));
			*arg = (struct lint_piece){ d, (size_t)(nend - d) };
			p = pct + 2;
		} else if (pct[1] == 'z' && pct[2] == 'u') {
			char *d = kiln_decimal_u(nend, va_arg(ap1, size_t));
			*arg = (struct lint_piece){ d, (size_t)(nend - d) };
			p = pct + 3;
		} else if (pct[1] == '.' && pct[2] == '*' && pct[3] == 's') {
			int prec = va_arg(ap1, int);
			if (!(arg->s = va_arg(ap1, const char *))) {
				plain = 0;
				break;
			}
			/* a negative precision is taken as none */
			arg->n = prec < 0 ? strlen(arg->s) : strnlen(arg->s, (size_t)prec);
			p = pct + 4;
		} else {
			plain = 0; /* a conversion printf has to do */
			break;
		}
		total += arg->n;
		np++;
		n_args++;
	}
	va_end(ap1);
	if (!plain)
		return 0;
	*ret_len = total;
	if (borrow && n_args == 0) {
		*ret = (char *)fmt; /* static, never written: the report frees only its arena */
		return 1;
	}
	char *m = msg_alloc(a, total);
	if (!m)
		return -1;
	*ret = lint_pieces_join(m, pc, np);
	return 1;
}

/*
 * A message in the arena a (NULL: a heap string): formatted once on the stack when it fits;
 * borrow: see format_simple(). *len: its length.
 */
static char *format_msg(struct kiln_arena *a, const char *fmt, va_list ap, int borrow,
			size_t *len)
{
	/* most messages are a fixed text or a few strings and numbers: no printf for those */
	char *m = NULL;
	int simple = format_simple(a, fmt, ap, borrow, &m, len);
	if (simple)
		return simple > 0 ? m : NULL;
	char small[512];
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	if ((size_t)n < sizeof(small))
		return msg_dup(a, small, (size_t)n);
	m = msg_alloc(a, (size_t)n);
	if (m)
		(void)vsnprintf(m, (size_t)n + 1, fmt, ap);
	return m;
}

void lint_emit_static(struct lint_file *f, const char *rule, int instr, int line, const char *msg,
		      size_t msg_len)
{
	/* the arena is made as lint_emit() makes it: the findings go there */
	if (f->nomem || !strings_arena(f))
		return;
	const struct kiln_lint_rule_info *ri = rule_info(f, rule);
	if (dropped(f, ri, rule))
		return;
	emit_msg(f, ri, rule, instr, line, 1, (enum kiln_lint_severity) - 1, (char *)msg, msg_len);
}

void lint_emit_str(struct lint_file *f, const char *rule, int instr, int line, ...)
{
	va_list ap;
	va_start(ap, line);
	const char *s = va_arg(ap, const char *);
	va_end(ap);
	if (!s) { /* printf's "(null)" */
		const struct lint_piece null = LINT_LIT("(null)");
		lint_emit_pieces(f, rule, instr, line, &null, 1);
		return;
	}
	const struct lint_piece pc = LINT_STR(s);
	lint_emit_pieces(f, rule, instr, line, &pc, 1);
}

void(lint_emit)(struct lint_file *f, const char *rule, int instr, int line, const char *fmt, ...)
{
	if (f->nomem)
		return;
	struct kiln_arena *a = strings_arena(f);
	if (!a)
		return;
	const struct kiln_lint_rule_info *ri = rule_info(f, rule);
	if (dropped(f, ri, rule))
		return;
	va_list ap;
	va_start(ap, fmt);
	size_t len = 0;
	char *msg = format_msg(a, fmt, ap, 1, &len); /* fmt: a literal (see the callers) */
	va_end(ap);
	if (!msg) {
		f->nomem = 1;
		return;
	}
	emit_msg(f, ri, rule, instr, line, 1, (enum kiln_lint_severity) - 1, msg, len);
}

void lint_emit_pieces(struct lint_file *f, const char *rule, int instr, int line,
		      const struct lint_piece *pc, size_t np)
{
	if (f->nomem)
		return;
	struct kiln_arena *a = strings_arena(f);
	if (!a)
		return;
	const struct kiln_lint_rule_info *ri = rule_info(f, rule);
	if (dropped(f, ri, rule))
		return;
	size_t total = 0;
	for (size_t i = 0; i < np; i++)
		if (kiln_add_size(total, pc[i].n, &total) < 0) {
			f->nomem = 1;
			return;
		}
	char *m = msg_alloc(a, total);
	if (!m) {
		f->nomem = 1;
		return;
	}
	lint_pieces_join(m, pc, np);
	emit_msg(f, ri, rule, instr, line, 1, (enum kiln_lint_severity) - 1, m, total);
}

void lint_note(struct lint_file *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t len;
	char *msg = format_msg(NULL, fmt, ap, 0, &len); /* freed by the notes */
	va_end(ap);
	if (!msg) {
		f->nomem = 1;
		return;
	}
	/* a file's scripts may go to several shellcheck runs that fail alike */
	for (size_t i = 0; i < f->notes->len; i++)
		if (!strcmp(f->notes->items[i], msg)) {
			free(msg);
			return;
		}
	if (kiln_strv_push_owned(f->notes, msg) < 0)
		f->nomem = 1;
}

/* ---- pragmas ---- */

/*
 * hadolint's rule list, whole or not at all: names separated by commas
 * (spaces around them allowed), then at most a "# reason". "A B" and "A,"
 * are no list, so the pragma is not one (Pragma.hs parses it so). Names are
 * letters and digits, so kiln's KL codes and BuildKit's check names fit.
 */
static int rule_list_valid(const char *p)
{
	for (;;) {
		size_t n = 0;
		while ((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= 'a' && p[n] <= 'z') ||
		       (p[n] >= '0' && p[n] <= '9'))
			n++;
		if (!n)
			return 0;
		p += n;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			return 1;
		if (*p != ',')
			return 0;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
	}
}

/* Does `text` (a comment, '#' removed) say "<tool> [global] ignore=<list>"? */
static const char *ignore_pragma(const char *text, int *global)
{
	const char *p = text;
	if (lint_str_has_prefix(p, "hadolint"))
		p += 8;
	else if (lint_str_has_prefix(p, "kiln"))
		p += 4;
	else
		return NULL;
	if (*p != ' ' && *p != '\t')
		return NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	*global = 0;
	if (lint_str_has_prefix(p, "global") && (p[6] == ' ' || p[6] == '\t')) {
		*global = 1;
		p += 6;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	if (!lint_str_has_prefix(p, "ignore"))
		return NULL;
	p += 6;
	while (*p == ' ')
		p++;
	if (*p != '=')
		return NULL;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	return rule_list_valid(p) ? p : NULL;
}

/* Is `rule` in the comma/space separated list (up to a "# reason")? */
static int list_has(const char *list, size_t len, const char *rule)
{
	size_t rl = strlen(rule);
	size_t i = 0;
	const char *hash = memchr(list, '#', len);
	if (hash)
		len = (size_t) (hash - list);
	while (i < len) {
		while (i < len && (list[i] == ',' || list[i] == ' ' || list[i] == '\t'))
			i++;
		size_t s = i;
		while (i < len && list[i] != ',' && list[i] != ' ' && list[i] != '\t')
			i++;
		if (i - s == rl && memcmp(list + s, rule, rl) == 0)
			return 1;
		if (i - s == 3 && memcmp(list + s, "all", 3) == 0 && !lint_str_has_prefix(rule, "DL") &&
		    !lint_str_has_prefix(rule, "SC") && !lint_str_has_prefix(rule, "KL"))
			return 1; /* BuildKit's skip=all covers BuildKit's checks */
	}
	return 0;
}

/* A BuildKit `check=` value: skip=a,b;error=true. */
struct check_directive {
	const char *skip;
	size_t skip_len;
	int error;
};

static void parse_check(const char *v, struct check_directive *c)
{
	*c = (struct check_directive){ 0 };
	while (*v) {
		while (*v == ' ' || *v == ';')
			v++;
		size_t n = strcspn(v, ";");
		if (lint_str_has_prefix(v, "skip=")) {
			c->skip = v + 5;
			c->skip_len = n - 5;
		} else if (lint_str_has_prefix(v, "error=")) {
			c->error = n == 10 && strncasecmp(v + 6, "true", 4) == 0;
		}
		v += n;
	}
}

/* The comments directly above a node (no blank line between). */
static size_t adjacent_comments(const struct kiln_df_node *n, size_t *ret_first)
{
	size_t k = n->n_comments;
	int want = n->start_line - 1;
	while (k > 0 && n->comments[k - 1].line == want) {
		k--;
		want--;
	}
	*ret_first = k;
	return n->n_comments - k;
}

/* What applies to the whole file: the check= directive and global pragmas. */
struct file_pragmas {
	struct check_directive check;
	int has_check;
	const char **globals; /* lists of `# hadolint global ignore=` comments */
	size_t n_globals;
};

static int file_pragmas_init(const struct lint_file *f, struct file_pragmas *p)
{
	*p = (struct file_pragmas){ 0 };
	const struct kiln_df_ast *ast = f->ast;
	static const char bk_check[] = "BUILDKIT_DOCKERFILE_CHECK";
	const char *arg = lint_build_arg(f, bk_check, sizeof(bk_check) - 1);
	if (arg) {
		/* as in BuildKit, the build arg replaces the directive as a whole */
		parse_check(arg, &p->check);
		p->has_check = 1;
	}
	for (size_t i = 0; !arg && i < ast->n_directives; i++) {
		if (strcmp(lint_text(&ast->directives[i].name), "check") != 0)
			continue;
		parse_check(lint_text(&ast->directives[i].value), &p->check);
		p->has_check = 1;
	}
	if (f->cfg && f->cfg->disable_ignore_pragma)
		return 0;
	for (size_t i = 0; i < ast->n_comments; i++) {
		int global;
		const char *l = ignore_pragma(lint_text(&ast->comments[i].text), &global);
		if (!l || !global)
			continue;
		const char **ng = kiln_reallocarray(p->globals, p->n_globals + 1, sizeof(*ng));
		if (!ng)
			return -KILN_ENOMEM;
		p->globals = ng;
		p->globals[p->n_globals++] = l;
	}
	return 0;
}

static int suppressed(const struct lint_file *f, const struct file_pragmas *fp,
		      const struct lint_raw *r, int *ret_error)
{
	const struct kiln_lint_config *cfg = f->cfg;
	int pragmas = !(cfg && cfg->disable_ignore_pragma);
	*ret_error = 0;
	if (fp->has_check) {
		if (fp->check.skip && list_has(fp->check.skip, fp->check.skip_len, r->rule))
			return 1;
		*ret_error = fp->check.error;
	}
	for (size_t i = 0; i < fp->n_globals; i++)
		if (list_has(fp->globals[i], strlen(fp->globals[i]), r->rule))
			return 1;
	int ni = r->instr;
	if (ni < 0 || (size_t)ni >= f->n_instrs)
		return 0;
	const struct kiln_df_node *n = f->instrs[ni].outer;
	size_t first, cnt = adjacent_comments(n, &first);
	for (size_t k = first; k < first + cnt; k++) {
		const char *t = lint_text(&n->comments[k].text);
		int global;
		/* an ignore pragma is for the line after it, as hadolint has it */
		const char *l = pragmas && n->comments[k].line == n->start_line - 1
					? ignore_pragma(t, &global)
					: NULL;
		if (l && !global && list_has(l, strlen(l), r->rule))
			return 1;
		if (lint_str_has_prefix(t, "check=")) {
			struct check_directive c;
			parse_check(t + 6, &c);
			if (c.skip && list_has(c.skip, c.skip_len, r->rule))
				return 1;
			if (c.error)
				*ret_error = 1;
		}
	}
	return 0;
}

/* DL1001: every inline ignore pragma. */
static void inline_pragmas(struct lint_file *f)
{
	/* every comment of a node is one of the file's: most files have none */
	for (size_t i = 0; f->ast->n_comments && i < f->n_instrs; i++) {
		const struct kiln_df_node *n = f->instrs[i].outer;
		if (f->instrs[i].onbuild && n != f->instrs[i].outer)
			continue;
		for (size_t k = 0; k < n->n_comments; k++) {
			int global;
			if (ignore_pragma(lint_text(&n->comments[k].text), &global) && !global)
				lint_emit(f, "DL1001", (int)i, n->comments[k].line,
					  "an inline ignore pragma silences rules for one instruction; "
					  "prefer fixing the finding or ignoring the rule in the configuration");
		}
	}
}

/* ---- severity and output ---- */

static int cfg_ignored(const struct kiln_lint_config *cfg, const char *rule)
{
	return cfg && cfg->ignored.len && kiln_strv_find(&cfg->ignored, rule) >= 0;
}

static enum kiln_lint_severity cfg_severity(const struct kiln_lint_config *cfg, const char *rule,
					    enum kiln_lint_severity sev)
{
	if (!cfg)
		return sev;
	for (size_t i = cfg->override_rule.len; i-- > 0;)
		if (strcmp(cfg->override_rule.items[i], rule) == 0)
			return cfg->override_sev[i];
	return sev;
}

static enum kiln_lint_family family_of(const char *rule, const struct kiln_lint_rule_info *ri)
{
	if (ri)
		return ri->family;
	if (lint_str_has_prefix(rule, "SC"))
		return KILN_LINT_SHELLCHECK;
	if (lint_str_has_prefix(rule, "DL"))
		return KILN_LINT_HADOLINT;
	if (lint_str_has_prefix(rule, "KL"))
		return KILN_LINT_KILN;
	return KILN_LINT_BUILDKIT;
}

/*
 * The SHA-256 of file name, rule, message and instruction text, each with its NUL, and the
 * occurrence's digits. The parts go to the hash as they are, into the file's one context
 * (kiln_sha256_final starts it anew): no copy into a buffer, no snprintf, no context
 * allocated per finding.
 */
static void fingerprint(struct lint_file *f, struct kiln_sha256 *h, struct kiln_lint_finding *fi,
			const struct lint_raw *r, unsigned occurrence, size_t filename_len)
{
	const char *snippet = "";
	size_t snippet_len = 0;
	if (r->instr >= 0 && (size_t)r->instr < f->n_instrs) {
		const struct kiln_df_text *t = &f->instrs[r->instr].outer->original;
		snippet = lint_text(t);
		snippet_len = snippet == t->str ? t->len : 0; /* lint_text() measured it */
	}
	char occ[16], *op = kiln_decimal_u(occ + sizeof(occ), occurrence);
	const char *parts[] = { f->filename, fi->rule, fi->message, snippet };
	/* the lengths known, else measured */
	size_t lens[] = { filename_len, fi->rule_len ? fi->rule_len : strlen(fi->rule),
			  fi->message_len ? fi->message_len : strlen(fi->message), snippet_len };
	/* each part with its NUL, as a separator */
	for (size_t i = 0; i < KILN_ARRAY_SIZE(parts); i++)
		kiln_sha256_update(h, parts[i], lens[i] + 1);
	kiln_sha256_update(h, op, (size_t)(occ + sizeof(occ) - op));
	struct kiln_digest d;
	kiln_sha256_final(h, &d);
	memcpy(fi->fingerprint, d.hex, sizeof(fi->fingerprint));
}

/* How many findings with the same rule and message came before (for fingerprints). */
struct occurrences {
	struct occ_slot {
		uint64_t key;
		unsigned count;
		int used;
	} *slots;
	size_t cap;
};

/* Slots on the caller's stack: a file's findings (a handful) need no calloc() and free(). */
#define OCC_STACK_SLOTS 64

/* `stack`: OCC_STACK_SLOTS slots, used when they are enough (o->slots then is stack). */
static int occurrences_init(struct occurrences *o, size_t n, struct occ_slot *stack)
{
	o->cap = 16;
	while (o->cap < 2 * n)
		o->cap *= 2;
	if (o->cap <= OCC_STACK_SLOTS) {
		o->slots = memset(stack, 0, o->cap * sizeof(*o->slots));
		return 0;
	}
	o->slots = kiln_calloc(o->cap, sizeof(*o->slots));
	return o->slots ? 0 : -KILN_ENOMEM;
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h ^ 0xff) * 1099511628211ULL;
}

static unsigned occurrence(struct occurrences *o, const struct lint_raw *r)
{
	uint64_t key = fnv(fnv(1469598103934665603ULL, r->rule), r->message);
	size_t i = (size_t)key & (o->cap - 1);
	while (o->slots[i].used && o->slots[i].key != key)
		i = (i + 1) & (o->cap - 1);
	o->slots[i].used = 1;
	o->slots[i].key = key;
	return o->slots[i].count++;
}

/* Line, column, rule, message; equal ones in the order they were emitted (their addresses) */
static int cmp_raw(const struct lint_raw *x, const struct lint_raw *y)
{
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	/* most findings of a line are of one rule, named by the table's string: the same
	 * pointer is the same text */
	int c = x->rule == y->rule ? 0 : strcmp(x->rule, y->rule);
	if (!c && x->message != y->message)
		c = strcmp(x->message, y->message);
	return c ? c : x < y ? -1 : x > y;
}

static int cmp_raw_ptr(const void *a, const void *b)
{
	return cmp_raw(*(const struct lint_raw *const *)a, *(const struct lint_raw *const *)b);
}

/*
 * Up to this many findings (most files have a handful) an insertion sort:
 * glibc's qsort copies the array aside through malloc() once it passes
 * 1 KiB, which costs more than the sort.
 */
#define LINT_INSERTION_SORT_MAX 32

static void insertion_sort(struct lint_raw **v, size_t n)
{
	/* rules emit in line order: most are in place, and the inner loop stops at once */
	for (size_t i = 1; i < n; i++) {
		struct lint_raw *t = v[i];
		size_t j = i;
		for (; j > 0 && cmp_raw(v[j - 1], t) > 0; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
}

/*
 * v[0..n) sorted through tmp (n pointers): halves sorted, then merged, unless the first
 * half already ends before the second begins (each rule set emits in line order). cmp_raw()
 * orders every two records (their addresses last), so the order is the one qsort() gave.
 */
static void merge_sort(struct lint_raw **v, struct lint_raw **tmp, size_t n)
{
	if (n <= LINT_INSERTION_SORT_MAX) {
		insertion_sort(v, n);
		return;
	}
	size_t h = n / 2;
	merge_sort(v, tmp, h);
	merge_sort(v + h, tmp, n - h);
	if (cmp_raw(v[h - 1], v[h]) <= 0)
		return;
	memcpy(tmp, v, h * sizeof(*v));
	size_t a = 0, b = h, o = 0;
	while (a < h && b < n)
		v[o++] = cmp_raw(v[b], tmp[a]) < 0 ? v[b++] : tmp[a++];
	while (a < h)
		v[o++] = tmp[a++];
}

/* Past this many findings the merge's buffer comes from the heap (else the stack's). */
#define SORT_STACK 256

void lint_sort_raw(struct lint_raw **v, size_t n)
{
	if (n <= LINT_INSERTION_SORT_MAX) {
		insertion_sort(v, n);
		return;
	}
	/* a merge sort without qsort()'s calls through a pointer per comparison */
	struct lint_raw *stack[SORT_STACK / 2], **tmp = stack;
	if (n / 2 > KILN_ARRAY_SIZE(stack) &&
	    !(tmp = kiln_reallocarray(NULL, n / 2, sizeof(*tmp)))) {
		qsort(v, n, sizeof(*v), cmp_raw_ptr); /* no memory for the merge: as before */
		return;
	}
	merge_sort(v, tmp, n);
	if (tmp != stack)
		free(tmp);
}

/* Findings kept in one pass, before they are sorted */
#define KEPT_STACK 64

/*
 * The findings that stay, sorted by lint_sort_raw(), written once in place:
 * sorting pointers to the raw records moves 8 bytes, not a finding's 130. The
 * occurrences are counted in the order of emission, as before sorting. h: the
 * hash of the fingerprints, NULL without them.
 */
static int finish_findings(struct lint_file *f, const struct file_pragmas *fp,
			   struct occurrences *occ, struct kiln_sha256 *h,
			   struct kiln_lint_report *rep)
{
	struct lint_raw *stack[KEPT_STACK], **v = stack;
	if (f->n_raw > KEPT_STACK && !(v = kiln_reallocarray(NULL, f->n_raw, sizeof(*v))))
		return -KILN_ENOMEM;
	size_t n = 0;
	/* without a check= directive, global pragmas or any comment (which a node's pragmas
	 * would be) nothing is suppressed nor raised to an error: most files */
	int pragmas = f->ast && (fp->has_check || fp->n_globals || f->ast->n_comments);
	for (size_t i = 0; i < f->n_raw; i++) {
		struct lint_raw *r = &f->raw[i];
		const struct kiln_lint_rule_info *ri = r->ri; /* looked up by emit_msg() */
		if (cfg_ignored(f->cfg, r->rule))
			continue;
		int as_error = 0;
		if (pragmas && suppressed(f, fp, r, &as_error))
			continue;
		enum kiln_lint_severity sev = r->sev_set ? r->sev : (ri ? ri->severity : KILN_LINT_WARNING);
		if (as_error && family_of(r->rule, ri) == KILN_LINT_BUILDKIT)
			sev = KILN_LINT_ERROR;
		sev = cfg_severity(f->cfg, r->rule, sev);
		if (sev >= KILN_LINT_IGNORE)
			continue;
		r->sev = sev;
		if (h)
			r->occ = occurrence(occ, r);
		v[n++] = r;
	}
	lint_sort_raw(v, n);
	size_t filename_len = h ? strlen(f->filename) : 0;
	for (size_t k = 0; k < n; k++) {
		const struct lint_raw *r = v[k];
		const struct kiln_lint_rule_info *ri = r->ri;
		enum kiln_lint_family fam = family_of(r->rule, ri);
		struct kiln_lint_finding *fi = &rep->findings[k];
		/* each member written (the array is not zeroed), the fingerprint "" until made:
		 * a compound literal would zero its 65 bytes, which only strlen() reads */
		fi->rule = r->rule; /* f->strings', which the report takes over */
		fi->family = fam;
		fi->severity = r->sev;
		fi->line = r->line;
		fi->col = r->col;
		fi->end_line = r->end_line;
		/* a longer one is measured again */
		fi->message_len = r->message_len <= UINT32_MAX ? (uint32_t)r->message_len : 0;
		fi->message = r->message;
		fi->hint = ri ? ri->hint : NULL;
		fi->url = fam == KILN_LINT_SHELLCHECK ? "https://www.shellcheck.net/wiki/"
			  : ri ? ri->url : NULL;
		fi->fingerprint[0] = '\0';
		fi->hint_len = ri ? ri->hint_len : 0;
		fi->rule_len = ri ? ri->code_len : 0;
		if (h)
			fingerprint(f, h, fi, r, r->occ, filename_len);
	}
	rep->n_findings = n;
	if (v != stack)
		free(v);
	return 0;
}

int lint_file_finish(struct lint_file *f, struct kiln_lint_report *rep, struct kiln_error *err)
{
	if (f->ast)
		inline_pragmas(f);
	if (f->nomem)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	/* the findings go where their strings are, in the report's arena */
	if (!strings_arena(f) ||
	    !(rep->findings = kiln_arena_array_uninit(f->strings, f->n_raw ? f->n_raw : 1,
						      sizeof(*rep->findings))))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	f->strings = NULL;
	struct file_pragmas fp = { 0 };
	if (f->ast && file_pragmas_init(f, &fp) < 0) {
		free(fp.globals);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	struct occurrences occ = { 0 }; /* only for fingerprints */
	struct occ_slot occ_stack[OCC_STACK_SLOTS];
	struct kiln_sha256 *h = NULL;
	int r = 0;
	if (!(f->opts->flags & KILN_LINT_NO_FINGERPRINTS) && f->n_raw &&
	    (occurrences_init(&occ, f->n_raw, occ_stack) < 0 || kiln_sha256_new(&h, NULL) < 0))
		r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	else if (finish_findings(f, &fp, &occ, h, rep) < 0)
		r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	free(fp.globals);
	if (occ.slots != occ_stack)
		free(occ.slots);
	kiln_sha256_free(h);
	if (r < 0)
		return r;
	if (f->truncated && kiln_strv_push(&rep->notes, "too many findings: the rest were dropped") < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return 0;
}

void lint_file_release(struct lint_file *f)
{
	if (!f->raw_in_arena) /* else lint_model_release() frees it */
		free(f->raw);
	f->raw = NULL;
	f->n_raw = f->raw_alloc = f->n_dropped = 0;
	f->raw_in_arena = 0;
	f->strings = NULL; /* the report's */
	lint_model_release(f);
	kiln_df_ast_free(f->ast);
	f->ast = NULL;
	lint_context_release(f);
	free(f->owned);
	f->owned = NULL;
	f->data = NULL;
}

int lint_file_prepare(struct lint_file *f, struct kiln_error *err)
{
	int r;
	if (!f->data && f->path) {
		if ((r = kiln_read_file(f->path, KILN_DF_MAX_FILE, &f->owned, &f->len, err)) < 0)
			return kiln_error_prefix(err, r, "reading %s", f->path);
		f->data = f->owned;
	}
	struct kiln_error perr = KILN_ERROR_INIT;
	r = f->spare ? kiln_df_parse_in(f->spare, f->data, f->len, f->filename, &f->ast, &perr)
		     : kiln_df_parse(f->data, f->len, f->filename, &f->ast, &perr);
	if (r == -KILN_ENOMEM) {
		kiln_error_move(err, &perr);
		return r;
	}
	if (r < 0) {
		f->ast = NULL;
		lint_emit(f, "KL0001", -1, perr.pos.line > 0 ? perr.pos.line : 1, "%s",
			  perr.msg ? perr.msg : "the Dockerfile does not parse");
		kiln_error_release(&perr);
		return 0;
	}
	if ((r = lint_model_build(f, err)) < 0)
		return r;
	lint_rules_dl_instr(f);
	lint_rules_dl_run(f); /* and dl_pkg's */
	lint_rules_dl_labels(f);
	lint_rules_kiln(f);
	if ((r = lint_rules_buildkit(f, err)) < 0)
		return r;
	if (f->opts->context_dir && (r = lint_rules_context(f, err)) < 0)
		return kiln_error_prefix(err, r, "%s", f->filename);
	return 0;
}

void kiln_lint_report_free(struct kiln_lint_report *r)
{
	if (!r)
		return;
	kiln_strv_release(&r->notes);
	/* the report, its file name, findings and their strings (lint_report_new) */
	kiln_arena_free(r->strings);
}

int kiln_lint_reaches(const struct kiln_lint_report *const *reps, size_t n,
		      enum kiln_lint_severity threshold)
{
	if (threshold >= KILN_LINT_NONE)
		return 0;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < reps[i]->n_findings; k++)
			if (reps[i]->findings[k].severity <= threshold)
				return 1;
	return 0;
}
