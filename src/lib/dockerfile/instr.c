/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AST node -> typed instruction, as BuildKit's instructions.ParseInstruction
 * does it: the same argument counts, the same flags per instruction, checked
 * at the same point (some instructions count their arguments before parsing
 * their flags, some after), and the same messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/gotext.h"
#include "goconv.h"
#include "internal.h"
#include "model-internal.h"
#include "syntax.h"

struct pctx {
	struct kiln_arena *a;
	const struct kiln_df_node *node;
	struct kiln_df_instr *in;
	/* the node's arguments (nodeArgs), borrowed from the AST: each a C string
	 * (collect_args() saw to it), len its strlen() */
	const struct kiln_df_text *args;
	size_t nargs;
	struct df_bflags bf;
};

static const char *const instruction_names[] = {
	"ADD",	  "ARG",   "CMD",	  "COPY",  "ENTRYPOINT", "ENV",
	"EXPOSE", "FROM",  "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD",
	"RUN",	  "SHELL", "STOPSIGNAL",  "USER",  "VOLUME",	 "WORKDIR",
};

const char *kiln_df_cmd_upper(enum kiln_df_cmd cmd)
{
	if ((int) cmd <= 0 || cmd >= KILN_DF_CMD_MAX_)
		return NULL;
	return df_cmd_upper[cmd];
}

static int fail(struct pctx *c, struct kiln_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct pctx *c, struct kiln_error *err, const char *fmt, ...)
{
	va_list ap;
	(void) c;
	va_start(ap, fmt);
	int r = kiln_failv(err, KILN_EPARSE, 0, fmt, ap);
	va_end(ap);
	return r;
}

static int oom(struct kiln_error *err)
{
	return df_oom(err);
}

static int at_least_one(struct pctx *c, struct kiln_error *err, const char *cmd)
{
	return fail(c, err, "%s requires at least one argument", cmd);
}

static int exactly_one(struct pctx *c, struct kiln_error *err, const char *cmd)
{
	return fail(c, err, "%s requires exactly one argument", cmd);
}

static int parse_flags(struct pctx *c, struct kiln_error *err)
{
	/* most instructions are given no flag: nothing to parse, no call */
	return c->bf.node->n_flags ? df_bflags_parse(&c->bf, err) : 0;
}

/* handleJSONArgs: exec form keeps the words, shell form joins them. */
static int cmdline_args(struct pctx *c, const struct kiln_df_text *args, size_t n, int json,
			struct kiln_df_words *ret)
{
	if (n == 0) {
		ret->v = NULL;
		ret->n = 0;
		return 0;
	}
	if (json || n == 1) {
		/* the words themselves (one shell-form word is its own join) */
		ret->n = json ? n : 1;
		/* every slot written here, the NULL past the end too: no zeroing, and
		 * a loop for the few words, no memcpy call */
		const char **v = kiln_arena_array_uninit(c->a, ret->n + 1, sizeof(char *));
		if (!v)
			return -KILN_ENOMEM;
		for (size_t i = 0; i < ret->n; i++)
			v[i] = args[i].str;
		v[ret->n] = NULL;
		ret->v = v;
		return 0;
	}
	struct kiln_buf b = KILN_BUF_INIT;
	int r = 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (i)
			r = kiln_buf_addch(&b, ' ');
		if (r >= 0)
			r = kiln_buf_add(&b, args[i].str, args[i].len);
	}
	ret->n = 1;
	ret->v = kiln_arena_array(c->a, 2, sizeof(char *));
	if (r >= 0 && ret->v)
		ret->v[0] = df_astrndup(c->a, b.buf, b.len);
	kiln_buf_release(&b);
	return (r < 0 || !ret->v || !ret->v[0]) ? -KILN_ENOMEM : 0;
}

static int cmdline_files(struct pctx *c, struct kiln_df_cmdline *cl)
{
	const struct kiln_df_node *n = c->node;
	cl->n_files = n->n_heredocs;
	if (!n->n_heredocs)
		return 0;
	cl->files = kiln_arena_array(c->a, n->n_heredocs, sizeof(*cl->files));
	if (!cl->files)
		return -KILN_ENOMEM;
	for (size_t i = 0; i < n->n_heredocs; i++) {
		const struct kiln_df_heredoc *h = &n->heredocs[i];
		struct kiln_df_inline *f = &cl->files[i];
		f->name = h->name.str;
		f->data = h->content.str;
		f->chomp = h->chomp;
		f->expand = h->expand;
	}
	return 0;
}

static int shell_dependent(struct pctx *c, struct kiln_df_cmdline *cl, int empty_as_nil)
{
	(void) empty_as_nil; /* an empty list is NULL either way here */
	int r = cmdline_files(c, cl);
	if (r < 0)
		return r;
	cl->exec_form = c->node->json_form;
	return cmdline_args(c, c->args, c->nargs, c->node->json_form, &cl->args);
}

/* parser.MustParseHeredoc: 1 with the name, 0 when the word opens none. */
static int must_heredoc(struct pctx *c, const char *word, struct kiln_df_heredoc *ret)
{
	/* a heredoc word is ^\d*<< (df_parse_heredoc answers 0 to any other, with no
	 * error): most words fail that at their first bytes, with no call */
	const char *w = word;
	while (*w >= '0' && *w <= '9')
		w++;
	if (w[0] != '<' || w[1] != '<')
		return 0;
	struct kiln_error e = KILN_ERROR_INIT;
	int r = df_parse_heredoc(word, strlen(word), c->a, ret, &e);
	int code = e.code;
	kiln_error_release(&e);
	if (r < 0)
		return code == KILN_ENOMEM ? -KILN_ENOMEM : 0;
	return r;
}

static int sources_and_dest(struct pctx *c, const char *cmd, struct kiln_df_copy *cp,
			    struct kiln_error *err)
{
	struct kiln_df_heredoc h;
	const char *dest = c->args[c->nargs - 1].str;
	int r = must_heredoc(c, dest, &h);
	if (r < 0)
		return oom(err);
	if (r)
		return fail(c, err, "%s cannot accept a heredoc as %s", cmd, "a destination");
	cp->dest = dest;
	size_t nsrc = c->nargs - 1;
	/* not zeroed: the slots past the paths kept are set NULL below (no memset call) */
	cp->sources.v = kiln_arena_array_uninit(c->a, nsrc + 1, sizeof(char *));
	if (!cp->sources.v)
		return oom(err);
	cp->sources.v[nsrc] = NULL;
	for (size_t i = 0; i < nsrc; i++) {
		r = must_heredoc(c, c->args[i].str, &h);
		if (r < 0)
			return oom(err);
		if (!r) {
			cp->sources.v[cp->sources.n++] = c->args[i].str;
			continue;
		}
		cp->sources.v[nsrc - cp->n_inline - 1] = NULL; /* one slot fewer is kept */
		/* the last heredoc of that name holds the content (a Go map lookup) */
		const struct kiln_df_heredoc *body = NULL;
		for (size_t k = 0; k < c->node->n_heredocs; k++)
			if (c->node->heredocs[k].name.len == h.name.len &&
			    memcmp(c->node->heredocs[k].name.str, h.name.str, h.name.len) == 0)
				body = &c->node->heredocs[k];
		/* made for the first heredoc: most COPY and ADD have none */
		if (!cp->inline_sources &&
		    !(cp->inline_sources = kiln_arena_array(c->a, nsrc + 1,
							    sizeof(*cp->inline_sources))))
			return oom(err);
		struct kiln_df_inline *src = &cp->inline_sources[cp->n_inline++];
		src->name = df_astrndup(c->a, h.name.str, h.name.len);
		src->expand = h.expand;
		src->chomp = h.chomp;
		if (!body || !h.chomp) {
			src->data = body ? body->content.str : "";
			if (!src->name)
				return oom(err);
			continue;
		}
		struct kiln_buf b = KILN_BUF_INIT;
		int rr = kiln_df_chomp_heredoc(body->content.str, body->content.len, &b);
		src->data = rr >= 0 ? df_astrndup(c->a, b.buf, b.len) : NULL;
		kiln_buf_release(&b);
		if (!src->name || !src->data)
			return oom(err);
	}
	return 0;
}

/* inlined into parse_copy and parse_add: the flags each declares fold to constants */
static inline __attribute__((always_inline)) int parse_copy_add(struct pctx *c, int add,
								struct kiln_error *err)
{
	const char *cmd = add ? "ADD" : "COPY";
	if (c->nargs < 2)
		return fail(c, err,
			    "%s requires at least two arguments, but only one was provided. "
			    "Destination could not be determined",
			    cmd);
	struct df_flag *chown = df_bflags_add(&c->bf, "chown", DF_FLAG_STRING, "");
	struct df_flag *from = add ? NULL : df_bflags_add(&c->bf, "from", DF_FLAG_STRING, "");
	struct df_flag *chmod = df_bflags_add(&c->bf, "chmod", DF_FLAG_STRING, "");
	struct df_flag *link = df_bflags_add(&c->bf, "link", DF_FLAG_BOOL, "false");
	struct df_flag *keepgit =
		add ? df_bflags_add(&c->bf, "keep-git-dir", DF_FLAG_BOOL, "false") : NULL;
	struct df_flag *checksum =
		add ? df_bflags_add(&c->bf, "checksum", DF_FLAG_STRING, "") : NULL;
	struct df_flag *unpack =
		add ? df_bflags_add(&c->bf, "unpack", DF_FLAG_BOOL, "false") : NULL;
	struct df_flag *excludes = df_bflags_add(&c->bf, "exclude", DF_FLAG_STRINGS, NULL);
	struct df_flag *parents =
		add ? NULL : df_bflags_add(&c->bf, "parents", DF_FLAG_BOOL, "false");
	int r = parse_flags(c, err);
	if (r < 0)
		return r;
	struct kiln_df_copy *cp = &c->in->u.copy;
	if ((r = sources_and_dest(c, cmd, cp, err)) < 0)
		return r;
	cp->chown = chown->value;
	cp->chmod = chmod->value;
	cp->from = from ? from->value : NULL;
	cp->link = link->bval;
	cp->parents = parents ? parents->bval : 0;
	cp->keep_git_dir = keepgit && keepgit->used ? keepgit->bval : -1;
	cp->unpack = unpack && unpack->used ? unpack->bval : -1;
	if (checksum)
		cp->checksum = checksum->value;
	cp->excludes.v = excludes->values;
	cp->excludes.n = excludes->n_values;
	return 0;
}

static __attribute__((noinline)) int parse_copy(struct pctx *c, struct kiln_error *err)
{
	return parse_copy_add(c, 0, err);
}

static __attribute__((noinline)) int parse_add(struct pctx *c, struct kiln_error *err)
{
	return parse_copy_add(c, 1, err);
}

/* validStageName: ^[a-z][a-z0-9-_.]*$ on the lower-cased name (a table test a byte) */
static int valid_stage_name(const char *s)
{
	static const unsigned char rest[256] = {
		['a' ... 'z'] = 1, ['0' ... '9'] = 1, ['-'] = 1, ['_'] = 1, ['.'] = 1
	};
	if (!(*s >= 'a' && *s <= 'z'))
		return 0;
	const unsigned char *p = (const unsigned char *) s + 1;
	while (rest[*p])
		p++;
	return !*p;
}

/* getComment: the text after "NAME " of the first comment starting so. */
static const char *get_comment(struct pctx *c, const char *name)
{
	if (!name || !*name)
		return NULL;
	size_t nl = strlen(name);
	for (size_t i = 0; i < c->node->n_comments; i++) {
		const struct kiln_df_text *t = &c->node->comments[i].text;
		if (t->len > nl && memcmp(t->str, name, nl) == 0 && t->str[nl] == ' ')
			return t->str + nl + 1;
	}
	return NULL;
}

static int quote_go(struct pctx *c, const char *s, char **ret)
{
	struct kiln_buf b = KILN_BUF_INIT;
	int r = kiln_go_quote(&b, s, strlen(s));
	*ret = r >= 0 ? df_astrndup(c->a, b.buf, b.len) : NULL;
	kiln_buf_release(&b);
	return *ret ? 0 : -KILN_ENOMEM;
}

static int parse_from(struct pctx *c, struct kiln_error *err)
{
	struct kiln_df_from *f = &c->in->u.from;
	int r;
	if (c->nargs == 3 && df_go_equal_fold_as(c->args[1].str)) {
		/* strings.ToLower: an ASCII name is lower-cased byte by byte (or is
		 * already lower case), any other goes through Go's case mapping */
		const char *raw = c->args[2].str;
		/* most names are lower-case ASCII: a table test a byte up to the end */
		static const unsigned char stop[256] = {
			[0] = 1, ['A' ... 'Z'] = 1, [0x80 ... 0xff] = 1
		};
		const unsigned char *u = (const unsigned char *) raw;
		while (!stop[*u])
			u++;
		int ascii = 1, upper = 0;
		for (; *u; u++) {
			ascii &= *u < 0x80;
			upper |= *u >= 'A' && *u <= 'Z';
		}
		if (ascii && !upper) {
			f->name = raw;
		} else if (ascii) {
			char *l = df_astrdup(c->a, raw);
			for (char *p = l; p && *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char) (*p + 32);
			f->name = l;
		} else {
			struct kiln_buf b = KILN_BUF_INIT;
			r = kiln_go_to_lower(&b, raw, strlen(raw));
			f->name = r >= 0 ? df_astrndup(c->a, b.buf, b.len) : NULL;
			kiln_buf_release(&b);
		}
		if (!f->name)
			return oom(err);
		if (!valid_stage_name(f->name)) {
			char *q;
			if (quote_go(c, c->args[2].str, &q) < 0)
				return oom(err);
			return fail(
				c, err,
				"invalid name for build stage: %s, name can't start with a number "
				"or contain symbols",
				q);
		}
		f->name_raw = c->args[2].str;
		f->as_raw = c->args[1].str;
	} else if (c->nargs != 1) {
		return fail(c, err, "FROM requires either one or three arguments");
	}
	struct df_flag *platform = df_bflags_add(&c->bf, "platform", DF_FLAG_STRING, "");
	if ((r = parse_flags(c, err)) < 0)
		return r;
	f->base = c->args[0].str;
	if (*platform->value)
		f->platform = platform->value;
	f->comment = get_comment(c, f->name);
	return 0;
}

static int parse_onbuild(struct pctx *c, struct kiln_error *err)
{
	if (c->nargs == 0)
		return at_least_one(c, err, "ONBUILD");
	int r = parse_flags(c, err);
	if (r < 0)
		return r;
	/* strings.ToUpper(strings.TrimSpace(trigger)) */
	const struct kiln_df_text *kw = &c->node->onbuild->keyword;
	size_t lead = kiln_go_space_prefix(kw->str, kw->len);
	size_t trail = kiln_go_space_suffix(kw->str + lead, kw->len - lead);
	char *trig = df_astrndup(c->a, kw->str + lead, kw->len - lead - trail);
	if (!trig)
		return oom(err);
	for (char *p = trig; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char) (*p - 32);
	if (!strcmp(trig, "ONBUILD"))
		return fail(c, err, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
	if (!strcmp(trig, "MAINTAINER") || !strcmp(trig, "FROM"))
		return fail(c, err, "%s isn't allowed as an ONBUILD trigger", trig);
	/* (?i)^\s*ONBUILD\s* removed from the original, heredoc bodies appended */
	const char *o = c->node->original.str;
	size_t olen = c->node->original.len, i = 0;
	while (i < olen && strchr(" \t\n\f\r", o[i]) && o[i])
		i++;
	if (olen - i >= 7 && strncasecmp(o + i, "onbuild", 7) == 0) {
		i += 7;
		while (i < olen && o[i] && strchr(" \t\n\f\r", o[i]))
			i++;
	} else {
		i = 0;
	}
	struct kiln_buf b = KILN_BUF_INIT;
	r = kiln_buf_add(&b, o + i, olen - i);
	for (size_t k = 0; r >= 0 && k < c->node->n_heredocs; k++) {
		const struct kiln_df_heredoc *h = &c->node->heredocs[k];
		r = kiln_buf_addch(&b, '\n');
		if (r >= 0)
			r = kiln_buf_add(&b, h->content.str, h->content.len);
		if (r >= 0)
			r = kiln_buf_add(&b, h->name.str, h->name.len);
	}
	c->in->u.onbuild.expression = r >= 0 ? df_astrndup(c->a, b.buf, b.len) : NULL;
	kiln_buf_release(&b);
	c->in->u.onbuild.trigger = trig;
	return c->in->u.onbuild.expression ? 0 : oom(err);
}

static int parse_run(struct pctx *c, struct kiln_error *err)
{
	struct kiln_df_run *run = &c->in->u.run;
	/* pre-hooks in BuildKit's file order: device, mount, network, security */
	struct df_flag *device = df_bflags_add(&c->bf, "device", DF_FLAG_STRINGS, NULL);
	struct df_flag *mount = df_bflags_add(&c->bf, "mount", DF_FLAG_STRINGS, NULL);
	struct df_flag *network = df_bflags_add(&c->bf, "network", DF_FLAG_STRING, "default");
	struct df_flag *security = df_bflags_add(&c->bf, "security", DF_FLAG_STRING, "sandbox");
	int r = parse_flags(c, err);
	if (r < 0)
		return r;
	run->flags_used.v = c->bf.order;
	run->flags_used.n = c->bf.n_order;
	if ((r = shell_dependent(c, &run->cmd, 0)) < 0)
		return oom(err);
	/* post-hooks, same order */
	run->n_devices = device->n_values;
	/* most RUNs have no device: their one (zeroed) end entry without a memset call */
	run->devices = device->n_values
			       ? kiln_arena_array(c->a, device->n_values + 1, sizeof(*run->devices))
			       : kiln_arena_array_uninit(c->a, 1, sizeof(*run->devices));
	if (!run->devices)
		return oom(err);
	if (!device->n_values)
		run->devices[0] = (struct kiln_df_device){ 0 };
	for (size_t i = 0; i < device->n_values; i++)
		if ((r = df_device_parse(c->a, device->values[i], &run->devices[i], err)) < 0)
			return r;
	/* the graph reads the stages mounted from: kept, not parsed again there */
	if (mount->n_values &&
	    !(run->mount_froms = kiln_arena_array(c->a, mount->n_values, sizeof(char *))))
		return oom(err);
	for (size_t i = 0; i < mount->n_values; i++) {
		struct kiln_df_mount m;
		if ((r = df_mount_parse(c->a, mount->values[i], NULL, NULL, &m, err)) < 0)
			return r;
		run->mount_froms[i] = m.from;
	}
	run->mount_specs.v = mount->values;
	run->mount_specs.n = mount->n_values;
	/* a flag not given holds its default: no compare for most RUNs */
	if (!network->used || !strcmp(network->value, "default"))
		run->network = KILN_DF_NETWORK_DEFAULT;
	else if (!strcmp(network->value, "none"))
		run->network = KILN_DF_NETWORK_NONE;
	else if (!strcmp(network->value, "host"))
		run->network = KILN_DF_NETWORK_HOST;
	else
		return fail(c, err, "invalid network mode \"%s\"", network->value);
	if (!security->used || !strcmp(security->value, "sandbox"))
		run->security = KILN_DF_SECURITY_SANDBOX;
	else if (!strcmp(security->value, "insecure"))
		run->security = KILN_DF_SECURITY_INSECURE;
	else
		return fail(c, err, "security \"%s\" is not valid", security->value);
	return 0;
}

static int opt_interval(struct pctx *c, struct df_flag *f, int64_t *ret, struct kiln_error *err)
{
	*ret = 0;
	if (!*f->value)
		return 0;
	int64_t d;
	int r = df_go_parse_duration(f->value, &d, err);
	if (r < 0)
		return r;
	if (d == 0)
		return 0;
	if (d < 1000000) {
		char *q;
		if (quote_go(c, f->name, &q) < 0)
			return oom(err);
		return fail(c, err, "Interval %s cannot be less than 1ms", q);
	}
	*ret = d;
	return 0;
}

static int parse_healthcheck(struct pctx *c, struct kiln_error *err)
{
	struct kiln_df_healthcheck *h = &c->in->u.health;
	if (c->nargs == 0)
		return at_least_one(c, err, "HEALTHCHECK");
	char *typ = df_astrdup(c->a, c->args[0].str);
	if (!typ)
		return oom(err);
	for (char *p = typ; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char) (*p - 32);
	if (!strcmp(typ, "NONE")) {
		if (c->nargs != 1)
			return fail(c, err, "HEALTHCHECK NONE takes no arguments");
		h->test.n = 1;
		h->test.v = kiln_arena_array(c->a, 2, sizeof(char *));
		if (!h->test.v)
			return oom(err);
		h->test.v[0] = typ;
		return 0;
	}
	struct df_flag *interval = df_bflags_add(&c->bf, "interval", DF_FLAG_STRING, "");
	struct df_flag *timeout = df_bflags_add(&c->bf, "timeout", DF_FLAG_STRING, "");
	struct df_flag *start_period = df_bflags_add(&c->bf, "start-period", DF_FLAG_STRING, "");
	struct df_flag *start_interval =
		df_bflags_add(&c->bf, "start-interval", DF_FLAG_STRING, "");
	struct df_flag *retries = df_bflags_add(&c->bf, "retries", DF_FLAG_STRING, "");
	int r = parse_flags(c, err);
	if (r < 0)
		return r;
	if (strcmp(typ, "CMD") != 0) {
		char *q;
		if (quote_go(c, typ, &q) < 0)
			return oom(err);
		return fail(c, err, "Unknown type %s in HEALTHCHECK (try CMD)", q);
	}
	struct kiln_df_words cmd;
	if (cmdline_args(c, c->args + 1, c->nargs - 1, c->node->json_form, &cmd) < 0)
		return oom(err);
	if (cmd.n == 0)
		return fail(c, err, "Missing command after HEALTHCHECK CMD");
	h->test.n = cmd.n + 1;
	h->test.v = kiln_arena_array(c->a, cmd.n + 2, sizeof(char *));
	if (!h->test.v)
		return oom(err);
	h->test.v[0] = c->node->json_form ? typ : "CMD-SHELL";
	for (size_t i = 0; i < cmd.n; i++)
		h->test.v[i + 1] = cmd.v[i];
	if ((r = opt_interval(c, interval, &h->interval, err)) < 0 ||
	    (r = opt_interval(c, timeout, &h->timeout, err)) < 0 ||
	    (r = opt_interval(c, start_period, &h->start_period, err)) < 0 ||
	    (r = opt_interval(c, start_interval, &h->start_interval, err)) < 0)
		return r;
	if (*retries->value) {
		int64_t v;
		int nr = df_go_parse_int(retries->value, 10, 32, &v);
		if (nr != DF_GO_NUM_OK)
			return df_go_num_fail(err, "ParseInt", retries->value, nr);
		if (v < 0)
			return fail(c, err, "--retries cannot be negative (%lld)", (long long) v);
		h->retries = (int) v;
	}
	return 0;
}

/* errNotJSON, with BuildKit's hint for unescaped Windows paths */
static int not_json(struct pctx *c, const char *command, struct kiln_error *err)
{
	struct kiln_buf b = KILN_BUF_INIT;
	const char *o = c->node->original.str;
	int r = kiln_go_to_lower(&b, o, c->node->original.len);
	if (r < 0) {
		kiln_buf_release(&b);
		return oom(err);
	}
	/* strings.ReplaceAll(original, "shell ", "") on the lower-cased text */
	char pat[16];
	snprintf(pat, sizeof(pat), "%s ", command);
	for (char *p = pat; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char) (*p + 32);
	size_t pl = strlen(pat), w = 0;
	for (size_t i = 0; i < b.len;) {
		if (i + pl <= b.len && memcmp(b.buf + i, pat, pl) == 0) {
			i += pl;
			continue;
		}
		b.buf[w++] = b.buf[i++];
	}
	kiln_buf_setlen(&b, w);
	int hint = 0;
	for (size_t i = 0; i + 3 < b.len; i++)
		if (b.buf[i] == '"' && b.buf[i + 1] >= 'a' && b.buf[i + 1] <= 'z' &&
		    b.buf[i + 2] == ':' && b.buf[i + 3] == '\\')
			hint = 1;
	hint = hint && !strstr(b.buf, "\\\\") && strchr(b.buf, '[') && strchr(b.buf, ']');
	if (hint)
		r = fail(
			c, err,
			"%s requires the arguments to be in JSON form. It looks like '%s' includes "
			"a file path without an escaped back-slash. JSON requires back-slashes to "
			"be escaped such as [\"c:\\\\path\\\\to\\\\file.exe\", \"/parameter\"]",
			command, b.buf);
	else
		r = fail(c, err, "%s requires the arguments to be in JSON form", command);
	kiln_buf_release(&b);
	return r;
}

static int parse_kvps(struct pctx *c, const char *cmd, struct kiln_error *err)
{
	size_t n = c->nargs;
	if (n == 0)
		return at_least_one(c, err, cmd);
	if (n % 3 != 0)
		return fail(c, err, "Bad input to %s, too many arguments", cmd);
	c->in->u.pairs.n = n / 3;
	/* each entry and the end written whole (as zeroed ones filled): no memset call */
	struct kiln_df_pair *v = kiln_arena_array_uninit(c->a, n / 3 + 1, sizeof(*v));
	if (!(c->in->u.pairs.v = v))
		return oom(err);
	v[n / 3] = (struct kiln_df_pair){ 0 };
	for (size_t j = 0; j < n; j += 3) {
		if (!c->args[j].len)
			return fail(c, err, "%s names can not be blank", cmd);
		v[j / 3] = (struct kiln_df_pair){ .key = c->args[j].str,
						  .value = c->args[j + 1].str,
						  .legacy = !c->args[j + 2].len };
	}
	return 0;
}

static int parse_arg(struct pctx *c, struct kiln_error *err)
{
	if (c->nargs < 1)
		return at_least_one(c, err, "ARG");
	c->in->u.args.n = c->nargs;
	/* each entry and the end written whole (as zeroed ones filled): no memset call */
	struct kiln_df_argdef *v = kiln_arena_array_uninit(c->a, c->nargs + 1, sizeof(*v));
	if (!(c->in->u.args.v = v))
		return oom(err);
	v[c->nargs] = (struct kiln_df_argdef){ 0 };
	for (size_t i = 0; i < c->nargs; i++) {
		struct kiln_df_argdef *d = &v[i];
		*d = (struct kiln_df_argdef){ 0 };
		const char *eq = memchr(c->args[i].str, '=', c->args[i].len);
		if (eq) {
			if (eq == c->args[i].str)
				return fail(c, err, "ARG names can not be blank");
			d->key = df_astrndup(c->a, c->args[i].str, (size_t) (eq - c->args[i].str));
			d->value = eq + 1;
		} else {
			d->key = c->args[i].str;
		}
		if (!d->key)
			return oom(err);
		d->comment = get_comment(c, d->key);
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int dispatch(struct pctx *c, struct kiln_error *err)
{
	struct kiln_df_instr *in = c->in;
	int r;
	switch (c->node->cmd) {
	case KILN_DF_ENV:
		if ((r = parse_flags(c, err)) < 0)
			return r;
		return parse_kvps(c, "ENV", err);
	case KILN_DF_MAINTAINER:
		if (c->nargs != 1)
			return exactly_one(c, err, "MAINTAINER");
		if ((r = parse_flags(c, err)) < 0)
			return r;
		in->u.value = c->args[0].str;
		return 0;
	case KILN_DF_LABEL:
		if ((r = parse_flags(c, err)) < 0)
			return r;
		return parse_kvps(c, "LABEL", err);
	case KILN_DF_ADD:
		return parse_add(c, err);
	case KILN_DF_COPY:
		return parse_copy(c, err);
	case KILN_DF_FROM:
		return parse_from(c, err);
	case KILN_DF_ONBUILD:
		return parse_onbuild(c, err);
	case KILN_DF_WORKDIR:
	case KILN_DF_USER:
		if (c->nargs != 1)
			return exactly_one(c, err, kiln_df_cmd_upper(c->node->cmd));
		if ((r = parse_flags(c, err)) < 0)
			return r;
		in->u.value = c->args[0].str;
		return 0;
	case KILN_DF_RUN:
		return parse_run(c, err);
	case KILN_DF_CMD:
	case KILN_DF_ENTRYPOINT:
		if ((r = parse_flags(c, err)) < 0)
			return r;
		return shell_dependent(c, &in->u.cmdline, c->node->cmd == KILN_DF_ENTRYPOINT) < 0
			       ? oom(err)
			       : 0;
	case KILN_DF_HEALTHCHECK:
		return parse_healthcheck(c, err);
	case KILN_DF_EXPOSE: {
		if (c->nargs == 0)
			return at_least_one(c, err, "EXPOSE");
		if ((r = parse_flags(c, err)) < 0)
			return r;
		struct kiln_df_words *w = &in->u.words;
		w->n = c->nargs;
		w->v = kiln_arena_array(c->a, c->nargs + 1, sizeof(char *));
		if (!w->v)
			return oom(err);
		for (size_t i = 0; i < c->nargs; i++)
			w->v[i] = c->args[i].str;
		if (w->n > 1) /* most EXPOSE one port: no call to sort it */
			qsort(w->v, w->n, sizeof(char *), cmp_str);
		return 0;
	}
	case KILN_DF_VOLUME: {
		if (c->nargs == 0)
			return at_least_one(c, err, "VOLUME");
		if ((r = parse_flags(c, err)) < 0)
			return r;
		struct kiln_df_words *w = &in->u.words;
		w->v = kiln_arena_array(c->a, c->nargs + 1, sizeof(char *));
		if (!w->v)
			return oom(err);
		for (size_t i = 0; i < c->nargs; i++) {
			const char *s = c->args[i].str;
			size_t len = c->args[i].len, lead = kiln_go_space_prefix(s, len);
			size_t trail = kiln_go_space_suffix(s + lead, len - lead);
			if (len - lead - trail == 0)
				return fail(c, err, "VOLUME specified can not be an empty string");
			w->v[w->n] =
				lead || trail ? df_astrndup(c->a, s + lead, len - lead - trail) : s;
			if (!w->v[w->n++])
				return oom(err);
		}
		return 0;
	}
	case KILN_DF_STOPSIGNAL:
		if (c->nargs != 1)
			return exactly_one(c, err, "STOPSIGNAL");
		in->u.value = c->args[0].str;
		return 0;
	case KILN_DF_ARG:
		return parse_arg(c, err);
	case KILN_DF_SHELL: {
		if ((r = parse_flags(c, err)) < 0)
			return r;
		if ((r = cmdline_args(c, c->args, c->nargs, c->node->json_form,
				      &in->u.cmdline.args)) < 0)
			return oom(err);
		in->u.cmdline.exec_form = c->node->json_form;
		if (in->u.cmdline.args.n == 0)
			return at_least_one(c, err, "SHELL");
		if (!c->node->json_form)
			return not_json(c, "SHELL", err);
		return 0;
	}
	default: {
		const char *kw = c->node->keyword.str;
		r = fail(c, err, "unknown instruction: %s", kw);
		return df_error_suggest(err, r, kw, instruction_names,
					KILN_ARRAY_SIZE(instruction_names), 0);
	}
	}
}

/* nodeArgs: the arguments, or for ONBUILD the trigger's keyword and arguments */
static int collect_args(struct pctx *c, struct kiln_error *err)
{
	const struct kiln_df_node *n = c->node;
	size_t first = 0; /* the first argument checked for a NUL byte below */
	if (n->cmd == KILN_DF_ONBUILD && n->onbuild) {
		/* the one list gathered, not borrowed: the list itself is not kept,
		 * the model keeps copies of it or its strings */
		const struct kiln_df_node *t = n->onbuild;
		struct kiln_df_text *v = kiln_arena_array_uninit(c->a, 1 + t->n_args, sizeof(*v));
		if (!v)
			return oom(err);
		v[0] = t->keyword;
		for (size_t i = 0; i < t->n_args; i++)
			v[1 + i] = t->args[i];
		c->args = v;
		c->nargs = 1 + t->n_args;
		first = 1;
	} else {
		c->args = n->args;
		c->nargs = n->n_args;
	}
	if (n->nul_free) /* the parser saw to it: no NUL byte to look for */
		return 0;
	/* BuildKit's strings may hold NUL bytes; kiln's typed model works on C strings
	 * (ONBUILD's trigger keyword, first, was never looked at) */
	for (size_t i = first; i < c->nargs; i++)
		if (strlen(c->args[i].str) != c->args[i].len)
			return fail(c, err, "NUL byte in the arguments of %s", n->keyword.str);
	for (size_t i = 0; i < n->n_flags; i++)
		if (strlen(n->flags[i].raw.str) != n->flags[i].raw.len)
			return fail(c, err, "NUL byte in a flag of %s", n->keyword.str);
	for (size_t i = 0; i < n->n_heredocs; i++)
		if (strlen(n->heredocs[i].content.str) != n->heredocs[i].content.len)
			return fail(c, err, "NUL byte in the here-document %s of %s",
				    n->heredocs[i].name.str, n->keyword.str);
	return 0;
}

/*
 * Zero what the header does not set and the union member the instruction
 * uses (model.h: readers switch on cmd), as inline stores: a call to memset()
 * for the whole 160 bytes cost more per instruction than the stores.
 */
static inline void clear_instr(struct kiln_df_instr *in, enum kiln_df_cmd cmd)
{
	/* the members cleared as words below fit in it */
	_Static_assert(sizeof(in->u.pairs) <= sizeof(in->u.words) &&
			       sizeof(in->u.args) <= sizeof(in->u.words) &&
			       sizeof(in->u.value) <= sizeof(in->u.words) &&
			       sizeof(in->u.onbuild) <= sizeof(in->u.words),
		       "ENV to STOPSIGNAL's members are no larger than words");
	in->flags = 0;
	switch (cmd) {
	case KILN_DF_FROM:
		in->u.from = (struct kiln_df_from){ 0 };
		return;
	case KILN_DF_RUN:
		in->u.run = (struct kiln_df_run){ 0 };
		return;
	case KILN_DF_ADD:
	case KILN_DF_COPY:
		in->u.copy = (struct kiln_df_copy){ 0 };
		return;
	case KILN_DF_CMD:
	case KILN_DF_ENTRYPOINT:
	case KILN_DF_SHELL:
		in->u.cmdline = (struct kiln_df_cmdline){ 0 };
		return;
	case KILN_DF_HEALTHCHECK:
		in->u.health = (struct kiln_df_healthcheck){ 0 };
		return;
	case KILN_DF_ENV:
	case KILN_DF_LABEL:
	case KILN_DF_ARG:
	case KILN_DF_EXPOSE:
	case KILN_DF_VOLUME:
	case KILN_DF_ONBUILD:
	case KILN_DF_MAINTAINER:
	case KILN_DF_USER:
	case KILN_DF_WORKDIR:
	case KILN_DF_STOPSIGNAL:
		/* the 16-byte members (pairs, args, words, onbuild) and value */
		in->u.words = (struct kiln_df_words){ 0 };
		return;
	default:
		memset(&in->u, 0, sizeof(in->u));
		return;
	}
}

int kiln_df_instr_parse(struct kiln_df_model *m, const struct kiln_df_node *node,
			struct kiln_df_instr *ret, struct kiln_error *err)
{
	/* field by field: zeroing the flag table of every instruction cost more than parsing */
	struct pctx c;
	c.a = m->arena_;
	c.node = node;
	c.in = ret;
	c.args = NULL;
	c.nargs = 0;
	df_bflags_init(&c.bf, node, c.a);
	clear_instr(ret, node->cmd);
	ret->cmd = node->cmd;
	ret->node = node;
	ret->start_line = node->start_line;
	ret->end_line = node->end_line;
	/* the AST outlives the model (see model.h): its text is not copied */
	ret->keyword = node->keyword.str;
	ret->original = node->original.str;
	int r = collect_args(&c, err);
	if (r >= 0)
		r = dispatch(&c, err);
	if (r < 0 && r != -KILN_ENOMEM) {
		const char *file = m->ast ? m->ast->filename.str : NULL;
		df_error_locate(err, file ? file : "Dockerfile", node->start_line, node->end_line);
	}
	return r;
}

struct kiln_arena *df_model_arena(struct kiln_df_model *m)
{
	return m->arena_;
}
