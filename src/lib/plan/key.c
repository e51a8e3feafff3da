/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cache keys: named ingredients, their digest, and the canonical text of an
 * expanded instruction.
 */
#include "plan/key.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/gotext.h"
#include "plan/path.h"

void kiln_plan_key_release(struct kiln_plan_key *k)
{
	kiln_strv_release(&k->names);
	kiln_strv_release(&k->values);
	memset(&k->digest, 0, sizeof(k->digest));
}

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

/*
 * Text as JSON: a string, or {"hex": "..."} when it is not valid UTF-8
 * (a Dockerfile or a build arg may hold any bytes; JSON strings may not).
 * An object never equals a string, so distinct texts stay distinct.
 */
static json_t *jtext(const char *s)
{
	s = s ? s : "";
	json_t *j = json_string(s);
	if (j)
		return j;
	static const char digits[] = "0123456789abcdef";
	size_t n = strlen(s);
	cleanup_free char *hex = kiln_malloc(2 * n + 1);
	if (!hex)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = digits[(unsigned char) s[i] >> 4];
		hex[2 * i + 1] = digits[(unsigned char) s[i] & 15];
	}
	hex[2 * n] = 0;
	return json_pack("{s:s}", "hex", hex);
}

/* jtext's inverse: the text, allocated; NULL when `j` is neither form. */
static char *jtext_value(const json_t *j)
{
	if (json_is_string(j))
		return kiln_strdup(json_string_value(j));
	const char *hex = json_string_value(json_object_get(j, "hex"));
	size_t n = hex ? strlen(hex) : 1;
	if (n % 2)
		return NULL;
	char *s = kiln_malloc(n / 2 + 1);
	for (size_t i = 0; s && i < n / 2; i++) {
		int hi = kiln_go_unhex(hex[2 * i]), lo = kiln_go_unhex(hex[2 * i + 1]);
		if (hi < 0 || lo < 0 || (!hi && !lo)) { /* a NUL would cut the text short */
			free(s);
			return NULL;
		}
		s[i] = (char) (hi * 16 + lo);
	}
	if (s)
		s[n / 2] = 0;
	return s;
}

int kiln_plan_key_add(struct kiln_plan_key *k, const char *name, const char *value,
		      struct kiln_error *err)
{
	if (kiln_strv_push(&k->names, name) < 0)
		return oom(err);
	if (kiln_strv_push(&k->values, value ? value : "") < 0) {
		free(k->names.items[--k->names.len]);
		k->names.items[k->names.len] = NULL;
		return oom(err);
	}
	return 0;
}

int kiln_plan_key_finish(struct kiln_plan_key *k, struct kiln_error *err)
{
	struct kiln_sha256 *h = NULL;
	int r = kiln_sha256_new(&h, err);
	if (r < 0)
		return r;
	kiln_sha256_update(h, KILN_PLAN_KEY_VERSION "\n", strlen(KILN_PLAN_KEY_VERSION) + 1);
	for (size_t i = 0; i < k->names.len; i++) {
		const char *v = k->values.items[i];
		char len[32];
		int n = snprintf(len, sizeof(len), "%zu:", strlen(v));
		kiln_sha256_update(h, k->names.items[i], strlen(k->names.items[i]) + 1);
		kiln_sha256_update(h, len, (size_t) n);
		kiln_sha256_update(h, v, strlen(v));
		kiln_sha256_update(h, "\n", 1);
	}
	kiln_sha256_final(h, &k->digest);
	kiln_sha256_free(h);
	return 0;
}

const char *kiln_plan_key_get(const struct kiln_plan_key *k, const char *name)
{
	for (size_t i = 0; i < k->names.len; i++)
		if (strcmp(k->names.items[i], name) == 0)
			return k->values.items[i];
	return NULL;
}

int kiln_plan_key_to_json(const struct kiln_plan_key *k, char **ret, struct kiln_error *err)
{
	json_t *a = json_array();
	if (!a)
		return oom(err);
	for (size_t i = 0; i < k->names.len; i++) {
		json_t *pair = json_pack("[s,o]", k->names.items[i], jtext(k->values.items[i]));
		if (!pair || json_array_append_new(a, pair) < 0) {
			json_decref(a);
			return oom(err);
		}
	}
	char *s = json_dumps(a, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(a);
	if (!s)
		return oom(err);
	/* jansson allocates with malloc: hand out a kiln copy */
	*ret = kiln_strdup(s);
	free(s);
	return *ret ? 0 : oom(err);
}

int kiln_plan_key_from_json(const char *json, struct kiln_plan_key *k, struct kiln_error *err)
{
	json_error_t je;
	json_t *a = json_loads(json, JSON_REJECT_DUPLICATES, &je);
	if (!a || !json_is_array(a)) {
		json_decref(a);
		return kiln_fail(err, KILN_EPARSE, 0,
				 "cache record: ingredients are not a JSON array");
	}
	int r = 0;
	size_t i;
	json_t *pair;
	json_array_foreach(a, i, pair)
	{
		const char *n;
		json_t *jv;
		cleanup_free char *v = NULL;
		if (json_unpack(pair, "[so]", &n, &jv) < 0 || !(v = jtext_value(jv))) {
			r = kiln_fail(err, KILN_EPARSE, 0, "cache record: malformed ingredient %zu",
				      i);
			break;
		}
		if ((r = kiln_plan_key_add(k, n, v, err)) < 0)
			break;
	}
	json_decref(a);
	return r;
}

int kiln_plan_key_diff(const struct kiln_plan_key *a, const struct kiln_plan_key *b,
		       struct kiln_strv *ret, struct kiln_error *err)
{
	for (size_t i = 0; i < a->names.len; i++) {
		const char *bv = kiln_plan_key_get(b, a->names.items[i]);
		if ((!bv || strcmp(bv, a->values.items[i]) != 0) &&
		    kiln_strv_push(ret, a->names.items[i]) < 0)
			return oom(err);
	}
	for (size_t i = 0; i < b->names.len; i++)
		if (!kiln_plan_key_get(a, b->names.items[i]) &&
		    kiln_strv_push(ret, b->names.items[i]) < 0)
			return oom(err);
	return 0;
}

/* ---- the canonical instruction text ------------------------------------ */

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

static json_t *jwords(const struct kiln_df_words *w)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < w->n; i++)
		if (json_array_append_new(a, jtext(w->v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *jinline(const struct kiln_df_inline *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		json_t *o = json_pack("{s:o,s:o,s:b,s:b}", "name", jtext(v[i].name), "data",
				      jtext(v[i].data), "expand", v[i].expand, "chomp", v[i].chomp);
		if (!o || json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/*
 * A RUN in exec form that spells out the step's shell and one script
 * (`RUN ["/bin/sh", "-c", "make"]`) runs what the shell form `RUN make`
 * runs: BuildKit makes one exec op of both, so they share a key.
 */
static int run_exec_is_shell_form(const struct kiln_df_step *step)
{
	const struct kiln_df_cmdline *cl = &step->instr.u.run.cmd;
	if (!cl->exec_form || !step->shell.n || cl->args.n != step->shell.n + 1)
		return 0;
	for (size_t i = 0; i < step->shell.n; i++)
		if (strcmp(cl->args.v[i], step->shell.v[i]))
			return 0;
	return 1;
}

static int run_is_shell_form(const struct kiln_df_step *step)
{
	return !step->instr.u.run.cmd.exec_form || run_exec_is_shell_form(step);
}

static json_t *run_json(const struct kiln_df_step *step)
{
	static const char *const nets[] = { "default", "none", "host" };
	const struct kiln_df_run *r = &step->instr.u.run;
	int as_shell = run_exec_is_shell_form(step);
	json_t *args = as_shell ? json_pack("[o]", jtext(r->cmd.args.v[r->cmd.args.n - 1]))
				: jwords(&r->cmd.args);
	return json_pack("{s:s,s:o,s:b,s:o,s:o,s:s,s:s}", "cmd", "RUN", "args", args, "exec",
			 r->cmd.exec_form && !as_shell, "files",
			 jinline(r->cmd.files, r->cmd.n_files), "mounts", jwords(&r->mount_specs),
			 "network", nets[r->network <= KILN_DF_NETWORK_HOST ? r->network : 0],
			 "security", r->security == KILN_DF_SECURITY_INSECURE ? "insecure" : "sandbox");
}

/*
 * COPY/ADD sources as BuildKit's copy op holds them: a context path
 * cleaned below "/" (`./a`, `a` and `/a` select the same files; a
 * trailing slash is kept, as it asks for a directory), a URL or a git
 * source as written. With --parents the "/./" pivot is meaning: as written.
 */
static json_t *copy_sources_json(const struct kiln_df_copy *c)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < c->sources.n; i++) {
		const char *s = c->sources.v[i];
		size_t n = strlen(s);
		cleanup_free char *p = NULL;
		if (!c->parents && !strstr(s, "://") && strncmp(s, "git@", 4)) {
			cleanup_free char *clean = kiln_plan_path_join("/", s);
			p = clean ? kiln_asprintf("%s%s", clean,
						  n && s[n - 1] == '/' && strcmp(clean, "/") ? "/" : "")
				  : NULL;
			if (!p) {
				json_decref(a);
				return NULL;
			}
			s = p;
		}
		if (json_array_append_new(a, jtext(s)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* --chmod=644 and --chmod=0644 are one mode (BuildKit parses it); other spellings as written */
static json_t *chmod_json(const char *chmod)
{
	if (!chmod || !*chmod || strspn(chmod, "01234567") != strlen(chmod) || strlen(chmod) > 8)
		return jtext(chmod);
	char m[16];
	(void) snprintf(m, sizeof(m), "%lo", strtoul(chmod, NULL, 8));
	return json_string(m);
}

/*
 * The expanded instruction as it changes what the step makes, so that two
 * spellings of one operation share a key, as they share BuildKit's op: a
 * COPY's destination is the resolved one (`dest_abs`), and its --from is
 * the `from` ingredient (the content of the stage, image or context), not
 * the name it was reached by.
 */
static json_t *instruction_json(const struct kiln_df_step *step)
{
	const struct kiln_df_instr *in = &step->instr;
	const char *kw = kiln_df_cmd_upper(in->cmd);
	switch (in->cmd) {
	case KILN_DF_RUN:
		return run_json(step);
	case KILN_DF_COPY:
	case KILN_DF_ADD: {
		const struct kiln_df_copy *c = &in->u.copy;
		return json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:b,s:b,s:o,s:o,s:i,s:i}", "cmd", kw,
				 "sources", copy_sources_json(c), "inline",
				 jinline(c->inline_sources, c->n_inline), "dest_abs",
				 jtext(step->dest), "chown", jtext(c->chown), "chmod",
				 chmod_json(c->chmod), "link", c->link, "parents", c->parents,
				 "excludes", jwords(&c->excludes), "checksum", jtext(c->checksum),
				 "keep_git_dir", c->keep_git_dir, "unpack", c->unpack);
	}
	case KILN_DF_WORKDIR:
		return json_pack("{s:s,s:o}", "cmd", kw, "path", jtext(step->workdir));
	default:
		return json_pack("{s:s,s:o}", "cmd", kw ? kw : "?", "original",
				 jtext(in->original));
	}
}

int kiln_plan_instruction_text(const struct kiln_df_step *step, char **ret, struct kiln_error *err)
{
	json_t *j = instruction_json(step);
	if (!j)
		return oom(err);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(j);
	if (!s)
		return oom(err);
	*ret = kiln_strdup(s);
	free(s);
	return *ret ? 0 : oom(err);
}

static int add_lines(struct kiln_plan_key *k, const char *name, const char *const *v, size_t n,
		     struct kiln_error *err)
{
	struct kiln_buf b = KILN_BUF_INIT;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = kiln_buf_addf(&b, "%s\n", v[i]);
	if (r >= 0)
		r = kiln_plan_key_add(k, name, b.buf, err);
	else
		r = oom(err);
	kiln_buf_release(&b);
	return r;
}

/* A name=value list has `name` (the value may be empty). */
static int words_have(const struct kiln_df_words *w, const char *name, size_t len)
{
	for (size_t i = 0; i < w->n; i++)
		if (!strncmp(w->v[i], name, len) && w->v[i][len] == '=')
			return 1;
	return 0;
}

/*
 * A RUN's build args: those with a value (in its environment, as BuildKit
 * runs it); an ARG declared without one, and given none, sets nothing, so
 * it changes no key (BuildKit's exec op is the same without it).
 */
static int add_run_args(struct kiln_plan_key *k, const struct kiln_df_step *st,
			struct kiln_error *err)
{
	struct kiln_buf b = KILN_BUF_INIT;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < st->used_args.n; i++) {
		const char *kv = st->used_args.v[i];
		size_t nl = strcspn(kv, "=");
		if (kv[nl] == '=' && !kv[nl + 1] && !words_have(&st->env, kv, nl))
			continue;
		r = kiln_buf_addf(&b, "%s\n", kv);
	}
	if (r >= 0)
		r = kiln_plan_key_add(k, "args", b.buf, err);
	else
		r = oom(err);
	kiln_buf_release(&b);
	return r;
}

static int add_words(struct kiln_plan_key *k, const char *name, const struct kiln_df_words *w,
		     struct kiln_error *err)
{
	return add_lines(k, name, (const char *const *) w->v, w->n, err);
}

int kiln_plan_step_key(const struct kiln_plan_step_input *in, struct kiln_plan_key *ret,
		       struct kiln_error *err)
{
	const struct kiln_df_step *st = in->step;
	enum kiln_df_cmd cmd = st->instr.cmd;
	if (cmd != KILN_DF_RUN && cmd != KILN_DF_COPY && cmd != KILN_DF_ADD &&
	    cmd != KILN_DF_WORKDIR)
		return kiln_fail(err, KILN_EINVAL, 0, "%s makes no layer and has no cache key",
				 kiln_df_cmd_upper(cmd));
	struct kiln_plan_key k = KILN_PLAN_KEY_INIT;
	cleanup_free char *text = NULL;
	int copy = cmd == KILN_DF_COPY || cmd == KILN_DF_ADD;
	int r = kiln_plan_instruction_text(st, &text, err);
	if (r >= 0)
		r = kiln_plan_key_add(&k, "parent",
				      copy && in->link ? "link" : str_or_empty(in->parent), err);
	if (r >= 0)
		r = kiln_plan_key_add(&k, "platform", str_or_empty(in->platform), err);
	if (r >= 0)
		r = kiln_plan_key_add(&k, "instruction", text, err);
	if (r >= 0)
		r = cmd == KILN_DF_RUN ? add_run_args(&k, st, err)
				       : add_words(&k, "args", &st->used_args, err);
	if (r >= 0 && cmd == KILN_DF_RUN) {
		r = add_words(&k, "env", &st->env, err);
		if (r >= 0)
			r = kiln_plan_key_add(&k, "user", str_or_empty(st->user), err);
		if (r >= 0)
			r = kiln_plan_key_add(&k, "workdir", str_or_empty(st->workdir), err);
		if (r >= 0 && run_is_shell_form(st))
			r = add_words(&k, "shell", &st->shell, err);
		if (r >= 0)
			r = kiln_plan_key_add(&k, "network", str_or_empty(in->network), err);
		if (r >= 0)
			r = add_lines(&k, "mounts", in->mounts, in->n_mounts, err);
		if (r >= 0 && in->sandbox)
			r = kiln_plan_key_add(&k, "sandbox", in->sandbox, err);
	} else if (r >= 0 && copy) {
		r = kiln_plan_key_add(&k, "sources", in->sources ? in->sources->str : "", err);
		if (r >= 0)
			r = kiln_plan_key_add(&k, "from",
					      in->source_ref ? in->source_ref : "context", err);
		if (r >= 0)
			r = kiln_plan_key_add(&k, "owner", str_or_empty(in->owner), err);
		if (r >= 0)
			r = kiln_plan_key_add(&k, "dest", str_or_empty(st->dest), err);
		if (r >= 0)
			r = kiln_plan_key_add(&k, "link", in->link ? "1" : "0", err);
	} else if (r >= 0) {
		r = kiln_plan_key_add(&k, "user", str_or_empty(st->user), err);
	}
	if (r >= 0 && in->source_date_epoch >= 0) {
		char e[32];
		(void) snprintf(e, sizeof(e), "%" PRId64, in->source_date_epoch);
		r = kiln_plan_key_add(&k, "epoch", e, err);
	}
	if (r >= 0)
		r = kiln_plan_key_finish(&k, err);
	if (r < 0) {
		kiln_plan_key_release(&k);
		return r;
	}
	*ret = k;
	return 0;
}
