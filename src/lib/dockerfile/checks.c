/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BuildKit's linter: the rule table, which rules the check configuration
 * keeps (check-config.c parses it from the directive, the build arg and the
 * comments above an instruction), the warning sink the model and graph walks
 * report into, and the checks that run over the whole file.
 */
#include "checks.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/gotext.h"
#include "base/strv.h"
#include "checks-internal.h"
#include "goconv.h"
#include "graph-internal.h"
#include "model-internal.h"
#include "internal.h"
#include "syntax.h"

#define URL(slug) "https://docs.docker.com/go/dockerfile/rule/" slug "/"

static const struct kiln_df_check_rule rules[DF_RULE_MAX_] = {
	[DF_RULE_STAGE_NAME_CASING] = { "StageNameCasing", "Stage names should be lowercase",
					URL("stage-name-casing"), 0 },
	[DF_RULE_FROM_AS_CASING] = { "FromAsCasing",
				     "The 'as' keyword should match the case of the 'from' keyword",
				     URL("from-as-casing"), 0 },
	[DF_RULE_NO_EMPTY_CONTINUATION] = { "NoEmptyContinuation",
					    "Empty continuation lines will become errors in a "
					    "future release",
					    URL("no-empty-continuation"), 0 },
	[DF_RULE_CONSISTENT_INSTRUCTION_CASING] = { "ConsistentInstructionCasing",
						    "All commands within the Dockerfile should use "
						    "the same casing (either upper or "
						    "lower)",
						    URL("consistent-instruction-casing"), 0 },
	[DF_RULE_DUPLICATE_STAGE_NAME] = { "DuplicateStageName", "Stage names should be unique",
					   URL("duplicate-stage-name"), 0 },
	[DF_RULE_RESERVED_STAGE_NAME] = { "ReservedStageName",
					  "Reserved words should not be used as stage names",
					  URL("reserved-stage-name"), 0 },
	[DF_RULE_JSON_ARGS_RECOMMENDED] = { "JSONArgsRecommended",
					    "JSON arguments recommended for ENTRYPOINT/CMD to "
					    "prevent unintended behavior "
					    "related to OS signals",
					    URL("json-args-recommended"), 0 },
	[DF_RULE_MAINTAINER_DEPRECATED] = { "MaintainerDeprecated",
					    "The MAINTAINER instruction is deprecated, use a label "
					    "instead to define an image "
					    "author",
					    URL("maintainer-deprecated"), 0 },
	[DF_RULE_UNDEFINED_ARG_IN_FROM] = { "UndefinedArgInFrom",
					    "FROM command must use declared ARGs",
					    URL("undefined-arg-in-from"), 0 },
	[DF_RULE_WORKDIR_RELATIVE_PATH] = { "WorkdirRelativePath",
					    "Relative workdir without an absolute workdir declared "
					    "within the build can have "
					    "unexpected results if the base image changes",
					    URL("workdir-relative-path"), 0 },
	[DF_RULE_UNDEFINED_VAR] = { "UndefinedVar", "Variables should be defined before their use",
				    URL("undefined-var"), 0 },
	[DF_RULE_MULTIPLE_INSTRUCTIONS_DISALLOWED] = { "MultipleInstructionsDisallowed",
						       "Multiple instructions of the same type "
						       "should not be used in the same stage",
						       URL("multiple-instructions-disallowed"), 0 },
	[DF_RULE_LEGACY_KEY_VALUE_FORMAT] = { "LegacyKeyValueFormat",
					      "Legacy key/value format with whitespace separator "
					      "should not be used",
					      URL("legacy-key-value-format"), 0 },
	[DF_RULE_INVALID_BASE_IMAGE_PLATFORM] = { "InvalidBaseImagePlatform",
						  "Base image platform does not match expected "
						  "target platform",
						  NULL, 0 },
	[DF_RULE_REDUNDANT_TARGET_PLATFORM] = { "RedundantTargetPlatform",
						"Setting platform to predefined $TARGETPLATFORM in "
						"FROM is redundant as this is "
						"the default behavior",
						URL("redundant-target-platform"), 0 },
	[DF_RULE_SECRETS_USED_IN_ARG_OR_ENV] = { "SecretsUsedInArgOrEnv",
						 "Sensitive data should not be used in the ARG or "
						 "ENV commands",
						 URL("secrets-used-in-arg-or-env"), 0 },
	[DF_RULE_INVALID_DEFAULT_ARG_IN_FROM] = { "InvalidDefaultArgInFrom",
						  "Default value for global ARG results in an "
						  "empty or invalid base image name",
						  URL("invalid-default-arg-in-from"), 0 },
	[DF_RULE_FROM_PLATFORM_FLAG_CONST_DISALLOWED] = { "FromPlatformFlagConstDisallowed",
							  "FROM --platform flag should not use a "
							  "constant value",
							  URL("from-platform-flag-const-"
							      "disallowed"),
							  0 },
	[DF_RULE_COPY_IGNORED_FILE] = { "CopyIgnoredFile",
					"Attempting to Copy file that is excluded by .dockerignore",
					URL("copy-ignored-file"), 0 },
	[DF_RULE_INVALID_DEFINITION_DESCRIPTION] = { "InvalidDefinitionDescription",
						     "Comment for build stage or argument should "
						     "follow the format: `# <arg/stage name> "
						     "<description>`. If this is not intended to "
						     "be a description comment, add an "
						     "empty line or comment between the "
						     "instruction and the comment.",
						     URL("invalid-definition-description"), 1 },
	[DF_RULE_EXPOSE_PROTO_CASING] = { "ExposeProtoCasing",
					  "Protocol in EXPOSE instruction should be lowercase",
					  URL("expose-proto-casing"), 0 },
	[DF_RULE_EXPOSE_INVALID_FORMAT] = { "ExposeInvalidFormat",
					    "IP address and host-port mapping should not be used "
					    "in EXPOSE instruction. This "
					    "will become an error in a future release",
					    URL("expose-invalid-format"), 0 },
};

const struct kiln_df_check_rule *kiln_df_check_rules(size_t *ret_n)
{
	*ret_n = DF_RULE_MAX_;
	return rules;
}

/* The warnings' messages, packed into blocks (the newest first): no allocation each */
struct msg_block {
	struct msg_block *next;
	size_t used, cap;
	char text[];
};

struct kiln_df_lint {
	struct df_check_config cfg;
	struct msg_block *text;
	struct kiln_df_check_warning *w;
	size_t n, alloc;
	int w_inline; /* w is the first text block's (text_room): not to be freed */
	size_t *seen; /* open addressing over w: index + 1, 0 = empty */
	size_t seen_cap;
	size_t n_called;
	uint32_t called_mask;
	const char *file;
	/* last, zeroed only when used (lint_init): the first table, for the few
	 * warnings most files have (no allocation), and the rules that reported,
	 * in the order they first did, for error=true (n_called of them) */
	size_t seen_small[32];
	unsigned char called[DF_RULE_MAX_];
};

/* an empty lint: all but the scratch arrays at its end zeroed (most files use neither) */
static void lint_init(struct kiln_df_lint *l, const char *file)
{
	memset(l, 0, offsetof(struct kiln_df_lint, seen_small));
	l->file = file;
}
_Static_assert(DF_RULE_MAX_ <= 32, "called_mask holds a bit per rule");

int df_lint_wants(const struct kiln_df_lint *l, enum df_rule rule)
{
	(void) rule; /* a comment above an instruction may enable any rule there */
	return l != NULL;
}

static int kept(const struct kiln_df_lint *l, const struct df_check_config *scope,
		enum df_rule rule)
{
	const char *name = rules[rule].name;
	/* most lists are empty: no call to search them */
	if (rules[rule].experimental)
		return l->cfg.experimental_all || scope->experimental_all ||
		       (l->cfg.experimental.len &&
			kiln_strv_find(&l->cfg.experimental, name) >= 0) ||
		       (scope->experimental.len && kiln_strv_find(&scope->experimental, name) >= 0);
	return !(l->cfg.skip_all || scope->skip_all ||
		 (l->cfg.skip.len && kiln_strv_find(&l->cfg.skip, name) >= 0) ||
		 (scope->skip.len && kiln_strv_find(&scope->skip, name) >= 0));
}

/* Warnings already reported, by rule, lines and message: a file with thousands of them must
 * not compare each new one with all before it. The message is read eight bytes a step. */
static uint64_t warning_hash(const struct kiln_df_check_warning *w, size_t len)
{
	const uint64_t prime = 1099511628211ULL;
	uint64_t h = 1469598103934665603ULL;
	h = (h ^ (uint64_t) (uintptr_t) w->rule) * prime;
	h = (h ^ (uint64_t) (unsigned) w->line) * prime;
	h = (h ^ (uint64_t) (unsigned) w->end_line) * prime;
	h = (h ^ len) * prime;
	const char *m = w->message;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t v;
		memcpy(&v, m + i, 8);
		h = (h ^ v) * prime;
	}
	for (; i < len; i++)
		h = (h ^ (unsigned char) m[i]) * prime;
	return h ^ (h >> 29); /* the slot is the low bits: fold the high ones in */
}

static size_t *seen_slot(struct kiln_df_lint *l, const struct kiln_df_check_warning *w,
			 size_t len)
{
	size_t mask = l->seen_cap - 1;
	for (size_t i = (size_t) warning_hash(w, len) & mask;; i = (i + 1) & mask) {
		size_t k = l->seen[i];
		if (!k)
			return &l->seen[i];
		const struct kiln_df_check_warning *o = &l->w[k - 1];
		if (o->rule == w->rule && o->line == w->line && o->end_line == w->end_line &&
		    !strcmp(o->message, w->message))
			return &l->seen[i];
	}
}

static int seen_grow(struct kiln_df_lint *l)
{
	size_t cap = l->seen_cap ? l->seen_cap * 2 : KILN_ARRAY_SIZE(l->seen_small);
	size_t *n = l->seen_cap ? kiln_calloc(cap, sizeof(*n)) : l->seen_small;
	if (!n)
		return -KILN_ENOMEM;
	if (!l->seen_cap)
		memset(l->seen_small, 0, sizeof(l->seen_small));
	if (l->seen != l->seen_small)
		free(l->seen);
	l->seen = n;
	l->seen_cap = cap;
	for (size_t i = 0; i < l->n; i++)
		*seen_slot(l, &l->w[i], strlen(l->w[i].message)) = i + 1;
	return 0;
}

/* the warnings the first text block holds: one allocation for both in most files */
enum { FIRST_WARNINGS = 8 };

/* Room for n bytes at the end of the lint's text (kept once `used` counts them), or NULL. */
static char *text_room(struct kiln_df_lint *l, size_t n)
{
	struct msg_block *b = l->text;
	if (b && b->cap - b->used >= n)
		return b->text + b->used;
	/* the first block starts with the first warnings (no warning is kept before a text) */
	size_t head = b ? 0 : FIRST_WARNINGS * sizeof(*l->w);
	/* a block holds the few messages of most files; no larger than malloc's cached sizes */
	size_t cap = 1024 - sizeof(*b);
	if (n > cap - head) {
		if (n > SIZE_MAX - sizeof(*b) - head)
			return NULL;
		cap = n + head;
	}
	if (!(b = kiln_malloc(sizeof(*b) + cap)))
		return NULL;
	b->next = l->text;
	b->used = head;
	b->cap = cap;
	l->text = b;
	if (head) {
		l->w = (struct kiln_df_check_warning *) (void *) b->text;
		l->alloc = FIRST_WARNINGS;
		l->w_inline = 1;
	}
	return b->text + b->used;
}

static void text_free(struct msg_block *b)
{
	while (b) {
		struct msg_block *next = b->next;
		free(b);
		b = next;
	}
}

/* Where format_message writes: the lint's text, or the end of a buffer. */
struct msg_sink {
	struct kiln_df_lint *l;
	struct kiln_buf *b;
	int err; /* the buffer's error */
};

static char *sink_room(struct msg_sink *s, size_t len)
{
	if (s->l)
		return text_room(s->l, len + 1);
	int r = kiln_buf_grow(s->b, len);
	if (r < 0) {
		s->err = r;
		return NULL;
	}
	return s->b->buf + s->b->len;
}

/*
 * The message, NUL-terminated, in the sink's room (not yet kept there): the
 * rules' formats hold only %s (and maybe %%), which this copies without the
 * printf machinery; any other format (or more than it has room for) goes to it.
 */
static char *format_message(struct msg_sink *s, const char *fmt, va_list ap, size_t *ret_len)
	__attribute__((format(printf, 2, 0)));
static char *format_message(struct msg_sink *s, const char *fmt, va_list ap, size_t *ret_len)
{
	enum { MAX_CONV = 8 };
	const char *conv[MAX_CONV], *arg[MAX_CONV];
	size_t alen[MAX_CONV], n = 0, pct = 0;
	for (const char *p = fmt; (p = strchr(p, '%')); p += 2) {
		if ((p[1] != 's' && p[1] != '%') || n == MAX_CONV) {
			struct kiln_buf b = KILN_BUF_INIT;
			char *msg = kiln_buf_vaddf(&b, fmt, ap) >= 0 ? sink_room(s, b.len) : NULL;
			if (msg) {
				memcpy(msg, b.buf, b.len + 1);
				*ret_len = b.len;
			}
			kiln_buf_release(&b);
			return msg;
		}
		pct += p[1] == '%';
		conv[n++] = p;
	}
	size_t flen = strlen(fmt), total = flen - 2 * n + pct;
	for (size_t i = 0; i < n; i++) {
		if (conv[i][1] != 's')
			continue;
		arg[i] = va_arg(ap, const char *);
		if (!arg[i])
			arg[i] = "(null)"; /* as glibc prints it */
		alen[i] = strlen(arg[i]);
		total += alen[i];
	}
	char *msg = sink_room(s, total), *o = msg;
	if (!msg)
		return NULL;
	const char *p = fmt;
	for (size_t i = 0; i < n; i++) {
		memcpy(o, p, (size_t) (conv[i] - p));
		o += conv[i] - p;
		if (conv[i][1] == 's') {
			memcpy(o, arg[i], alen[i]);
			o += alen[i];
		} else {
			*o++ = '%';
		}
		p = conv[i] + 2;
	}
	memcpy(o, p, (size_t) (fmt + flen - p) + 1);
	*ret_len = total;
	return msg;
}

int df_lint_format(struct kiln_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t len;
	struct msg_sink s = { NULL, b, 0 };
	char *msg = format_message(&s, fmt, ap, &len);
	va_end(ap);
	if (!msg)
		return s.err ? s.err : -KILN_ENOMEM;
	kiln_buf_setlen(b, b->len + len);
	return 0;
}

int df_lint_run(struct kiln_df_lint *l, enum df_rule rule, const struct kiln_df_node *scope,
		int start, int end, const char *fmt, ...)
{
	if (!l)
		return 0;
	/* no comment above it (most instructions): an empty scope, nothing to parse or free */
	static const struct df_check_config no_scope = { 0 };
	int keep;
	if (!scope || !scope->n_comments) {
		keep = kept(l, &no_scope, rule);
	} else {
		struct df_check_config sc;
		int r = df_check_config_scope(scope, &sc);
		keep = r >= 0 && kept(l, &sc, rule);
		df_check_config_release(&sc);
		if (r < 0)
			return r;
	}
	if (!keep)
		return 0;
	va_list ap;
	va_start(ap, fmt);
	size_t len = 0;
	struct msg_sink s = { l, NULL, 0 };
	char *msg = format_message(&s, fmt, ap, &len);
	va_end(ap);
	if (!msg)
		return -KILN_ENOMEM;
	/* the message stays in the text's room until kept: nothing to free otherwise */
	struct kiln_df_check_warning w = { &rules[rule], msg, start, end };
	if ((l->n + 1) * 2 > l->seen_cap && seen_grow(l) < 0)
		return -KILN_ENOMEM;
	size_t *slot = seen_slot(l, &w, len);
	if (*slot)
		return 0; /* the same warning again (a variable used twice, ...) */
	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 16;
		struct kiln_df_check_warning *nw =
			kiln_reallocarray(l->w_inline ? NULL : l->w, na, sizeof(*nw));
		if (!nw)
			return -KILN_ENOMEM;
		if (l->w_inline)
			memcpy(nw, l->w, l->n * sizeof(*nw));
		l->w_inline = 0;
		l->w = nw;
		l->alloc = na;
	}
	l->w[l->n++] = w;
	l->text->used += len + 1;
	*slot = l->n;
	if (!(l->called_mask & (UINT32_C(1) << rule))) {
		l->called_mask |= UINT32_C(1) << rule;
		l->called[l->n_called++] = (unsigned char) rule;
	}
	return 0;
}

/* strings.ToLower(s) == s; for ASCII (every keyword BuildKit knows) without a copy */
static int is_lower(const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
		if (*p >= 0x80)
			return df_go_is_lower(s);
		if (*p >= 'A' && *p <= 'Z')
			return 0;
	}
	return 1;
}

/*
 * A keyword's case in one pass over it: bit 1 is is_lower's answer, bit 2
 * df_go_is_upper's (no ASCII lower case letter); <0 on failure.
 */
static int keyword_case(const char *s)
{
	static const unsigned char k[256] = { ['a' ... 'z'] = 1, ['A' ... 'Z'] = 2,
					      [0x80 ... 0xff] = 4 };
	unsigned f = 0;
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
		f |= k[*p];
	/* an ASCII upper case letter never lower-cases to itself, whatever else is there */
	int lower = (f & 2) ? 0 : (f & 4) ? df_go_is_lower(s) : 1;
	if (lower < 0)
		return lower;
	return (lower ? 1 : 0) | ((f & 1) ? 0 : 2);
}

/*
 * keyword_case of an instruction's keyword: the parser points a keyword
 * spelled as the upper or lower-case name at that static name, so for
 * most a pointer comparison tells its case.
 */
static int instr_keyword_case(const struct kiln_df_instr *in)
{
	if ((int) in->cmd > KILN_DF_UNKNOWN && in->cmd < KILN_DF_CMD_MAX_) {
		if (in->keyword == df_cmd_upper[in->cmd])
			return 2;
		if (in->keyword == kiln_df_cmd_name(in->cmd))
			return 1;
	}
	return keyword_case(in->keyword);
}

/* ---- the checks of the parse, in BuildKit's ParseInstructionWithLinter ---- */

struct parse_hook {
	struct kiln_df_lint *l;
};

/* is_lower of the text up to a NUL byte in it (AST text ends in one) */
static int text_is_lower(const struct kiln_df_text *t)
{
	return is_lower(t->str);
}

static int definition_description(struct kiln_df_lint *l, const char *instr,
				  const char *const *keys, size_t nkeys,
				  const struct kiln_df_node *node)
{
	if (!node->n_comments || !nkeys)
		return 0;
	const struct kiln_df_text *last = &node->comments[node->n_comments - 1].text;
	size_t w = 0;
	while (w < last->len && last->str[w] != ' ')
		w++;
	for (size_t i = 0; i < nkeys; i++)
		if (strlen(keys[i]) == w && !memcmp(keys[i], last->str, w))
			return 0;
	return df_lint_run(l, DF_RULE_INVALID_DEFINITION_DESCRIPTION, node, node->start_line,
			   node->end_line,
			   "Comment for %s should follow the format: `# %s <description>`", instr,
			   nkeys > 1 ? "<arg_key>" : keys[0]);
}

/* the checks BuildKit's parser runs on a node before typing it */
static int node_checks(struct kiln_df_lint *l, const struct kiln_df_node *node,
		       const struct kiln_df_instr *in)
{
	int sl = node->start_line, el = node->end_line;
	if (node->cmd == KILN_DF_MAINTAINER)
		return df_lint_run(l, DF_RULE_MAINTAINER_DEPRECATED, node, sl, el,
				   "Maintainer instruction is deprecated in favor of using "
				   "label");
	if (node->cmd != KILN_DF_FROM || node->n_args != 3)
		return 0;
	/* typed, a name kept as written is lower-case ASCII (parse_from): no second scan */
	int lower = in && in->cmd == KILN_DF_FROM && in->u.from.name &&
				    in->u.from.name == node->args[2].str
			    ? 1
			    : text_is_lower(&node->args[2]);
	if (lower < 0)
		return lower;
	if (!lower &&
	    df_lint_run(l, DF_RULE_STAGE_NAME_CASING, node, sl, el,
			"Stage name '%s' should be lowercase", node->args[2].str) < 0)
		return -KILN_ENOMEM;
	/* AST text ends in a NUL: as C strings, these are what a copy would be */
	const char *kw = node->keyword.str, *as = node->args[1].str;
	/* "FROM" and "from" are the parser's static names: their case is known */
	int kl, ku;
	if (kw == df_cmd_upper[KILN_DF_FROM]) {
		kl = 0, ku = 1;
	} else if (kw == kiln_df_cmd_name(KILN_DF_FROM)) {
		kl = 1, ku = 0;
	} else {
		kl = is_lower(kw);
		ku = df_go_is_upper(kw);
	}
	int al = is_lower(as);
	if (kl < 0 || al < 0)
		return -KILN_ENOMEM;
	int match = (!kl && !ku) || (kl ? al : df_go_is_upper(as));
	if (!match)
		return df_lint_run(l, DF_RULE_FROM_AS_CASING, node, sl, el,
				   "'%s' and '%s' keywords' casing do not match", as, kw);
	return 0;
}

/* the node's checks, then (when it could be typed) the instruction's */
static __attribute__((noinline)) int parse_checks_run(void *ud, const struct kiln_df_node *node,
						      const struct kiln_df_instr *in)
{
	struct kiln_df_lint *l = ((struct parse_hook *) ud)->l;
	int r = node_checks(l, node, in);
	if (r < 0 || !in)
		return r;
	if (in->cmd == KILN_DF_FROM && in->u.from.name) {
		const char *k = in->u.from.name;
		return definition_description(l, "FROM", &k, 1, node);
	}
	if (in->cmd == KILN_DF_ARG && node->n_comments && in->u.args.n) {
		cleanup_free const char **keys = kiln_calloc(in->u.args.n + 1, sizeof(char *));
		if (!keys)
			return -KILN_ENOMEM;
		for (size_t i = 0; i < in->u.args.n; i++)
			keys[i] = in->u.args.v[i].key;
		return definition_description(l, "ARG", keys, in->u.args.n, node);
	}
	return 0;
}

/*
 * The model's hook, called for MAINTAINER, FROM and ARG nodes only: an ARG
 * has anything to check only under comments, and returns before the checks'
 * own (costlier) entry otherwise.
 */
static int parse_checks(void *ud, const struct kiln_df_node *node, const struct kiln_df_instr *in)
{
	if (node->cmd == KILN_DF_ARG && (!in || !node->n_comments))
		return 0;
	return parse_checks_run(ud, node, in);
}

/*
 * validateStageNames and validateCommandCasing. `seen` (slots NULL, cap 0) becomes
 * the table of the stage names, in stage order, when a stage is named: the walk's too.
 */
static int stage_checks(struct kiln_df_lint *l, const struct kiln_df_model *m,
			struct df_names *seen_out)
{
	struct df_names *seen = seen_out;
	int r;
	/* most files name no stage: no table for the names then */
	int named = 0;
	for (size_t s = 0; s < m->n_stages && !named; s++)
		named = m->stages[s].from->u.from.name != NULL;
	if (named && df_names_init(seen, m->n_stages) < 0)
		return -KILN_ENOMEM;
	for (size_t s = 0; named && s < m->n_stages; s++) {
		const struct kiln_df_instr *from = m->stages[s].from;
		const char *name = from->u.from.name;
		if (!name)
			continue;
		/* "context" or "scratch": a strcmp only for a name that starts like one */
		int is_reserved = (name[0] == 'c' && !strcmp(name, "context")) ||
				  (name[0] == 's' && !strcmp(name, "scratch"));
		int dup = df_names_add(seen, name, s) >= 0;
		if (!is_reserved && !dup)
			continue; /* nothing to report: no quoted name needed */
		struct kiln_buf q = KILN_BUF_INIT;
		if (kiln_go_quote(&q, name, strlen(name)) < 0) {
			kiln_buf_release(&q);
			return -KILN_ENOMEM;
		}
		r = 0;
		if (is_reserved)
			r = df_lint_run(l, DF_RULE_RESERVED_STAGE_NAME, from->node,
					from->start_line, from->end_line,
					"Stage name should not use the same name as reserved "
					"stage %s",
					q.buf);
		if (r >= 0 && dup)
			r = df_lint_run(l, DF_RULE_DUPLICATE_STAGE_NAME, from->node,
					from->start_line, from->end_line,
					"Duplicate stage name %s, stage names should be unique",
					q.buf);
		kiln_buf_release(&q);
		if (r < 0)
			return r;
	}
	size_t lower = 0, upper = 0, total = 0;
	/* most keywords are the parser's upper-case name: one pointer test each */
	for (size_t s = 0; s < m->n_stages; s++) {
		const struct kiln_df_instr *in = m->stages[s].instrs;
		const struct kiln_df_instr *end = in + m->stages[s].n_instrs;
		total += m->stages[s].n_instrs;
		for (; in < end; in++) {
			if ((int) in->cmd > KILN_DF_UNKNOWN && in->cmd < KILN_DF_CMD_MAX_ &&
			    in->keyword == df_cmd_upper[in->cmd]) {
				upper++;
				continue;
			}
			int kc = instr_keyword_case(in);
			if (kc < 0)
				return kc;
			if (kc & 1)
				lower++;
			else if (kc & 2)
				upper++;
		}
	}
	int majority_lower = lower > upper;
	/* every keyword in the majority's case: nothing to report */
	if ((majority_lower ? lower : upper) == total)
		return 0;
	for (size_t s = 0; s < m->n_stages; s++)
		for (size_t i = 0; i < m->stages[s].n_instrs; i++) {
			const struct kiln_df_instr *in = &m->stages[s].instrs[i];
			int kc = instr_keyword_case(in);
			if (kc < 0)
				return kc;
			const char *want = NULL;
			if (majority_lower && !(kc & 1))
				want = "lowercase";
			else if (!majority_lower && !(kc & 2))
				want = "uppercase";
			if (want && df_lint_run(l, DF_RULE_CONSISTENT_INSTRUCTION_CASING, in->node,
						in->start_line, in->end_line,
						"Command '%s' should match the case of the "
						"command majority (%s)",
						in->keyword, want) < 0)
				return -KILN_ENOMEM;
		}
	return 0;
}

void kiln_df_check_result_release(struct kiln_df_check_result *r)
{
	/* most lint results have neither: no free(NULL) calls */
	if (r->text_) {
		/* the warnings may be the first (oldest, last) block's: freed with it */
		struct msg_block *first = r->text_;
		while (first->next)
			first = first->next;
		if (r->warnings && (void *) r->warnings != (void *) first->text)
			free(r->warnings);
		text_free(r->text_);
	} else if (r->warnings) {
		free(r->warnings);
	}
	if (r->error)
		free(r->error);
	*r = (struct kiln_df_check_result){ 0 };
}

void kiln_df_check_result_free(struct kiln_df_check_result *r)
{
	if (!r)
		return;
	kiln_df_check_result_release(r);
	free(r);
}

static int cmp_warning(const void *a, const void *b)
{
	const struct kiln_df_check_warning *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	int c = strcmp(x->message, y->message);
	if (c)
		return c;
	return strcmp(x->rule->name, y->rule->name);
}

static int set_error(struct kiln_df_check_result *res, const struct kiln_error *e,
		     const char *prefix_fmt, int prefix_line)
{
	res->error_code = e->code;
	res->error_line = e->pos.line;
	res->error_end_line = e->pos.end_line ? e->pos.end_line : e->pos.line;
	res->error = prefix_fmt ? kiln_asprintf(prefix_fmt, prefix_line, e->msg ? e->msg : "")
				: kiln_strdup(e->msg ? e->msg : kiln_strerror(e->code));
	return res->error ? 0 : -KILN_ENOMEM;
}

/* the configuration: BUILDKIT_DOCKERFILE_CHECK replaces the `# check=` directive */
static int load_config(const struct kiln_df_ast *ast, const struct kiln_df_check_opts *o,
		       struct df_check_config *cfg, struct kiln_error *e)
{
	const char *arg = NULL;
	static const char key[] = "BUILDKIT_DOCKERFILE_CHECK=";
	for (size_t i = 0; i < o->n_build_args; i++)
		if (!strncmp(o->build_args[i], key, sizeof(key) - 1))
			arg = o->build_args[i] + sizeof(key) - 1;
	if (arg) {
		int r = df_check_config_parse(arg, cfg, e);
		return r < 0 && r != -KILN_ENOMEM
			       ? kiln_error_prefix(e, r,
						   "failed to parse BUILDKIT_DOCKERFILE_CHECK")
			       : r;
	}
	for (size_t i = 0; i < ast->n_directives; i++) {
		const struct kiln_df_directive *d = &ast->directives[i];
		if (d->name.len != 5 || memcmp(d->name.str, "check", 5))
			continue;
		size_t k = 0;
		while (k < d->value.len && d->value.str[k] != ' ')
			k++;
		cleanup_free char *v = kiln_strndup(d->value.str, k);
		if (!v)
			return -KILN_ENOMEM;
		int r = df_check_config_parse(v, cfg, e);
		if (r < 0 && r != -KILN_ENOMEM) {
			kiln_error_set_pos(e, NULL, d->line, 0);
			return kiln_error_prefix(e, r, "failed to parse check options");
		}
		return r;
	}
	return 0;
}

static int run_checks(const struct kiln_df_ast *ast, const struct kiln_df_check_opts *o,
		      struct kiln_df_lint *l, struct kiln_df_check_result *res)
{
	struct kiln_error e = KILN_ERROR_INIT;
	int r = load_config(ast, o, &l->cfg, &e);
	if (r < 0) {
		res->error_from_config = 1;
		if (r != -KILN_ENOMEM)
			r = set_error(res, &e, NULL, 0);
		kiln_error_release(&e);
		return r;
	}
	for (size_t i = 0; i < ast->n_warnings; i++)
		if (df_lint_run(l, DF_RULE_NO_EMPTY_CONTINUATION, NULL, ast->warnings[i].line,
				ast->warnings[i].line, "Empty continuation line") < 0)
			return -KILN_ENOMEM;

	cleanup(kiln_df_model_freep) struct kiln_df_model *m = NULL;
	struct parse_hook ph = { l };
	int failed_line = 0;
	/* the nodes parse_checks reads (the others return at its first test) */
	const uint32_t hooked = UINT32_C(1) << KILN_DF_MAINTAINER | UINT32_C(1) << KILN_DF_FROM |
				UINT32_C(1) << KILN_DF_ARG;
	r = df_model_build(ast, parse_checks, hooked, &ph, &m, &failed_line, &e);
	if (r < 0) {
		if (r != -KILN_ENOMEM)
			r = set_error(res, &e,
				      failed_line ? "dockerfile parse error on line %d: %s" : NULL,
				      failed_line);
		kiln_error_release(&e);
		return r;
	}
	/* no initializer: df_names_init sets what a table reads, df_names_release reads slots */
	cleanup(df_names_release) struct df_names names;
	names.slots = NULL;
	names.cap = 0; /* a table of no name (df_names_find finds none) when no stage is named */
	if ((r = stage_checks(l, m, &names)) < 0)
		return r;

	struct kiln_df_graph_opts go = {
		.target = o->target,
		.build_args = o->build_args,
		.n_build_args = o->n_build_args,
		.build_platform = o->build_platform,
		.target_platform = o->target_platform,
		.flags = KILN_DF_GRAPH_CHECKS_ONLY,
		.hooks = o->hooks,
		.lint = l,
		.defaults = o->defaults,
	};
	if (o->mode == KILN_DF_CHECK_LINT && !o->target)
		go.flags |= KILN_DF_GRAPH_ALL_STAGES;
	cleanup(kiln_df_graph_freep) struct kiln_df_graph *g = NULL;
	/* the graph in the model's arena: one arena made and freed per file, not two */
	r = df_graph_new_in(m, df_model_arena(m), &names, &go, &g, &e);
	if (r < 0) {
		if (r != -KILN_ENOMEM)
			r = set_error(res, &e, NULL, 0);
		kiln_error_release(&e);
		return r;
	}
	if (l->cfg.error && l->n_called) {
		struct kiln_buf b = KILN_BUF_INIT;
		r = kiln_buf_addstr(&b, "lint violation found for rules: ");
		for (size_t i = 0; r >= 0 && i < l->n_called; i++)
			r = kiln_buf_addf(&b, "%s%s", i ? ", " : "", rules[l->called[i]].name);
		res->error = r >= 0 ? kiln_buf_detach(&b, NULL) : NULL;
		kiln_buf_release(&b);
		if (!res->error)
			return -KILN_ENOMEM;
		res->error_code = KILN_EINVAL;
		res->error_from_checks = 1;
		int first = 0;
		for (size_t i = 0; i < l->n; i++)
			if (l->w[i].line && (!first || l->w[i].line < first))
				first = l->w[i].line;
		res->error_line = res->error_end_line = first;
	}
	return 0;
}

int kiln_df_check_ast_into(const struct kiln_df_ast *ast, const struct kiln_df_check_opts *opts,
			   struct kiln_df_check_result *res, struct kiln_error *err)
{
	static const struct kiln_df_check_opts defaults = { 0 };
	const struct kiln_df_check_opts *o = opts ? opts : &defaults;
	*res = (struct kiln_df_check_result){ 0 };
	struct kiln_df_lint l;
	lint_init(&l, ast->filename.str);
	int r = run_checks(ast, o, &l, res);
	/* most files have no configuration: no calls to release empty lists */
	if (l.cfg.skip.items || l.cfg.experimental.items)
		df_check_config_release(&l.cfg);
	if (l.seen != l.seen_small)
		free(l.seen);
	res->warnings = l.w;
	res->n_warnings = l.n;
	res->text_ = l.text;
	if (r < 0) {
		kiln_df_check_result_release(res);
		return df_oom(err);
	}
	/* most lists are in order already, with no two alike: any sort leaves those as they are */
	size_t sorted = 1;
	while (sorted < res->n_warnings &&
	       cmp_warning(&res->warnings[sorted - 1], &res->warnings[sorted]) < 0)
		sorted++;
	if (sorted < res->n_warnings)
		qsort(res->warnings, res->n_warnings, sizeof(*res->warnings), cmp_warning);
	return 0;
}

int kiln_df_check_ast(const struct kiln_df_ast *ast, const struct kiln_df_check_opts *opts,
		      struct kiln_df_check_result **ret, struct kiln_error *err)
{
	struct kiln_df_check_result *res = kiln_malloc(sizeof(*res));
	if (!res)
		return df_oom(err);
	int r = kiln_df_check_ast_into(ast, opts, res, err);
	if (r < 0) {
		free(res);
		return r;
	}
	*ret = res;
	return 0;
}

int kiln_df_check(const char *data, size_t len, const char *filename,
		  const struct kiln_df_check_opts *opts, struct kiln_df_check_result **ret,
		  struct kiln_error *err)
{
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *ast = NULL;
	struct kiln_error e = KILN_ERROR_INIT;
	int r = kiln_df_parse(data, len, filename, &ast, &e);
	if (r < 0) {
		if (r == -KILN_ENOMEM) {
			kiln_error_release(&e);
			return df_oom(err);
		}
		struct kiln_df_check_result *res = kiln_calloc(1, sizeof(*res));
		if (!res || set_error(res, &e, NULL, 0) < 0) {
			kiln_df_check_result_free(res);
			kiln_error_release(&e);
			return df_oom(err);
		}
		kiln_error_release(&e);
		*ret = res;
		return 0;
	}
	return kiln_df_check_ast(ast, opts, ret, err);
}

char *kiln_df_check_format_short(const struct kiln_df_check_warning *w)
{
	if (w->line > 0)
		return kiln_asprintf("%s: %s (line %d)", w->rule->name, w->message, w->line);
	return kiln_asprintf("%s: %s", w->rule->name, w->message);
}
