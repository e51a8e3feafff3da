/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/lint-internal.h"
#include "base/alloc.h"
#include "base/arena.h"

/* hadolint's rules on instructions other than RUN (docs/lint-rules.md). */

/*
 * Argument t of node nd without its surrounding quotes, in buf (of n bytes) or as it is.
 * lint_ntext() gives t->str itself only when its strlen() is t->len: no need to measure it.
 */
static inline const char *strip_quotes(const struct kiln_df_node *nd,
				       const struct kiln_df_text *t, char *buf, size_t n)
{
	const char *s = lint_ntext(nd, t);
	size_t len = s == t->str ? t->len : strlen(s);
	/* no quote at either end and short enough (most words): s as it is, not a copy */
	if (len && len < n && s[0] != '"' && s[0] != '\'' && s[len - 1] != '"' &&
	    s[len - 1] != '\'')
		return s;
	while (len && (*s == '"' || *s == '\'')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == '"' || s[len - 1] == '\''))
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(buf, s, len);
	buf[len] = 0;
	return buf;
}

static int windows_abs(const char *p)
{
	return isalpha((unsigned char)p[0]) && p[1] == ':';
}

static void dl3000(struct lint_file *f, size_t i)
{
	const struct lint_instr *in = &f->instrs[i];
	if (!in->node->n_args)
		return;
	char buf[4096];
	const char *p = strip_quotes(in->node, &in->node->args[0], buf, sizeof(buf));
	if (p[0] == '/' || p[0] == '$' || windows_abs(p))
		return;
	lint_emit(f, "DL3000", (int)i, in->line, "WORKDIR %s is relative: use an absolute path", p);
}

static int is_root_user(const char *u)
{
	return lint_str_eq(u, "root") || lint_str_eq(u, "0") || lint_str_has_prefix(u, "root:") ||
	       lint_str_has_prefix(u, "0:");
}

/* Whether the registry s[0..n) is one of the trusted ones: a name, or as
 * hadolint matches them, "*" (any) and "*.example.com" (its subdomains). */
static int trusted(const struct kiln_strv *regs, const char *s, size_t n)
{
	for (size_t i = 0; i < regs->len; i++) {
		const char *t = regs->items[i];
		size_t tl = strlen(t);
		if (tl == n && !memcmp(t, s, n))
			return 1;
		if (t[0] == '*' && (tl == 1 || (tl - 1 <= n && !memcmp(t + 1, s + n - (tl - 1),
								      tl - 1))))
			return 1;
	}
	return 0;
}

static void image_rules(struct lint_file *f, size_t s)
{
	const struct lint_stage *st = &f->stages[s];
	const struct lint_instr *in = &f->instrs[st->from];
	int idx = (int)st->from;
	const char *img =
		st->image_exp && *st->image_exp && !strchr(st->image_exp, '$') ? st->image_exp : NULL;
	if (img && !lint_str_eq(img, "scratch") && st->base_stage < 0) {
		/* the tag and digest found in img, not in a copy split apart */
		struct lint_refspan rs;
		lint_refspan(img, &rs);
		if (!rs.tag && !rs.digest)
			lint_emit(f, "DL3006", idx, in->line,
				  "base image %s has no tag: name a release tag such as %s:<version>", img,
				  img);
		if (rs.tag && rs.tag_len == 6 && !memcmp(rs.tag, "latest", 6) && !rs.digest)
			lint_emit(f, "DL3007", idx, in->line,
				  "base image %s uses latest, which changes under you: pin a release tag",
				  img);
		const struct kiln_lint_config *cfg = f->cfg;
		if (cfg && cfg->trusted_registries.len) {
			/* the registry: what comes before the path and its '/', if anything */
			size_t reg_len = rs.path != img ? (size_t)(rs.path - img) - 1 : 0;
			const char *reg = reg_len ? img : "Docker Hub";
			int ok;
			if (reg_len)
				ok = trusted(&cfg->trusted_registries, img, reg_len);
			else
				ok = trusted(&cfg->trusted_registries, "docker.io", 9) ||
				     trusted(&cfg->trusted_registries, "hub.docker.com", 14);
			if (!ok)
				lint_emit(f, "DL3026", idx, in->line,
					  "base image %s comes from %.*s, which is not a trusted "
					  "registry",
					  img, reg_len ? (int)reg_len : 10, reg);
		}
	}
	if (st->platform) {
		if (!strchr(st->platform, '$'))
			lint_emit(f, "DL3029", idx, in->line,
				  "FROM --platform=%s fixes the platform of the stage: leave it to the build",
				  st->platform);
		if (strcmp(st->platform, "$TARGETPLATFORM") == 0 ||
		    strcmp(st->platform, "${TARGETPLATFORM}") == 0)
			lint_emit(f, "DL3065", idx, in->line,
				  "--platform=%s is what the stage gets anyway: drop the flag", st->platform);
	}
	if (st->name) {
		if (lint_str_eq(st->name, "scratch") || lint_str_eq(st->name, "context"))
			lint_emit(f, "DL3063", idx, in->line,
				  "stage name %s is reserved: pick another name", st->name_raw);
		int o = f->prev_same_name[s];
		if (o >= 0)
			lint_emit(f, "DL3024", idx, in->line,
				  "stage name %s is already used on line %d: names must be unique",
				  st->name_raw, f->instrs[f->stages[o].from].line);
	}
}

static int copy_from_known(const struct lint_instr *in, const char *from, int stage)
{
	if (strchr(from, ':') || strchr(from, '$'))
		return 1;
	if (in->from_stage >= 0) /* lint_stage_by_name(f, from, stage) */
		return 1;
	char *end = NULL;
	long n = strtol(from, &end, 10);
	return *from && end && !*end && n >= 0 && n < stage;
}

static void copy_rules(struct lint_file *f, size_t i, int workdir_set)
{
	const struct lint_instr *in = &f->instrs[i];
	const struct kiln_df_node *n = in->node;
	if (n->n_args < 2)
		return;
	char buf[4096];
	const char *dest = strip_quotes(n, &n->args[n->n_args - 1], buf, sizeof(buf));
	if (in->cmd == KILN_DF_COPY && n->n_args > 2 && !lint_str_has_suffix(dest, "/"))
		lint_emit(f, "DL3021", (int)i, in->line,
			  "COPY of %zu sources needs a destination ending in /, not %s", n->n_args - 1,
			  dest);
	if (in->cmd == KILN_DF_COPY && !workdir_set && !in->onbuild && dest[0] != '/' &&
	    dest[0] != '$' && !(windows_abs(dest) && (dest[2] == '\\' || dest[2] == '/')))
		lint_emit(f, "DL3045", (int)i, in->line,
			  "COPY to the relative path %s while no WORKDIR is set: the base image decides where it lands",
			  dest);
	const char *from = in->from;
	if (in->cmd == KILN_DF_COPY && from) {
		int st = in->stage;
		const char *own = st >= 0 ? f->stages[st].name : NULL;
		if (own && lint_ci_equal(own, from))
			lint_emit(f, "DL3023", (int)i, in->line,
				  "COPY --from=%s names the stage it is in", from);
		else if (!copy_from_known(in, from, st))
			lint_emit(f, "DL3022", (int)i, in->line,
				  "COPY --from=%s names no stage defined above (nor an image reference)",
				  from);
		char sb[16];
		/* the destination first: it is at hand, and seldom "/" */
		if (n->n_args == 2 && dest[0] == '/' && !dest[1] &&
		    strcmp(strip_quotes(n, &n->args[0], sb, sizeof(sb)), "/") == 0)
			lint_emit(f, "DL3067", (int)i, in->line,
				  "COPY --from=%s / / copies a whole file system: copy only what you need",
				  from);
	}
}

static int is_archive(const char *p)
{
	static const char *const ext[] = { ".tar", ".Z",   ".bz2", ".gz",  ".lz",  ".lzma", ".tZ", ".tb2",
					   ".tbz", ".tbz2", ".tgz", ".tlz", ".tpz", ".txz",  ".xz",  NULL };
	return lint_str_has_any_ext(p, ext);
}

static void dl3020(struct lint_file *f, size_t i)
{
	const struct lint_instr *in = &f->instrs[i];
	const struct kiln_df_node *n = in->node;
	if (n->n_heredocs || n->n_args < 2)
		return;
	for (size_t a = 0; a + 1 < n->n_args; a++) {
		char buf[4096];
		const char *src = strip_quotes(n, &n->args[a], buf, sizeof(buf));
		if (is_archive(src) || lint_str_has_prefix(src, "http://") ||
		    lint_str_has_prefix(src, "https://") || lint_str_has_prefix(src, "git@") ||
		    strchr(src, '$'))
			continue;
		lint_emit(f, "DL3020", (int)i, in->line,
			  "ADD of the local path %s: use COPY (ADD is for URLs and archives)", src);
		return;
	}
}

/* strtoul(s, end, 10) without the call for a port of a few digits (most are) */
static unsigned long port_number(const char *s, char **end)
{
	const char *p = s;
	unsigned long v = 0;
	while (*p >= '0' && *p <= '9' && p - s < 9)
		v = v * 10 + (unsigned long)(*p++ - '0');
	if (p == s || (*p >= '0' && *p <= '9'))
		return strtoul(s, end, 10); /* blanks, a sign, none or many digits: its rules */
	*end = (char *)p;
	return v;
}

static void dl3011(struct lint_file *f, size_t i)
{
	const struct lint_instr *in = &f->instrs[i];
	for (size_t a = 0; a < in->node->n_args; a++) {
		const char *p = lint_ntext(in->node, &in->node->args[a]);
		if (strchr(p, '$'))
			continue;
		const char *c = strrchr(p, ':');
		const char *port = c ? c + 1 : p;
		char *end = NULL;
		unsigned long lo = port_number(port, &end);
		if (end == port)
			continue;
		unsigned long hi = lo;
		if (*end == '-') {
			const char *h = end + 1;
			hi = port_number(h, &end);
			if (end == h)
				continue;
		}
		if (lo > 65535 || hi > 65535)
			lint_emit(f, "DL3011", (int)i, in->line,
				  "EXPOSE %s: ports range from 0 to 65535", p);
	}
}

/*
 * The names ENV and ARG define, entered into `set` when a rule asks (an ENV of several
 * pairs, which few files have): instructions [upto, i) are entered then, not each as it
 * comes, which hashed every name of every file for nothing.
 */
struct defined_names {
	struct lint_set set;
	size_t upto;
};

static void defined_upto(struct lint_file *f, struct defined_names *d, size_t i)
{
	for (; d->upto < i; d->upto++) {
		const struct kiln_df_node *n = f->instrs[d->upto].node;
		int r = 0;
		if (f->instrs[d->upto].cmd == KILN_DF_ENV) {
			/* ENV pairs come as (key, value, sep) triples */
			for (size_t k = 0; r >= 0 && k < n->n_args / 3; k++) {
				const char *key = lint_ntext(n, &n->args[3 * k]);
				r = lint_set_add(&d->set, key, strlen(key));
			}
		} else if (f->instrs[d->upto].cmd == KILN_DF_ARG) {
			for (size_t a = 0; r >= 0 && a < n->n_args; a++) {
				const char *w = lint_ntext(n, &n->args[a]);
				r = lint_set_add(&d->set, w, strcspn(w, "="));
			}
		}
		if (r < 0) {
			f->nomem = 1;
			return;
		}
	}
}

/* ENV/LABEL/ARG pairs come as (key, value, sep) triples. */
static void dl3044(struct lint_file *f, size_t i, struct defined_names *defined)
{
	const struct lint_instr *in = &f->instrs[i];
	const struct kiln_df_node *n = in->node;
	size_t np = n->n_args / 3;
	/* a key is looked for in the other pairs' values: one pair (most ENVs) has none */
	if (np > 1)
		defined_upto(f, defined, i);
	for (size_t k = 0; np > 1 && k < np && !f->nomem; k++) {
		const char *key = lint_ntext(n, &n->args[3 * k]);
		if (lint_set_has(&defined->set, key, strlen(key)))
			continue;
		size_t kl = strlen(key);
		for (size_t j = 0; j < np; j++) {
			if (j == k)
				continue;
			const char *v = lint_ntext(n, &n->args[3 * j + 1]);
			int hit = 0;
			for (const char *p = strchr(v, '$'); p && !hit; p = strchr(p + 1, '$')) {
				if (p[1] == '{' && strncmp(p + 2, key, kl) == 0 &&
				    (p[2 + kl] == '}' || p[2 + kl] == ':'))
					hit = 1;
				else if (strncmp(p + 1, key, kl) == 0 &&
					 !(isalnum((unsigned char)p[1 + kl]) || p[1 + kl] == '_'))
					hit = 1;
			}
			if (hit) {
				lint_emit(f, "DL3044", (int)i, in->line,
					  "ENV defines %s and uses it in the same instruction, where it still has its old value",
					  key);
				k = np;
				break;
			}
		}
	}
}

/* A word of secret_name()'s lists, measured at compile time. */
struct secret_word {
	const char *s;
	size_t n;
};
#define SECRET_WORD(w) { w, sizeof(w) - 1 }

/* hadolint's list of known secret names and suspicious parts (DL3064) in name[0..len)
 * (no NUL byte in it; not NUL-terminated there). */
static int secret_name(const char *name, size_t len)
{
	static const struct secret_word known[] = {
		SECRET_WORD("ACCESS_TOKEN"),       SECRET_WORD("APPLICATION_KEY"),
		SECRET_WORD("APP_SECRET"),         SECRET_WORD("AUTH_TOKEN"),
		SECRET_WORD("AWS_ACCESS_KEY_ID"),  SECRET_WORD("AWS_SECRET_ACCESS_KEY"),
		SECRET_WORD("CF_PASSWORD"),        SECRET_WORD("CF_USERNAME"),
		SECRET_WORD("CIRCLE_TOKEN"),       SECRET_WORD("CI_DEPLOY_PASSWORD"),
		SECRET_WORD("CI_DEPLOY_USER"),     SECRET_WORD("DOCKERHUB_PASSWORD"),
		SECRET_WORD("DOCKER_EMAIL"),       SECRET_WORD("DOCKER_PASSWORD"),
		SECRET_WORD("DOCKER_USERNAME"),    SECRET_WORD("FIREBASE_TOKEN"),
		SECRET_WORD("GH_TOKEN"),           SECRET_WORD("GITHUB_TOKEN"),
		SECRET_WORD("HEROKU_API_KEY"),     SECRET_WORD("NPM_AUTH_TOKEN"),
		SECRET_WORD("NPM_TOKEN"),          SECRET_WORD("OPENAI_API_KEY"),
		SECRET_WORD("OS_PASSWORD"),        SECRET_WORD("OS_USERNAME"),
		SECRET_WORD("POSTGRES_PASSWORD"),  SECRET_WORD("SLACK_TOKEN"),
		SECRET_WORD("STRIPE_API_KEY"),     SECRET_WORD("VAULT_TOKEN"),
	};
	static const struct secret_word parts[] = {
		SECRET_WORD("api_key"), SECRET_WORD("client_key"), SECRET_WORD("password"),
		SECRET_WORD("private"), SECRET_WORD("secret"),     SECRET_WORD("token"),
		SECRET_WORD("username"),
	};
	/* the parts (bit k: parts[k]) that begin with a byte, either case */
	static const unsigned char part_bits[256] = {
		['a'] = 1 << 0, ['A'] = 1 << 0, ['c'] = 1 << 1, ['C'] = 1 << 1,
		['p'] = 3 << 2, ['P'] = 3 << 2, ['s'] = 1 << 4, ['S'] = 1 << 4,
		['t'] = 1 << 5, ['T'] = 1 << 5, ['u'] = 1 << 6, ['U'] = 1 << 6,
	};
	/* the parts whose second byte is this one, either case: with part_bits[] of the byte
	 * before, most positions of a name that begin no part are passed at once */
	static const unsigned char part_bits2[256] = {
		['p'] = 1 << 0, ['P'] = 1 << 0, ['l'] = 1 << 1, ['L'] = 1 << 1,
		['a'] = 1 << 2, ['A'] = 1 << 2, ['r'] = 1 << 3, ['R'] = 1 << 3,
		['e'] = 1 << 4, ['E'] = 1 << 4, ['o'] = 1 << 5, ['O'] = 1 << 5,
		['s'] = 1 << 6, ['S'] = 1 << 6,
	};
	/* 1 + the index in known[] (sorted) of the first name that begins with a (lower-case)
	 * byte; 0: none does, as for most names */
	static const unsigned char known_start[256] = {
		['a'] = 1, ['c'] = 7, ['d'] = 12, ['f'] = 16, ['g'] = 17, ['h'] = 19,
		['n'] = 20, ['o'] = 22, ['p'] = 25, ['s'] = 26, ['v'] = 28,
	};
	int first = lint_ascii_lower((unsigned char)name[0]); /* tolower() of the CLI's locales */
	/* strcasecmp() finds equal only names of one length */
	size_t k0 = known_start[(unsigned char)first];
	for (size_t i = k0 - 1; k0 && i < KILN_ARRAY_SIZE(known) && (known[i].s[0] | 0x20) == first;
	     i++)
		if (known[i].n == len && strncasecmp(name, known[i].s, len) == 0)
			return 1;
	/* a part anywhere in the first 255 bytes, in any case: each position is compared,
	 * lower-casing as it goes, with the parts that begin with its byte (no copy) */
	const unsigned char *u = (const unsigned char *)name;
	size_t n = len < 256 ? len : 255;
	/* no part is shorter than "token": the last four positions start none */
	for (size_t i = 0; i + 5 <= n; i++) {
		for (unsigned bits = part_bits[u[i]] & part_bits2[u[i + 1]]; bits;
		     bits &= bits - 1) {
			const struct secret_word *pw = &parts[__builtin_ctz(bits)];
			if (pw->n > n - i)
				continue;
			size_t k = 2;
			while (k < pw->n && lint_ascii_lower(u[i + k]) == (unsigned char)pw->s[k])
				k++;
			if (k == pw->n)
				return 1;
		}
	}
	return 0;
}

static void dl3064(struct lint_file *f, size_t i)
{
	const struct lint_instr *in = &f->instrs[i];
	const struct kiln_df_node *n = in->node;
	if (in->cmd == KILN_DF_ENV) {
		for (size_t k = 0; 3 * k < n->n_args; k++) {
			const char *key = lint_ntext(n, &n->args[3 * k]);
			if (secret_name(key, key == n->args[3 * k].str ? n->args[3 * k].len : 0))
				lint_emit(f, "DL3064", (int)i, in->line,
					  "ENV %s looks like a secret: its value stays in the image", key);
		}
		return;
	}
	for (size_t a = 0; a < n->n_args; a++) {
		const char *w = lint_ntext(n, &n->args[a]);
		char name[256];
		size_t len = (size_t)(strchrnul(w, '=') - w);
		if (len >= sizeof(name))
			len = sizeof(name) - 1;
		if (!secret_name(w, len))
			continue;
		/* the name copied only for the message */
		memcpy(name, w, len);
		name[len] = 0;
		lint_emit(f, "DL3064", (int)i, in->line,
			  "ARG %s looks like a secret: build arguments stay in the image history",
			  name);
	}
}

static int label_key_ok(const char *k)
{
	size_t n = strlen(k);
	if (!n || !(k[0] >= 'a' && k[0] <= 'z'))
		return 0;
	char last = k[n - 1];
	if (!((last >= 'a' && last <= 'z') || (last >= '0' && last <= '9')))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = k[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == '_' || c == '/'))
			return 0;
	}
	if (strstr(k, "..") || strstr(k, "--"))
		return 0;
	return !(lint_str_has_prefix(k, "com.docker.") || lint_str_has_prefix(k, "io.docker.") ||
		 lint_str_has_prefix(k, "org.dockerproject."));
}

static void dl3048(struct lint_file *f, size_t i)
{
	const struct lint_instr *in = &f->instrs[i];
	for (size_t k = 0; 3 * k < in->node->n_args; k++) {
		cleanup_free char *key = lint_unquote(lint_ntext(in->node, &in->node->args[3 * k]));
		if (!key) {
			f->nomem = 1;
			return;
		}
		/* a key with a variable too, as hadolint (it reads the key as written) */
		if (!label_key_ok(key))
			lint_emit(f, "DL3048", (int)i, in->line,
				  "label key %s is malformed: use lower-case letters, digits, . and -, "
				  "start with a letter, and avoid the com.docker., io.docker. and "
				  "org.dockerproject. namespaces",
				  key);
	}
}

static void dl3066(struct lint_file *f, size_t i)
{
	const struct lint_instr *in = &f->instrs[i];
	if (!in->node->n_args)
		return;
	const char *u = lint_ntext(in->node, &in->node->args[0]);
	if (strchr(u, '$'))
		return;
	size_t n = strcspn(u, ":");
	for (size_t k = 0; k < n; k++) {
		if (!isdigit((unsigned char)u[k])) {
			/* u[0..n) has no NUL (strcspn): what %.*s gave */
			const struct lint_piece pc[] = {
				LINT_LIT("USER "),
				{ u, n },
				LINT_LIT(" is a name: a numeric id lets the runtime tell that it "
					 "is not root"),
			};
			lint_emit_pieces(f, "DL3066", (int)i, in->line, pc, KILN_ARRAY_SIZE(pc));
			return;
		}
	}
}

/* DL3057 at stage s's FROM; off: the rule is off, the finding only counted */
static void dl3057(struct lint_file *f, size_t s, int off)
{
	if (off) {
		lint_emit_off(f);
		return;
	}
	size_t from = f->stages[s].from;
	lint_emit(f, "DL3057", (int)from, f->instrs[from].line, "this stage has no HEALTHCHECK");
}

void lint_rules_dl_instr(struct lint_file *f)
{
	int seen_from = 0;
	struct defined_names defined = { .set = { .arena = f->arena } };
	/* per-stage state, reset at FROM */
	int cmd_line = 0, ep_line = 0, hc_count = 0, workdir = 0;
	int last_root_user = -1; /* instr index of a USER root that is still the last USER */
	int *stage_workdir = kiln_arena_array(f->arena, f->n_stages + 1, sizeof(int));
	int *stage_health = kiln_arena_array(f->arena, f->n_stages + 1, sizeof(int));
	if (!stage_workdir || !stage_health) {
		f->nomem = 1;
		return;
	}
	/* DL3057 is off by default: its findings then only counted, the rule asked once */
	int dl3057_off = lint_rule_off(f, "DL3057");
	for (size_t i = 0; i < f->n_instrs && !f->nomem; i++) {
		const struct lint_instr *in = &f->instrs[i];
		if (!seen_from && in->cmd != KILN_DF_FROM && in->cmd != KILN_DF_ARG && !in->onbuild) {
			lint_emit(f, "DL3061", (int)i, in->line,
				  "%s comes before the first FROM: a Dockerfile starts with FROM (or ARG)",
				  lint_text(&in->node->keyword));
			seen_from = 1;
		}
		if (in->outer->cmd == KILN_DF_ONBUILD && in->outer->onbuild) {
			enum kiln_df_cmd t = in->outer->onbuild->cmd;
			if (t == KILN_DF_ONBUILD || t == KILN_DF_FROM || t == KILN_DF_MAINTAINER)
				lint_emit(f, "DL3043", (int)i, in->line,
					  "ONBUILD %s is not allowed as a trigger",
					  lint_text(&in->outer->onbuild->keyword));
		}
		switch (in->cmd) {
		case KILN_DF_FROM:
			if (in->onbuild)
				break;
			if (last_root_user >= 0)
				lint_emit(f, "DL3002", last_root_user, f->instrs[last_root_user].line,
					  "the stage ends as root: switch to an unprivileged USER");
			seen_from = 1;
			last_root_user = -1;
			cmd_line = ep_line = hc_count = 0;
			{
				const struct lint_stage *st = &f->stages[in->stage];
				workdir = st->base_stage >= 0 ? stage_workdir[st->base_stage] : 0;
				stage_workdir[in->stage] = workdir; /* for the stages built on it */
				stage_health[in->stage] = st->base_stage >= 0 ? stage_health[st->base_stage] : 0;
			}
			image_rules(f, (size_t)in->stage);
			break;
		case KILN_DF_WORKDIR:
			dl3000(f, i);
			if (!in->onbuild) {
				workdir = 1;
				if (in->stage >= 0)
					stage_workdir[in->stage] = 1;
			}
			break;
		case KILN_DF_USER:
			if (!in->onbuild && in->node->n_args) {
				const char *u = lint_ntext(in->node, &in->node->args[0]);
				last_root_user = is_root_user(u) ? (int)i : -1;
			}
			dl3066(f, i);
			break;
		case KILN_DF_COPY:
			copy_rules(f, i, workdir);
			break;
		case KILN_DF_ADD:
			copy_rules(f, i, workdir);
			dl3020(f, i);
			break;
		case KILN_DF_EXPOSE:
			dl3011(f, i);
			break;
		case KILN_DF_HEALTHCHECK:
			if (in->onbuild)
				break;
			if (++hc_count > 1)
				lint_emit(f, "DL3012", (int)i, in->line,
					  "a second HEALTHCHECK in this stage: only the last one counts");
			if (in->stage >= 0)
				stage_health[in->stage] = 1;
			break;
		case KILN_DF_CMD:
		case KILN_DF_ENTRYPOINT: {
			if (!in->node->json_form)
				lint_emit(f, "DL3025", (int)i, in->line,
					  "%s in shell form runs under /bin/sh -c, which does not pass signals on: use the JSON form",
					  lint_text(&in->node->keyword));
			if (in->onbuild)
				break;
			int *seen = in->cmd == KILN_DF_CMD ? &cmd_line : &ep_line;
			if (*seen)
				lint_emit(f, in->cmd == KILN_DF_CMD ? "DL4003" : "DL4004", (int)i, in->line,
					  "%s again (first on line %d): only the last one in a stage counts",
					  lint_text(&in->node->keyword), *seen);
			else
				*seen = in->line;
			break;
		}
		case KILN_DF_MAINTAINER:
			lint_emit(f, "DL4000", (int)i, in->line,
				  "MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors=...");
			break;
		case KILN_DF_ENV:
			dl3044(f, i, &defined);
			dl3064(f, i);
			break;
		case KILN_DF_ARG: /* its names are entered into `defined` when asked for */
			dl3064(f, i);
			break;
		case KILN_DF_LABEL:
			dl3048(f, i);
			break;
		default:
			break;
		}
	}
	if (last_root_user >= 0)
		lint_emit(f, "DL3002", last_root_user, f->instrs[last_root_user].line,
			  "the last USER is root: switch to an unprivileged user");
	/* DL3057 as hadolint's spec has it: a stage with no HEALTHCHECK of its
	 * own or of a base, and none in a stage built on it either (the chain
	 * that ends with one is all right; a branch that does not is not) */
	for (size_t s = f->n_stages; s-- > 0;) {
		int b = f->stages[s].base_stage;
		if (stage_health[s] && b >= 0 && (size_t) b < s)
			stage_health[b] = 1;
	}
	for (size_t s = 0; s < f->n_stages; s++)
		if (!stage_health[s])
			dl3057(f, s, dl3057_off);
	lint_set_release(&defined.set);
}
