/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dispatching one stage (BuildKit's dispatch()): the stage's state comes from
 * its base (an earlier stage's final state, or the base image's config),
 * then each instruction is expanded where BuildKit expands it, checked the
 * way BuildKit checks it when it builds the LLB, and recorded as a step with
 * the build args it used. The build checks that BuildKit runs here report
 * into the linter.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/gotext.h"
#include "goconv.h"
#include "graph-internal.h"

/*
 * `k` and `v` live in the model, the AST or the graph's arena, as the list
 * does: not copied. Which names an ARG set is only read for a build's used
 * args (df_note_used): a checks-only walk keeps no record of it.
 */
static int set_env(struct df_graph *gr, struct df_state *s, const char *k, const char *v,
		   int from_arg, struct kiln_error *err)
{
	int r = kiln_shell_envlist_set_borrowed(s->env, k, v, err);
	if (r < 0 || gr->checks_only)
		return r;
	if (df_set_get(&s->arg_env, k) != from_arg && df_set_put(&s->arg_env, k, from_arg) < 0)
		return df_oom(err);
	return 0;
}

/* Expand an instruction's word in place (its storage is the model's, the AST's or the arena's). */
static int xfield(struct df_xctx *x, const char **field, struct kiln_error *err)
{
	const char *v;
	int r = df_xword(x, *field, &v, err);
	if (r >= 0)
		*field = v;
	return r;
}

static int lint_simple(struct df_xctx *x, enum df_rule rule, const char *fmt, const char *a)
{
	return df_lint_run(x->gr->lint, rule, x->in->node, x->in->start_line, x->in->end_line, fmt,
			   a, a);
}

static int env_apply(struct df_xctx *x, enum kiln_df_cmd cmd, const struct kiln_df_pair *v,
		     size_t n, struct kiln_error *err);

static int env_instr(struct df_xctx *x, struct kiln_df_instr *out, struct kiln_error *err)
{
	size_t n = out->u.pairs.n;
	/* every entry is copied below: only the end one zeroed (no memset call) */
	struct kiln_df_pair *v = kiln_arena_array_uninit(x->gr->a, n + 1, sizeof(*v));
	if (!v)
		return df_oom(err);
	v[n] = (struct kiln_df_pair){ 0 };
	for (size_t i = 0; i < n; i++) {
		v[i] = out->u.pairs.v[i];
		int r = xfield(x, &v[i].key, err);
		if (r >= 0)
			r = xfield(x, &v[i].value, err);
		if (r < 0)
			return r;
	}
	out->u.pairs.v = v;
	return env_apply(x, out->cmd, v, n, err);
}

/* ENV and LABEL's lints and ENV's state change, from the expanded pairs */
static int env_apply(struct df_xctx *x, enum kiln_df_cmd cmd, const struct kiln_df_pair *v,
		     size_t n, struct kiln_error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].legacy &&
		    lint_simple(
			    x, DF_RULE_LEGACY_KEY_VALUE_FORMAT,
			    "\"%s key=value\" should be used instead of legacy \"%s key value\" "
			    "format",
			    x->in->keyword) < 0)
			return df_oom(err);
		if (cmd == KILN_DF_ENV) {
			/* a name that expanded to nothing ("ENV ${UNSET}=v"): an image
			 * config cannot hold it */
			if (!*v[i].key)
				return kiln_fail(err, KILN_EPARSE, 0,
						 "ENV names can not be blank (\"%s\" expanded to "
						 "nothing)",
						 x->in->u.pairs.v[i].key);
			if (df_check_secret_key(x->gr, "ENV", v[i].key, x->in) < 0)
				return df_oom(err);
			int r = set_env(x->gr, x->s, v[i].key, v[i].value, 0, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* room for `extra` more declared ARGs, in the graph's arena (it frees them with the rest) */
static int reserve_args(struct df_graph *gr, struct df_state *s, size_t extra)
{
	if (s->alloc_args - s->n_args >= extra)
		return 0;
	struct df_buildarg *n = kiln_arena_grow_array(gr->a, s->args, s->n_args, &s->alloc_args,
						      extra, sizeof(*n), 4);
	if (!n)
		return -KILN_ENOMEM;
	s->args = n;
	return 0;
}

/* ARG's definitions `defs` into the stage's scope; their expanded copies into `v` (NULL:
 * a checks-only walk keeps none) */
static int arg_apply(struct df_xctx *x, const struct kiln_df_argdef *defs, size_t n,
		     struct kiln_df_argdef *v, struct kiln_error *err)
{
	struct df_graph *gr = x->gr;
	struct df_state *s = x->s;
	for (size_t i = 0; i < n; i++) {
		const struct kiln_df_argdef *d = &defs[i];
		if (df_check_secret_key(gr, "ARG", d->key, x->in) < 0)
			return df_oom(err);
		const char *bv = kiln_shell_envlist_get(gr->build_args, d->key);
		const char *value = NULL;
		if (!d->value && !bv)
			value = kiln_shell_envlist_get(gr->global, d->key);
		if (bv) {
			value = bv;
		} else if (d->value) {
			const char *e;
			int r = df_xword(x, d->value, &e, err);
			if (r < 0)
				return r;
			value = e;
		}
		const char *kept = value ? df_astrdup(gr->a, value) : NULL;
		if (value && !kept)
			return df_oom(err);
		if (v)
			v[i] = (struct kiln_df_argdef){ d->key, kept, d->comment };
		if (value && !df_non_env_arg(d->key)) {
			int r = set_env(gr, s, d->key, kept, 1, err);
			if (r < 0)
				return r;
		}
		if (reserve_args(gr, s, 1) < 0)
			return df_oom(err);
		s->args[s->n_args++] = (struct df_buildarg){ d->key, kept };
		if (gr->checks_only)
			continue;
		if (df_set_put(&gr->consumed, d->key, 1) < 0)
			return df_oom(err);
		cleanup_free char *kv = kiln_asprintf("%s=%s", d->key, value ? value : "");
		if (!kv || (kiln_strv_find(&x->used, kv) < 0 && kiln_strv_push(&x->used, kv) < 0))
			return df_oom(err);
	}
	return 0;
}

static int arg_instr(struct df_xctx *x, struct kiln_df_instr *out, struct kiln_error *err)
{
	size_t n = out->u.args.n;
	struct kiln_df_argdef *v = kiln_arena_array(x->gr->a, n + 1, sizeof(*v));
	if (!v)
		return df_oom(err);
	int r = arg_apply(x, out->u.args.v, n, v, err);
	if (r >= 0)
		out->u.args.v = v;
	return r;
}

/*
 * A modifiable copy of s[0..n): in `small` (of `size` bytes) when it fits, else
 * on the heap in *heap for the caller to free. NULL when out of memory.
 */
static char *scratch_copy(char *small, size_t size, char **heap, const char *s, size_t n)
{
	char *d = n < size ? small : (*heap = kiln_malloc(n + 1));
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* a build's record of ports start..end: "port/proto" each */
static int push_ports(long start, long end, const char *proto, struct kiln_strv *out,
		      struct kiln_error *err)
{
	for (long p = start; p <= end; p++) {
		cleanup_free char *pp = kiln_asprintf("%ld/%s", p, proto);
		if (!pp || kiln_strv_push(out, pp) < 0)
			return df_oom(err);
	}
	return 0;
}

/*
 * The usual spec, "80" or "8080/tcp": up to five digits naming a port and
 * maybe a lower-case protocol, which expose_port accepts with no check to
 * report. 1 with the port and protocol, else 0 (expose_port's to read).
 */
static int simple_port(const char *raw, long *port, const char **proto)
{
	long v = 0;
	size_t i = 0;
	for (; raw[i] >= '0' && raw[i] <= '9'; i++) {
		if (i == 5)
			return 0;
		v = v * 10 + (raw[i] - '0');
	}
	if (!i || v > 65535)
		return 0;
	const char *pr = raw + i + 1;
	if (!raw[i])
		pr = "tcp";
	else if (raw[i] != '/' || (strcmp(pr, "tcp") && strcmp(pr, "udp") && strcmp(pr, "sctp")))
		return 0;
	*port = v;
	*proto = pr;
	return 1;
}

/* one EXPOSE port spec: [ip:][hostport:]port[-end][/proto] */
static int expose_port(struct df_xctx *x, const char *raw, struct kiln_strv *out,
		       struct kiln_error *err)
{
	long port;
	const char *sproto;
	if (simple_port(raw, &port, &sproto))
		return x->gr->checks_only ? 0 : push_ports(port, port, sproto, out, err);
	/* port specs are short: copies on the stack */
	char dup_small[64], proto_small[16];
	cleanup_free char *dup_heap = NULL, *proto_heap = NULL;
	char *dup = scratch_copy(dup_small, sizeof(dup_small), &dup_heap, raw, strlen(raw));
	if (!dup)
		return df_oom(err);
	/* splitParts */
	size_t colons = 0;
	for (const char *p = raw; *p; p++)
		colons += *p == ':';
	char *ip = NULL, *host = NULL, *cport = dup;
	if (colons == 1) {
		host = dup;
		cport = strchr(dup, ':');
		*cport++ = '\0';
	} else if (colons >= 2) {
		char *last = strrchr(dup, ':');
		*last = '\0';
		char *mid = strrchr(dup, ':');
		*mid = '\0';
		ip = dup, host = mid + 1, cport = last + 1;
	}
	/* SplitProtoPort: "22/udp/x" is 22/udp (what follows a second '/' goes) */
	char *proto = strchr(cport, '/');
	if (proto)
		*proto++ = '\0';
	char *rest = proto ? strchr(proto, '/') : NULL;
	if (rest)
		*rest = '\0';
	if (!*cport)
		return kiln_fail(err, KILN_EPARSE, 0, "invalid port: \"%s\": no port specified",
				 raw);
	const char *pr = proto && *proto ? proto : "tcp";
	char *lproto = scratch_copy(proto_small, sizeof(proto_small), &proto_heap, pr, strlen(pr));
	if (!lproto)
		return df_oom(err);
	for (char *p = lproto; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char) (*p + 32);
	if (strcmp(lproto, "tcp") && strcmp(lproto, "udp") && strcmp(lproto, "sctp"))
		return kiln_fail(err, KILN_EPARSE, 0, "invalid port: \"%s\": invalid proto: %s",
				 raw, proto);
	if (proto && strcmp(proto, lproto) &&
	    lint_simple(x, DF_RULE_EXPOSE_PROTO_CASING,
			"Defined protocol '%s' in EXPOSE instruction should be lowercase", raw) < 0)
		return df_oom(err);
	if (((ip && *ip) || (host && *host)) &&
	    lint_simple(x, DF_RULE_EXPOSE_INVALID_FORMAT,
			"EXPOSE instruction should not define an IP address or host-port mapping, "
			"found '%s'",
			raw) < 0)
		return df_oom(err);
	if (ip && *ip) {
		char *addr = ip;
		size_t il = strlen(ip);
		if (ip[0] == '[') {
			if (il < 2 || ip[il - 1] != ']')
				return kiln_fail(err, KILN_EPARSE, 0, "invalid IP address %s", ip);
			ip[il - 1] = '\0';
			addr = ip + 1;
		}
		unsigned char buf[16];
		if (inet_pton(AF_INET, addr, buf) != 1 && inet_pton(AF_INET6, addr, buf) != 1)
			return kiln_fail(err, KILN_EPARSE, 0, "invalid IP address: %s", addr);
	}
	long start = 0, end = 0, hstart = 0, hend = 0;
	for (int pass = 0; pass < 2; pass++) {
		const char *spec = pass ? host : cport;
		if (pass && (!host || !*host))
			break;
		char *dash = strchr(spec, '-');
		char a_small[32];
		cleanup_free char *a_heap = NULL;
		char *a = scratch_copy(a_small, sizeof(a_small), &a_heap, spec,
				       dash ? (size_t) (dash - spec) : strlen(spec));
		if (!a)
			return df_oom(err);
		int64_t s0 = 0, e0 = 0;
		int ok = *a && df_go_parse_int(a, 10, 64, &s0) == DF_GO_NUM_OK && s0 >= 0 &&
			 s0 <= 65535;
		e0 = s0;
		if (ok && dash && strcmp(a, dash + 1) != 0)
			ok = dash[1] && df_go_parse_int(dash + 1, 10, 64, &e0) == DF_GO_NUM_OK &&
			     e0 >= 0 && e0 <= 65535 && e0 >= s0;
		if (!ok)
			return kiln_fail(err, KILN_EPARSE, 0, "invalid %s: %s",
					 pass ? "hostPort" : "containerPort", spec);
		if (pass)
			hstart = s0, hend = e0;
		else
			start = s0, end = e0;
	}
	if (host && *host && (end - start) != (hend - hstart) && end != start)
		return kiln_fail(err, KILN_EPARSE, 0,
				 "invalid ranges specified for container and host Ports: %s and %s",
				 cport, host);
	if (x->gr->checks_only)
		return 0; /* the ports are a build's record */
	return push_ports(start, end, lproto, out, err);
}

/* EXPOSE's checks of its expanded ports; a build's record of them into *out */
static int expose_instr(struct df_xctx *x, const struct kiln_df_words *in,
			struct kiln_df_words *out, struct kiln_error *err)
{
	cleanup(kiln_strv_release) struct kiln_strv words = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv ports = KILN_STRV_INIT;
	/* every word plain (the usual case): each is its own one-word split and
	 * nothing can fail before the ports are read, so they are read as they are */
	const char *const *list = in->v;
	size_t n = in->n, plain = 0;
	while (plain < n && df_word_plain_in(x->gr->plain, list[plain]))
		plain++;
	for (size_t i = 0; plain < n && i < n; i++) {
		const char *w = in->v[i];
		if (df_word_plain_in(x->gr->plain, w)) { /* one word, itself */
			if (kiln_strv_push(&words, w) < 0)
				return df_oom(err);
			continue;
		}
		cleanup(df_result_release) struct kiln_shell_result res =
			KILN_SHELL_RESULT_INIT;
		int r = df_expand_words(x->gr, w, x->s->env, &res, err);
		if (r < 0)
			return r;
		if (df_note_used(x, &res.matched) < 0 || df_note_unset(x, &res.unmatched) < 0)
			return df_oom(err);
		for (size_t k = 0; k < res.words.len; k++)
			if (kiln_strv_push(&words, res.words.items[k]) < 0)
				return df_oom(err);
	}
	if (plain < n) {
		list = (const char *const *) words.items;
		n = words.len;
	}
	for (size_t i = 0; i < n; i++) {
		int r = expose_port(x, list[i], &ports, err);
		if (r < 0)
			return r;
	}
	if (x->gr->checks_only)
		return 0;
	return df_words_set(x->gr, &ports, out) < 0 ? df_oom(err) : 0;
}

/* WORKDIR's lint and state change, from its expanded path `p` */
static int workdir_set(struct df_xctx *x, const char *p, struct kiln_error *err)
{
	int r;
	if (!x->s->workdir_set && p[0] != '/') {
		struct kiln_buf q = KILN_BUF_INIT;
		r = kiln_go_quote(&q, p, strlen(p));
		if (r >= 0)
			r = df_lint_run(
				x->gr->lint, DF_RULE_WORKDIR_RELATIVE_PATH, x->in->node,
				x->in->start_line, x->in->end_line,
				"Relative workdir %s can have unexpected results if the base "
				"image changes",
				q.buf);
		kiln_buf_release(&q);
		if (r < 0)
			return df_oom(err);
	}
	x->s->workdir_set = 1;
	if (!*p) /* expanded to nothing: the current one, as BuildKit's NormalizePath */
		p = x->s->workdir ? x->s->workdir : "/";
	/* an absolute path already clean is its own Clean (its storage outlives the walk) */
	const char *wd = p[0] == '/' ? (df_path_is_clean(p) ? p : df_path_clean(x->gr, p))
				     : df_path_join(x->gr, x->s->workdir ? x->s->workdir : "/", p);
	if (!wd)
		return df_oom(err);
	if (wd[0] != '/' && !(wd = df_path_join(x->gr, "/", wd)))
		return df_oom(err);
	x->s->workdir = wd;
	return 0;
}

static int workdir_instr(struct df_xctx *x, struct kiln_df_instr *out, struct kiln_error *err)
{
	int r = xfield(x, &out->u.value, err);
	return r < 0 ? r : workdir_set(x, out->u.value, err);
}

/* COPY --from a stage: one dispatched before it */
static int copy_source_check(struct df_xctx *x, const struct kiln_df_copy *cp,
			     const struct df_cmd *c, struct kiln_error *err)
{
	struct df_graph *gr = x->gr;
	if (c->source >= 0 && !gr->states[c->source].dispatched)
		return kiln_fail(
			err, KILN_EPARSE, 0,
			"cannot copy from stage \"%s\", it needs to be defined before current "
			"stage \"%s\"",
			cp->from, gr->g->stages[(size_t) (x->s - gr->states)].id);
	return 0;
}

/* COPY and ADD's checks of the expanded chmod, checksum and sources */
static int copy_check(struct df_xctx *x, const struct kiln_df_copy *cp, const struct df_cmd *c,
		      int add, struct kiln_error *err)
{
	struct df_graph *gr = x->gr;
	int r;
	if (*cp->chmod && (r = df_chmod_validate(cp->chmod, err)) < 0)
		return r;
	/* a heredoc source is a file of that name in an empty directory:
	 * BuildKit's mkfile cannot make "a/b" there, nor "." or ".." */
	for (size_t i = 0; i < cp->n_inline; i++) {
		const char *n = cp->inline_sources[i].name;
		if (strchr(n, '/') || !strcmp(n, ".") || !strcmp(n, ".."))
			return kiln_fail(err, KILN_EPARSE, 0,
					 "here-document %s: a source's name cannot be a path: "
					 "mkfile /%s: %s",
					 n, n, strchr(n, '/') ? "no such file or directory"
							      : "is a directory");
	}
	if (add && *cp->checksum) {
		if (cp->sources.n != 1)
			return kiln_fail(err, KILN_EPARSE, 0,
					 "checksum can't be specified for multiple sources");
		if (!df_is_http_source(cp->sources.v[0]) && !df_is_git_source(cp->sources.v[0]))
			return kiln_fail(err, KILN_EPARSE, 0,
					 "checksum requires HTTP(S) or Git sources");
	}
	int check_ignore = (add || c->source == -1) && !(cp->from && *cp->from) && gr->hooks &&
			   gr->hooks->ignore_matches && !gr->hooks->ignore_has_exceptions &&
			   df_lint_wants(gr->lint, DF_RULE_COPY_IGNORED_FILE);
	for (size_t i = 0; i < cp->sources.n; i++) {
		const char *src = cp->sources.v[i];
		/* git and URL sources start with 'g', 's' or 'h': most paths are neither */
		int remote = src[0] == 'g' || src[0] == 's' || src[0] == 'h';
		if (!remote && !check_ignore)
			continue;
		if (remote && df_is_git_source(src)) {
			if (!add)
				return kiln_fail(err, KILN_EPARSE, 0,
						 "source can't be a git ref for COPY");
			continue;
		}
		if (remote && df_is_http_source(src)) {
			if (!add)
				return kiln_fail(err, KILN_EPARSE, 0,
						 "source can't be a URL for COPY");
			if (*cp->checksum && (r = df_digest_check(cp->checksum, err)) < 0)
				return r;
			continue;
		}
		if (!check_ignore)
			continue;
		r = gr->hooks->ignore_matches(gr->hooks->userdata, src, err);
		if (r < 0)
			return r;
		char *clean = df_path_clean(gr, src);
		if (!clean)
			return df_oom(err);
		if (r && (!strcmp(clean, ".") || !strcmp(clean, "/"))) {
			/*
			 * The context root is "ignored" only when every entry in it is:
			 * `.*` excludes "." itself but not the files COPY . . copies,
			 * `*` excludes them all. A name no literal pattern can spell
			 * tells the two apart.
			 */
			r = gr->hooks->ignore_matches(gr->hooks->userdata, "\x01", err);
			if (r < 0)
				return r;
		}
		if (!r)
			continue;
		struct kiln_buf q = KILN_BUF_INIT;
		r = kiln_go_quote(&q, src, strlen(src));
		if (r >= 0)
			r = df_lint_run(
				gr->lint, DF_RULE_COPY_IGNORED_FILE, x->in->node, x->in->start_line,
				x->in->end_line,
				"Attempting to %s file %s that is excluded by .dockerignore",
				add ? "Add" : "Copy", q.buf);
		kiln_buf_release(&q);
		if (r < 0)
			return df_oom(err);
	}
	return 0;
}

static int copy_instr(struct df_xctx *x, struct kiln_df_instr *out, const struct df_cmd *c,
		      struct kiln_df_step *step, struct kiln_error *err)
{
	struct df_graph *gr = x->gr;
	struct kiln_df_copy *cp = &out->u.copy;
	int add = out->cmd == KILN_DF_ADD;
	int r;
	if ((r = xfield(x, &cp->chown, err)) < 0 || (r = xfield(x, &cp->chmod, err)) < 0)
		return r;
	if (add && (r = xfield(x, &cp->checksum, err)) < 0)
		return r;
	if ((r = df_xwords(x, &cp->sources, err)) < 0 || (r = xfield(x, &cp->dest, err)) < 0)
		return r;
	struct kiln_df_inline *inl = cp->inline_sources;
	if (cp->n_inline && !(inl = kiln_arena_array(gr->a, cp->n_inline + 1, sizeof(*inl))))
		return df_oom(err);
	for (size_t i = 0; i < cp->n_inline; i++) {
		inl[i] = cp->inline_sources[i];
		if (inl[i].expand) {
			x->raw = 1;
			r = xfield(x, &inl[i].data, err);
			x->raw = 0;
			if (r < 0)
				return r;
		}
	}
	cp->inline_sources = inl;

	step->source_stage = c->source >= 0 ? c->source : -1;
	if ((r = copy_source_check(x, cp, c, err)) < 0)
		return r;
	if (!gr->checks_only &&
	    !(step->dest = df_copy_dest(gr, x->s->workdir ? x->s->workdir : "/", cp->dest)))
		return df_oom(err);
	return copy_check(x, cp, c, add, err);
}

static int strv_words(struct df_graph *gr, const struct kiln_strv *v, struct kiln_df_words *w)
{
	return df_words_set(gr, v, w);
}

static int run_instr(struct df_xctx *x, struct kiln_df_instr *out, const struct df_cmd *c,
		     struct kiln_df_step *step, struct kiln_error *err)
{
	struct df_graph *gr = x->gr;
	struct df_state *s = x->s;
	struct kiln_df_run *run = &out->u.run;
	size_t idx = (size_t) (s - gr->states);
	int r;
	run->n_mounts = run->mount_specs.n;
	if (run->n_mounts) { /* most RUNs have none: no arrays (readers go by n_mounts) */
		run->mounts = kiln_arena_array(gr->a, run->n_mounts + 1, sizeof(*run->mounts));
		step->mount_stages = kiln_arena_array(gr->a, run->n_mounts + 1, sizeof(long));
		if (!run->mounts || !step->mount_stages)
			return df_oom(err);
	}
	for (size_t i = 0; i < run->n_mounts; i++) {
		struct kiln_df_mount *m = &run->mounts[i];
		r = df_mount_parse(gr->a, run->mount_specs.v[i], df_xword_mount, x, m, err);
		if (r < 0)
			return r;
		long src = i < c->n_mounts ? c->mount_sources[i] : -1;
		const char *from = m->from && *m->from		    ? m->from
				   : m->type == KILN_DF_MOUNT_CACHE ? "scratch"
								    : NULL;
		step->mount_stages[i] = from && src >= 0 ? src : -1;
		if (from && src >= 0 && !gr->states[src].dispatched)
			return kiln_fail(
				err, KILN_EPARSE, 0,
				"cannot mount from stage \"%s\" to \"%s\", stage needs to be "
				"defined before current command",
				from, m->target ? m->target : "");
		if (m->type == KILN_DF_MOUNT_SECRET || m->type == KILN_DF_MOUNT_SSH)
			continue;
		const char *t = m->target ? m->target : "";
		/* an absolute target already clean is its own Clean: no copy */
		const char *target;
		if (t[0] != '/')
			target = df_path_join(gr, s->workdir ? s->workdir : "/", t);
		else
			target = df_path_is_clean(t) ? t : df_path_clean(gr, t);
		if (!target)
			return df_oom(err);
		if (!strcmp(target, "/"))
			return kiln_fail(err, KILN_EPARSE, 0, "invalid mount target \"%s\"",
					 target);
	}
	(void) idx;
	if (gr->checks_only)
		return 0;
	/* the process environment and what a cache key must cover */
	size_t n = kiln_shell_envlist_count(s->env);
	cleanup(kiln_strv_release) struct kiln_strv env = KILN_STRV_INIT;
	for (size_t i = 0; i < n; i++) {
		const char *k = kiln_shell_envlist_name(s->env, i);
		cleanup_free char *kv =
			kiln_asprintf("%s=%s", k, kiln_shell_envlist_get(s->env, k));
		if (!kv || kiln_strv_push(&env, kv) < 0)
			return df_oom(err);
	}
	if (strv_words(gr, &env, &step->env) < 0)
		return df_oom(err);
	for (size_t i = 0; i < s->n_args; i++) {
		const char *k = s->args[i].key;
		const char *v = kiln_shell_envlist_get(s->env, k);
		if (!v)
			v = s->args[i].value ? s->args[i].value : "";
		cleanup_free char *kv = kiln_asprintf("%s=%s", k, v);
		if (!kv)
			return df_oom(err);
		/* a re-declared ARG replaces the earlier entry, keeping its place */
		long at = -1;
		size_t kl = strlen(k);
		for (size_t u = 0; u < x->used.len; u++)
			if (!strncmp(x->used.items[u], k, kl) && x->used.items[u][kl] == '=')
				at = (long) u;
		if (at >= 0) {
			free(x->used.items[at]);
			x->used.items[at] = steal_ptr(&kv);
		} else if (kiln_strv_push_owned(&x->used, steal_ptr(&kv)) < 0) {
			return df_oom(err);
		}
	}
	/* BuildKit's proxy args (ProxyEnv): a build arg of either case sets both
	 * spellings in RUN's environment, declared or not */
	static const char *const proxies[][2] = { { "HTTP_PROXY", "http_proxy" },
						  { "HTTPS_PROXY", "https_proxy" },
						  { "FTP_PROXY", "ftp_proxy" },
						  { "NO_PROXY", "no_proxy" },
						  { "ALL_PROXY", "all_proxy" } };
	cleanup(kiln_strv_release) struct kiln_strv proxy = KILN_STRV_INIT;
	for (size_t p = 0; p < KILN_ARRAY_SIZE(proxies); p++) {
		const char *v = NULL;
		for (size_t i = 0; i < kiln_shell_envlist_count(gr->build_args); i++) {
			const char *k = kiln_shell_envlist_name(gr->build_args, i);
			if (!strcasecmp(k, proxies[p][1]))
				v = kiln_shell_envlist_get(gr->build_args, k);
		}
		if (!v || !*v)
			continue;
		for (size_t spelling = 0; spelling < 2; spelling++) {
			cleanup_free char *kv = kiln_asprintf("%s=%s", proxies[p][spelling], v);
			if (!kv || kiln_strv_push(&proxy, kv) < 0)
				return df_oom(err);
		}
	}
	return strv_words(gr, &proxy, &step->proxy_env) < 0 ? df_oom(err) : 0;
}

/* validateUsedOnce: the earlier CMD/ENTRYPOINT/HEALTHCHECK of a stage is ignored */
static int used_once(struct df_xctx *x, int *set, int line[2])
{
	int r = 0;
	if (*set)
		r = df_lint_run(x->gr->lint, DF_RULE_MULTIPLE_INSTRUCTIONS_DISALLOWED, x->in->node,
				line[0], line[1],
				"Multiple %s instructions should not be used in the same stage "
				"because only the last one will be used",
				x->in->keyword);
	*set = 1;
	line[0] = x->in->start_line;
	line[1] = x->in->end_line;
	return r;
}

static int cmdline_instr(struct df_xctx *x, const struct kiln_df_instr *out,
			 struct kiln_error *err)
{
	struct df_state *s = x->s;
	int r = 0;
	if (out->cmd == KILN_DF_CMD)
		r = used_once(x, &s->cmd_set, s->cmd_line);
	else if (out->cmd == KILN_DF_ENTRYPOINT)
		r = used_once(x, &s->entrypoint_set, s->entrypoint_line);
	else if (out->cmd == KILN_DF_HEALTHCHECK)
		r = used_once(x, &s->health_set, s->health_line);
	if (r < 0)
		return df_oom(err);
	if ((out->cmd == KILN_DF_CMD || out->cmd == KILN_DF_ENTRYPOINT) &&
	    !out->u.cmdline.exec_form && s->shell.len == 0 &&
	    lint_simple(x, DF_RULE_JSON_ARGS_RECOMMENDED,
			"JSON arguments recommended for %s to prevent unintended behavior related "
			"to OS signals",
			x->in->keyword) < 0)
		return df_oom(err);
	if (out->cmd == KILN_DF_SHELL) {
		kiln_strv_release(&s->shell);
		for (size_t i = 0; i < out->u.cmdline.args.n; i++)
			if (kiln_strv_push(&s->shell, out->u.cmdline.args.v[i]) < 0)
				return df_oom(err);
	}
	return 0;
}

/*
 * The checks-only walk of the instructions that expand nothing: a RUN
 * without mounts has nothing to check, CMD and the like only their lints,
 * USER, WORKDIR, ENV and LABEL their lints and state, COPY and ADD their
 * checks, and ARG and EXPOSE always, read from the instruction itself (no copy of it, no call of
 * dispatch_one with its saved registers). 1 when it was one (*ret its
 * result, located), else 0.
 */
static __attribute__((noinline)) int check_cmdline(struct df_graph *gr, struct df_state *s,
						   const struct kiln_df_instr *in,
						   struct kiln_error *err)
{
	struct df_xctx x = { .gr = gr, .s = s, .in = in };
	return cmdline_instr(&x, in, err);
}

/* A word df_xword() leaves as it is */
static inline int word_plain(const struct df_graph *gr, const char *w)
{
	return !*w || df_word_plain_in(gr->plain, w);
}

/*
 * WORKDIR, ENV and LABEL with nothing to expand, ARG and EXPOSE: their
 * lints and state change read from the instruction itself, as
 * dispatch_one() would from its copy (located errors as it locates them).
 */
static __attribute__((noinline)) int check_direct(struct df_graph *gr, struct df_state *s,
						       const struct kiln_df_instr *in,
						       struct kiln_error *err)
{
	struct df_xctx x = { .gr = gr, .s = s, .in = in };
	int r;
	switch (in->cmd) {
	case KILN_DF_WORKDIR:
		r = workdir_set(&x, in->u.value, err);
		break;
	case KILN_DF_ARG:
		r = arg_apply(&x, in->u.args.v, in->u.args.n, NULL, err);
		break;
	case KILN_DF_EXPOSE:
		r = expose_instr(&x, &in->u.words, NULL, err);
		break;
	default: /* ENV, LABEL */
		r = env_apply(&x, in->cmd, in->u.pairs.v, in->u.pairs.n, err);
		break;
	}
	if (r < 0 && r != -KILN_ENOMEM)
		df_error_locate(err, gr->file, in->start_line, in->end_line);
	return r;
}

/* COPY and ADD with nothing to expand (no heredoc source): their checks, located */
static __attribute__((noinline)) int check_copy_plain(struct df_graph *gr, struct df_state *s,
						      const struct df_cmd *c,
						      struct kiln_error *err)
{
	const struct kiln_df_instr *in = c->instr;
	struct df_xctx x = { .gr = gr, .s = s, .in = in };
	int r = copy_source_check(&x, &in->u.copy, c, err);
	if (r >= 0)
		r = copy_check(&x, &in->u.copy, c, in->cmd == KILN_DF_ADD, err);
	if (r < 0 && r != -KILN_ENOMEM)
		df_error_locate(err, gr->file, in->start_line, in->end_line);
	return r;
}

static inline int copy_plain(const struct df_graph *gr, const struct kiln_df_instr *in)
{
	const struct kiln_df_copy *cp = &in->u.copy;
	if (cp->n_inline || !word_plain(gr, cp->chown) || !word_plain(gr, cp->chmod) ||
	    (in->cmd == KILN_DF_ADD && !word_plain(gr, cp->checksum)) || !word_plain(gr, cp->dest))
		return 0;
	for (size_t i = 0; i < cp->sources.n; i++)
		if (!word_plain(gr, cp->sources.v[i]))
			return 0;
	return 1;
}

static inline int check_plain(struct df_graph *gr, struct df_state *s, const struct df_cmd *c,
			      struct kiln_error *err, int *ret)
{
	const struct kiln_df_instr *in = c->instr;
	*ret = 0;
	switch (in->cmd) {
	case KILN_DF_COPY:
	case KILN_DF_ADD:
		if (!copy_plain(gr, in))
			return 0;
		*ret = check_copy_plain(gr, s, c, err);
		return 1;
	case KILN_DF_ARG:
	case KILN_DF_EXPOSE:
		/* a checks-only walk keeps no expanded copy: what they expand is dropped */
		*ret = check_direct(gr, s, in, err);
		return 1;
	case KILN_DF_USER:
		if (!word_plain(gr, in->u.value))
			return 0;
		s->user = in->u.value;
		return 1;
	case KILN_DF_WORKDIR:
		if (!word_plain(gr, in->u.value))
			return 0;
		*ret = check_direct(gr, s, in, err);
		return 1;
	case KILN_DF_ENV:
	case KILN_DF_LABEL:
		for (size_t i = 0; i < in->u.pairs.n; i++)
			if (!word_plain(gr, in->u.pairs.v[i].key) ||
			    !word_plain(gr, in->u.pairs.v[i].value))
				return 0;
		*ret = check_direct(gr, s, in, err);
		return 1;
	case KILN_DF_RUN:
		return !in->u.run.mount_specs.n;
	case KILN_DF_CMD:
	case KILN_DF_ENTRYPOINT:
	case KILN_DF_HEALTHCHECK:
	case KILN_DF_SHELL:
		*ret = check_cmdline(gr, s, in, err);
		return 1;
	case KILN_DF_MAINTAINER:
	case KILN_DF_ONBUILD:
		return 1;
	default:
		return 0;
	}
}

static int dispatch_one(struct df_graph *gr, struct df_state *s, const struct df_cmd *c,
			struct kiln_df_step *step, struct kiln_error *err)
{
	struct df_xctx x = { .gr = gr, .s = s, .in = c->instr };
	struct kiln_df_instr *out = &step->instr;
	*out = *c->instr;
	out->flags |= KILN_DF_INSTR_EXPANDED;
	step->source_stage = -1;
	int r = 0;
	switch (out->cmd) {
	case KILN_DF_ENV:
	case KILN_DF_LABEL:
		r = env_instr(&x, out, err);
		break;
	case KILN_DF_ARG:
		r = arg_instr(&x, out, err);
		break;
	case KILN_DF_RUN:
		r = run_instr(&x, out, c, step, err);
		break;
	case KILN_DF_WORKDIR:
		r = workdir_instr(&x, out, err);
		break;
	case KILN_DF_ADD:
	case KILN_DF_COPY:
		r = copy_instr(&x, out, c, step, err);
		break;
	case KILN_DF_USER:
		if ((r = xfield(&x, &out->u.value, err)) >= 0) {
			s->user = out->u.value;
		}
		break;
	case KILN_DF_VOLUME:
		if ((r = df_xwords(&x, &out->u.words, err)) < 0)
			break;
		for (size_t i = 0; i < out->u.words.n; i++)
			if (!*out->u.words.v[i])
				r = kiln_fail(err, KILN_EPARSE, 0,
					      "VOLUME specified can not be an empty string");
		break;
	case KILN_DF_STOPSIGNAL: {
		int sig;
		if ((r = xfield(&x, &out->u.value, err)) >= 0 &&
		    df_go_parse_signal(out->u.value, &sig) < 0)
			r = kiln_fail(err, KILN_EPARSE, 0, "invalid signal: %s", out->u.value);
		break;
	}
	case KILN_DF_EXPOSE:
		r = expose_instr(&x, &out->u.words, &out->u.words, err);
		break;
	case KILN_DF_CMD:
	case KILN_DF_ENTRYPOINT:
	case KILN_DF_HEALTHCHECK:
	case KILN_DF_SHELL:
		r = cmdline_instr(&x, out, err);
		break;
	default: /* MAINTAINER, ONBUILD: nothing to expand */
		break;
	}
	if (r >= 0 && !gr->checks_only &&
	    (out->cmd == KILN_DF_RUN || out->cmd == KILN_DF_CMD ||
	     out->cmd == KILN_DF_ENTRYPOINT)) {
		cleanup(kiln_strv_release) struct kiln_strv sh = KILN_STRV_INIT;
		if (kiln_strv_copy(&sh, &s->shell) < 0)
			r = df_oom(err);
		else if (!sh.len &&
			 (kiln_strv_push(&sh, "/bin/sh") < 0 || kiln_strv_push(&sh, "-c") < 0))
			r = df_oom(err);
		else if (strv_words(gr, &sh, &step->shell) < 0)
			r = df_oom(err);
	}
	if (r >= 0 && !gr->checks_only) {
		step->workdir = df_astrdup(gr->a, s->workdir ? s->workdir : "/");
		step->user = df_astrdup(gr->a, s->user ? s->user : "");
		if (!step->workdir || !step->user ||
		    df_words_set(gr, &x.used, &step->used_args) < 0 ||
		    df_words_set(gr, &x.unset, &step->unset_vars) < 0)
			r = df_oom(err);
	}
	if (x.used.items) /* a lint walk records none */
		kiln_strv_release(&x.used);
	if (x.unset.items)
		kiln_strv_release(&x.unset);
	if (r < 0 && r != -KILN_ENOMEM)
		df_error_locate(err, gr->file, c->instr->start_line, c->instr->end_line);
	return r;
}

/* dispatchState.init(): a stage based on an earlier one starts where it ended */
static int inherit(struct df_graph *gr, struct df_state *s, const struct df_state *b,
		   struct kiln_error *err)
{
	int r;
	kiln_shell_envlist_free(s->env);
	s->env = NULL;
	/* the base stage is dispatched (its list no longer changes) and lives in the arena */
	if ((r = kiln_shell_envlist_borrow_in(gr->a, b->env, &s->env, err)) < 0)
		return r;
	df_set_release(&s->arg_env);
	kiln_strv_release(&s->shell);
	if ((!gr->checks_only && df_set_copy(&s->arg_env, &b->arg_env) < 0) ||
	    kiln_strv_copy(&s->shell, &b->shell) < 0)
		return df_oom(err);
	s->workdir = b->workdir;
	s->user = b->user;
	s->workdir_set = b->workdir_set;
	if (b->n_args) {
		if (reserve_args(gr, s, b->n_args) < 0)
			return df_oom(err);
		memcpy(s->args + s->n_args, b->args, b->n_args * sizeof(*s->args));
		s->n_args += b->n_args;
	}
	return 0;
}

int df_dispatch_stage(struct df_graph *gr, size_t index, struct kiln_error *err)
{
	struct kiln_df_stage *st = &gr->g->stages[index];
	struct df_state *s = &gr->states[index];
	int r;
	if (st->base_kind == KILN_DF_BASE_STAGE) {
		if ((r = inherit(gr, s, &gr->states[st->base_stage], err)) < 0)
			return r;
	} else if (s->workdir && s->workdir[0] != '/') {
		/* an image's relative WorkingDir counts from / */
		if (!(s->workdir = df_path_join(gr, "/", s->workdir)))
			return df_oom(err);
	}
	s->dispatched = 1;
	st->dispatched = 1;
	/* a checks-only walk records no ARG origins (set_env): one lookup for an unset PATH,
	 * none for an environment not made yet (graph_setup) or empty, which becomes a copy
	 * of the defaults' PATH alone (an empty one is left in the arena) */
	if (gr->checks_only && gr->path_env && !kiln_shell_envlist_count(s->env))
		r = kiln_shell_envlist_borrow_in(gr->a, gr->path_env, &s->env, err);
	else if (gr->checks_only)
		r = kiln_shell_envlist_default_borrowed(s->env, "PATH", DF_DEFAULT_PATH, err);
	else
		r = kiln_shell_envlist_get(s->env, "PATH")
			    ? 0
			    : set_env(gr, s, "PATH", DF_DEFAULT_PATH, 0, err);
	if (r < 0)
		return r;
	if (gr->checks_only) {
		/* only the walk's errors and checks: one scratch step, none kept (a checks-only
		 * dispatch_one writes a step's fields and reads none: no zeroing) */
		struct kiln_df_step step;
		for (size_t i = 0; i < s->n_cmds; i++) {
			if (check_plain(gr, s, &s->cmds[i], err, &r)) {
				if (r < 0)
					return r;
				continue;
			}
			if ((r = dispatch_one(gr, s, &s->cmds[i], &step, err)) < 0)
				return r;
		}
		return 0;
	}
	st->n_steps = s->n_cmds;
	/*
	 * dispatch_one() copies the instruction over a step before anything
	 * reads it, so only the fields after it are zeroed (and every step
	 * past a failed one, and the one past the end, as a zeroed array had)
	 */
	st->steps = kiln_arena_array_uninit(gr->a, s->n_cmds + 1, sizeof(*st->steps));
	if (!st->steps)
		return df_oom(err);
	const size_t tail = offsetof(struct kiln_df_step, used_args);
	for (size_t i = 0; i < s->n_cmds; i++) {
		struct kiln_df_step *step = &st->steps[i];
		memset((char *) step + tail, 0, sizeof(*step) - tail);
		if ((r = dispatch_one(gr, s, &s->cmds[i], step, err)) < 0) {
			memset(step + 1, 0, (s->n_cmds - i) * sizeof(*step));
			return r;
		}
	}
	memset(&st->steps[s->n_cmds], 0, sizeof(*st->steps));
	return 0;
}
