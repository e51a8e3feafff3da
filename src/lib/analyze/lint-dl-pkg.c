/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <string.h>

#include "analyze/lint-internal.h"
#include "base/alloc.h"
#include "base/arena.h"
#include "base/decimal.h"

/* hadolint's package manager rules: flags, pinning and caches. */

/** Does a RUN mount a cache on a target starting with `prefix`? */
static int cache_mount(const struct kiln_df_node *n, const char *prefix)
{
	for (size_t i = 0; i < n->n_flags; i++) {
		if (strcmp(lint_ntext(n, &n->flags[i].name), "mount") != 0)
			continue;
		const char *v = lint_ntext(n, &n->flags[i].value);
		if (!strstr(v, "type=cache"))
			continue;
		const char *t = strstr(v, "target=");
		if (!t)
			t = strstr(v, "dst=");
		if (!t)
			t = strstr(v, "destination=");
		if (!t)
			continue;
		t = strchr(t, '=') + 1;
		if (lint_str_has_prefix(t, prefix))
			return 1;
	}
	return 0;
}

/*
 * Words of a command (package names), borrowed: the script's words live as
 * long as the model. Room for all the command's words, from the model arena.
 */
struct names {
	const char **v; /* NULL: out of memory */
	size_t len;
};

static struct names names_for(struct lint_file *f, const struct lint_sh_cmd *c)
{
	return (struct names){ kiln_arena_array_uninit(f->arena, c->argc, sizeof(char *)), 0 };
}

static int names_push(struct names *n, const char *w)
{
	if (!n->v)
		return -1;
	n->v[n->len++] = w;
	return 0;
}

/* The operands after the subcommand `sub`, skipping the values of `vf`. */
static void operands_after(const struct lint_sh_cmd *c, const char *const *subs,
			   const char *const *vf, struct names *out, int *nomem)
{
	int after = 0;
	/* lint_sh_is_operand() of each argument, in one pass: whether the one before is a
	 * flag is kept, not found again */
	size_t end = c->opt_end;
	int prev_flag = 0;
	for (size_t i = 1; i < c->argc; i++) {
		const char *a = c->argv[i];
		int flag = i < end && a[0] == '-' && a[1] && !(a[1] == '-' && !a[2]);
		int operand = i != end && (i > end || (!flag && !(prev_flag &&
				lint_sh_takes_value(c->argv[i - 1], vf))));
		prev_flag = flag;
		if (!operand)
			continue;
		if (!after) {
			for (size_t s = 0; subs[s]; s++)
				if (strcmp(c->argv[i], subs[s]) == 0)
					after = 1;
			continue;
		}
		if (names_push(out, c->argv[i]) < 0)
			*nomem = 1;
	}
}

/*
 * "TOOL installs a, b, c without a pinned version: write HOW": at most 5 names, then
 * " and N more", put together as the message (no list copied first, no format parsed).
 */
static void report_unpinned(struct lint_file *f, size_t i, const char *rule,
			    const struct names *v, const char *tool, const char *how)
{
	if (!v->len)
		return;
	struct lint_piece pc[16];
	size_t np = 0, shown = v->len < 5 ? v->len : 5;
	pc[np++] = LINT_STR(tool);
	pc[np++] = LINT_LIT(" installs ");
	for (size_t k = 0; k < shown; k++) {
		if (k)
			pc[np++] = LINT_LIT(", ");
		pc[np++] = LINT_STR(v->v[k]);
	}
	char num[24], *d = num + sizeof(num);
	if (v->len > 5) {
		d = kiln_decimal_u(d, v->len - 5);
		pc[np++] = LINT_LIT(" and ");
		pc[np++] = (struct lint_piece){ d, (size_t)(num + sizeof(num) - d) };
		pc[np++] = LINT_LIT(" more");
	}
	pc[np++] = LINT_LIT(" without a pinned version: write ");
	pc[np++] = LINT_STR(how);
	lint_emit_pieces(f, rule, (int)i, f->instrs[i].line, pc, np);
}

static int has_sub(const struct lint_sh_cmd *c, const char *sub, const char *const *vf)
{
	size_t k = lint_sh_first_operand(c, vf);
	return k < c->argc && strcmp(c->argv[k], sub) == 0;
}

static int is_cmd_sub(const struct lint_sh_cmd *c, const char *name, const char *sub)
{
	return lint_sh_is(c, name) && lint_sh_has_arg(c, sub);
}

static int rm_rf_prefix(const struct lint_sh_cmd *c, const char *prefix)
{
	if (!lint_sh_is(c, "rm"))
		return 0;
	return lint_sh_has_arg_prefix(c, prefix);
}

/* ---- apt ---- */

static const char *const apt_vf[] = { "t", "target-release", "o", "option", "c", "config-file", NULL };

static void apt_rules(struct lint_file *f, size_t i, const struct lint_sh_cmd *c)
{
	if (!lint_sh_is(c, "apt-get") || !lint_sh_has_arg(c, "install"))
		return;
	if (!lint_sh_has_flag(c, "y") && !lint_sh_has_flag(c, "yes") && !lint_sh_has_flag(c, "q") &&
	    !lint_sh_has_flag(c, "assume-yes"))
		lint_emit(f, "DL3014", (int)i, f->instrs[i].line,
			  "apt-get install without -y waits for an answer that never comes: add -y");
	if (!lint_sh_has_flag(c, "no-install-recommends") &&
	    !lint_sh_has_arg(c, "APT::Install-Recommends=false"))
		lint_emit(f, "DL3015", (int)i, f->instrs[i].line,
			  "apt-get install also installs recommended packages: add --no-install-recommends");
	struct names pk = names_for(f, c), bad = names_for(f, c);
	static const char *const subs[] = { "install", NULL };
	operands_after(c, subs, apt_vf, &pk, &f->nomem);
	for (size_t k = 0; k < pk.len; k++) {
		const char *p = pk.v[k];
		if (!strchr(p, '=') && !strchr(p, '/') && !lint_str_has_suffix(p, ".deb") &&
		    names_push(&bad, p) < 0)
			f->nomem = 1;
	}
	report_unpinned(f, i, "DL3008", &bad, "apt-get install", "<package>=<version>");
}

/* ---- apk ---- */

static const char *const apk_vf[] = { "t", "virtual", "repository", "X", "p", "root", NULL };

static void apk_rules(struct lint_file *f, size_t i, const struct lint_sh_cmd *c)
{
	if (!lint_sh_is(c, "apk") || !has_sub(c, "add", apk_vf))
		return;
	if (!lint_sh_has_flag(c, "no-cache") && !cache_mount(f->instrs[i].node, "/var/cache/apk") &&
	    !cache_mount(f->instrs[i].node, "/etc/apk/cache"))
		lint_emit(f, "DL3019", (int)i, f->instrs[i].line,
			  "apk add keeps its index cache in the layer: use apk add --no-cache");
	struct names pk = names_for(f, c), bad = names_for(f, c);
	static const char *const subs[] = { "add", NULL };
	operands_after(c, subs, apk_vf, &pk, &f->nomem);
	for (size_t k = 0; k < pk.len; k++) {
		const char *p = pk.v[k];
		if (!strchr(p, '=') && !strchr(p, '~') && !lint_str_has_suffix(p, ".apk") &&
		    names_push(&bad, p) < 0)
			f->nomem = 1;
	}
	report_unpinned(f, i, "DL3018", &bad, "apk add", "<package>=<version>");
}

/* ---- pip ---- */

static int pip_name(const char *n)
{
	if (!lint_str_has_prefix(n, "pip"))
		return 0;
	for (const char *p = n + 3; *p; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return 0;
	return 1;
}

/* pip install, python -m pip install: index of "install", or 0. */
static size_t pip_install(const struct lint_sh_cmd *c)
{
	size_t start = 1;
	if (pip_name(c->name)) {
		start = 1;
	} else if (lint_str_has_prefix(c->name, "python")) {
		size_t k = 1;
		while (k + 1 < c->argc && !lint_str_eq(c->argv[k], "-m"))
			k++;
		if (k + 1 >= c->argc || !lint_str_eq(c->argv[k + 1], "pip"))
			return 0;
		start = k + 2;
	} else {
		return 0;
	}
	for (size_t k = start; k < c->argc; k++) {
		if (lint_str_eq(c->argv[k], "install"))
			return k;
		if (c->argv[k][0] != '-')
			return 0;
	}
	return 0;
}

static const char *const pip_vf[] = { "abi", "b", "build", "e", "editable", "extra-index-url", "f",
				      "find-links", "i", "index-url", "implementation", "no-binary",
				      "only-binary", "platform", "prefix", "progress-bar", "proxy",
				      "python-version", "root", "src", "t", "target", "trusted-host",
				      "upgrade-strategy", "r", "requirement", "c", "constraint",
				      "cache-dir", "log", "timeout", "retries", NULL };

static int pip_pinned(const char *p)
{
	static const char *const ops[] = { "==", ">=", "<=", ">", "<", "!=", "~=", "===", NULL };
	static const char *const vcs[] = { "git+", "hg+", "svn+", "bzr+", "git:", NULL };
	for (size_t i = 0; ops[i]; i++)
		if (strstr(p, ops[i]))
			return 1;
	int is_vcs = 0;
	for (size_t i = 0; vcs[i]; i++)
		if (lint_str_has_prefix(p, vcs[i]))
			is_vcs = 1;
	if (is_vcs)
		return strchr(p + 4, '@') != NULL;
	if (lint_str_has_suffix(p, ".whl") || lint_str_has_suffix(p, ".tar.gz") ||
	    lint_str_has_suffix(p, ".zip"))
		return 1;
	return strchr(p, '/') != NULL || lint_str_eq(p, ".") || lint_str_has_prefix(p, "./");
}

static int truthy(const char *v)
{
	static const char *const t[] = { "1", "true", "True", "TRUE", "on", "On", "ON", "yes", "Yes",
					 "YES", NULL };
	for (size_t i = 0; t[i]; i++)
		if (strcmp(v, t[i]) == 0)
			return 1;
	return 0;
}

static void pip_rules(struct lint_file *f, size_t i, const struct lint_sh_cmd *c, int env_no_cache)
{
	size_t k = pip_install(c);
	if (!k)
		return;
	const struct lint_instr *in = &f->instrs[i];
	const char *pnc = in->script ? strstr(in->script, "PIP_NO_CACHE_DIR=") : NULL;
	int script_no_cache = 0;
	if (pnc) {
		char v[8];
		size_t n = strcspn(pnc + 17, " \t;&|\n\"'");
		if (n < sizeof(v)) {
			memcpy(v, pnc + 17, n);
			v[n] = 0;
			script_no_cache = truthy(v);
		}
	}
	if (!lint_sh_has_arg(c, "--no-cache-dir") && !env_no_cache && !script_no_cache &&
	    !cache_mount(in->node, "/root/.cache/pip") && !cache_mount(in->node, "/root/.cache"))
		lint_emit(f, "DL3042", (int)i, in->line,
			  "pip install keeps its download cache in the layer: add --no-cache-dir");
	if (lint_sh_has_flag(c, "r") || lint_sh_has_flag(c, "requirement") ||
	    lint_sh_has_flag(c, "c") || lint_sh_has_flag(c, "constraint"))
		return;
	struct names bad = names_for(f, c);
	for (size_t a = k + 1; a < c->argc; a++) {
		if (!lint_sh_is_operand(c, a, pip_vf))
			continue;
		if (!pip_pinned(c->argv[a]) && names_push(&bad, c->argv[a]) < 0)
			f->nomem = 1;
	}
	report_unpinned(f, i, "DL3013", &bad, "pip install",
			"<package>==<version> or use a requirements file");
}

/* ---- npm, yarn, gem, go ---- */

static const char *const npm_vf[] = { "registry", "prefix", "cache", "userconfig", "tag", "w",
				      "workspace", "loglevel", NULL };

static void npm_rules(struct lint_file *f, size_t i, const struct lint_sh_cmd *c)
{
	if (!lint_sh_is(c, "npm"))
		return;
	size_t k = lint_sh_first_operand(c, npm_vf);
	/* hadolint's DL3016 reads `npm install` only (not its aliases i and add) */
	if (k >= c->argc || !lint_str_eq(c->argv[k], "install"))
		return;
	struct names bad = names_for(f, c);
	for (size_t a = k + 1; a < c->argc; a++) {
		if (!lint_sh_is_operand(c, a, npm_vf))
			continue;
		const char *p = c->argv[a];
		int ok;
		if (lint_str_has_prefix(p, "git://") || lint_str_has_prefix(p, "git+ssh://") ||
		    lint_str_has_prefix(p, "git+http://") || lint_str_has_prefix(p, "git+https://"))
			ok = strchr(p, '#') != NULL;
		else if (lint_str_has_suffix(p, ".tar") || lint_str_has_suffix(p, ".tar.gz") ||
			 lint_str_has_suffix(p, ".tgz") || p[0] == '/' || lint_str_has_prefix(p, "./") ||
			 lint_str_has_prefix(p, "../") || lint_str_has_prefix(p, "~/"))
			ok = 1; /* a tarball or a folder, as hadolint's versionFixed */
		else
			ok = strchr(p[0] == '@' ? p + 1 : p, '@') != NULL;
		if (!ok && names_push(&bad, p) < 0)
			f->nomem = 1;
	}
	report_unpinned(f, i, "DL3016", &bad, "npm install", "<package>@<version>");
}

static void gem_rules(struct lint_file *f, size_t i, const struct lint_sh_cmd *c)
{
	if (!lint_sh_is(c, "gem"))
		return;
	size_t k = lint_sh_first_operand(c, NULL);
	if (k >= c->argc || (!lint_str_eq(c->argv[k], "install") && !lint_str_eq(c->argv[k], "i")))
		return;
	if (lint_sh_has_flag(c, "v") || lint_sh_has_flag(c, "version"))
		return;
	/* hadolint's DL3028: the words before "--" (the rest goes to the gem's
	 * build), an option taking the word after it along, whatever it is */
	struct names bad = names_for(f, c);
	for (size_t a = k + 1; a < c->argc; a++) {
		const char *w = c->argv[a];
		if (!strcmp(w, "--"))
			break;
		if (w[0] == '-') {
			a++;
			continue;
		}
		if (!strchr(w, ':') && strcmp(w, "install") && strcmp(w, "i") &&
		    names_push(&bad, w) < 0)
			f->nomem = 1;
	}
	report_unpinned(f, i, "DL3028", &bad, "gem install", "<gem>:<version> or -v <version>");
}

/* A go package is pinned by @version; @latest is not one, a local path needs none. */
static int go_unpinned(const char *p)
{
	if (p[0] == '.' || p[0] == '/' || strchr(p, '$'))
		return 0;
	const char *at = strchr(p, '@');
	return !at || !strcmp(at + 1, "latest");
}

/* DL3062 as hadolint's spec: go install, go get (packages, -tool ones too),
 * go run (its first operand only: the rest are the program's arguments) */
static void go_rules(struct lint_file *f, size_t i, const struct lint_sh_cmd *c)
{
	if (!lint_sh_is(c, "go"))
		return;
	size_t k = lint_sh_first_operand(c, NULL);
	if (k >= c->argc)
		return;
	const char *sub = c->argv[k];
	int run = lint_str_eq(sub, "run");
	if (!run && !lint_str_eq(sub, "install") && !lint_str_eq(sub, "get"))
		return;
	static const char *const go_vf[] = { "o", "p", "tags", "ldflags", "gcflags", "mod", "C",
					     "modfile", "pkgdir", "asmflags", "exec", NULL };
	struct names bad = names_for(f, c);
	int first = 1;
	for (size_t a = k + 1; a < c->argc; a++) {
		if (!lint_sh_is_operand(c, a, go_vf))
			continue;
		const char *p = c->argv[a];
		/* go install tool PKG (Go 1.24's tool dependencies) */
		if (first && !run && lint_str_eq(sub, "install") && lint_str_eq(p, "tool"))
			continue;
		if (go_unpinned(p) && names_push(&bad, p) < 0)
			f->nomem = 1;
		first = 0;
		if (run)
			break;
	}
	report_unpinned(f, i, "DL3062", &bad, sub[0] == 'r' ? "go run" : sub[0] == 'g' ? "go get"
											: "go install",
			"<module>@<version>");
}

/* ---- rpm family ---- */

static int dnf_version_like(const char *p)
{
	if (lint_str_has_suffix(p, ".rpm"))
		return 1;
	const char *d = strchr(p, '-');
	if (!d)
		return 0;
	/* every part after the first '-' holds version characters; one starts with a digit */
	int digit = 0;
	for (const char *s = d + 1; *s; s++) {
		if (s[-1] == '-' && isdigit((unsigned char)*s))
			digit = 1;
		if (!(isalnum((unsigned char)*s) || strchr(".~^_:+-", *s)))
			return 0;
	}
	return digit;
}

static void rpm_rules(struct lint_file *f, size_t i, const struct lint_sh_cmd *c, int *installed,
		      int *cleaned, const char **mgr)
{
	const struct lint_instr *in = &f->instrs[i];
	int yum = lint_sh_is(c, "yum"), dnf = lint_sh_is(c, "dnf") || lint_sh_is(c, "microdnf");
	if (!yum && !dnf)
		return;
	if (lint_sh_has_arg(c, "clean") && lint_sh_has_arg(c, "all") && *installed)
		*cleaned = 1;
	if (!lint_sh_has_arg(c, "install"))
		return;
	*installed = 1;
	*mgr = c->name;
	if (!lint_sh_has_flag(c, "y") && !lint_sh_has_flag(c, "assumeyes"))
		lint_emit(f, yum ? "DL3030" : "DL3038", (int)i, in->line,
			  "%s install without -y waits for an answer that never comes: add -y", c->name);
	int module = lint_sh_has_arg(c, "module");
	if (dnf && lint_sh_has_arg(c, "group"))
		return;
	static const char *const subs[] = { "install", NULL };
	static const char *const rpm_vf[] = { "setopt", "enablerepo", "disablerepo", "releasever",
					      "installroot", "c", "config", NULL };
	struct names pk = names_for(f, c), bad = names_for(f, c);
	operands_after(c, subs, rpm_vf, &pk, &f->nomem);
	for (size_t k = 0; k < pk.len; k++) {
		const char *p = pk.v[k];
		int ok = module ? strchr(p, ':') != NULL
				: (yum ? (strchr(p, '-') || lint_str_has_suffix(p, ".rpm")) : dnf_version_like(p));
		if (!ok && names_push(&bad, p) < 0)
			f->nomem = 1;
	}
	report_unpinned(f, i, yum ? "DL3033" : "DL3041", &bad, yum ? "yum install" : "dnf install",
			module ? "<module>:<stream>" : "<package>-<version>");
}

static void zypper_rules(struct lint_file *f, size_t i, const struct lint_sh_cmd *c, int *installed,
			 int *cleaned)
{
	const struct lint_instr *in = &f->instrs[i];
	if (!lint_sh_is(c, "zypper"))
		return;
	static const char *const z_vf[] = { "r", "repo", "root", "R", NULL };
	size_t k = lint_sh_first_operand(c, z_vf);
	const char *sub = k < c->argc ? c->argv[k] : "";
	if ((lint_str_eq(sub, "clean") || lint_str_eq(sub, "cc")) && *installed)
		*cleaned = 1;
	if (lint_str_eq(sub, "dist-upgrade") || lint_str_eq(sub, "dup"))
		lint_emit(f, "DL3035", (int)i, in->line,
			  "zypper %s upgrades the whole distribution inside the image: update the base image instead",
			  sub);
	static const char *const inter[] = { "install", "in", "remove", "rm", "source-install", "si",
					     "patch", NULL };
	int interactive = 0;
	for (size_t s = 0; inter[s]; s++)
		interactive |= strcmp(sub, inter[s]) == 0;
	if (interactive && !lint_sh_has_flag(c, "y") && !lint_sh_has_flag(c, "n") &&
	    !lint_sh_has_flag(c, "non-interactive") && !lint_sh_has_flag(c, "no-confirm"))
		lint_emit(f, "DL3034", (int)i, in->line,
			  "zypper %s without -n or -y waits for an answer: add -n (before) or -y (after the command)",
			  sub);
	if (!lint_str_eq(sub, "install") && !lint_str_eq(sub, "in"))
		return;
	*installed = 1;
	struct names bad = names_for(f, c);
	for (size_t a = k + 1; a < c->argc; a++) {
		if (!lint_sh_is_operand(c, a, z_vf))
			continue;
		const char *p = c->argv[a];
		if (!strpbrk(p, "=<>") && !lint_str_has_suffix(p, ".rpm") &&
		    names_push(&bad, p) < 0)
			f->nomem = 1;
	}
	report_unpinned(f, i, "DL3037", &bad, "zypper install", "<package>=<version>");
}

/* ---- the walk ---- */

static int stage_feeds_others(const struct lint_file *f, int s)
{
	if (s < 0)
		return 1;
	return f->stages[s].final || f->stages[s].is_base;
}

/* An ENV's PIP_NO_CACHE_DIR into *no_cache (for lint_rules_dl_run()'s walk) */
void lint_dl_pkg_env(struct lint_file *f, size_t i, int *no_cache)
{
	const struct kiln_df_node *n = f->instrs[i].node;
	for (size_t k = 0; 3 * k + 1 < n->n_args; k++) {
		/* the key is the text itself when it is that name: its length tells most apart */
		if (n->args[3 * k].len != 16 ||
		    strcmp(lint_ntext(n, &n->args[3 * k]), "PIP_NO_CACHE_DIR") != 0)
			continue;
		char v[16];
		const char *raw = lint_ntext(n, &n->args[3 * k + 1]);
		size_t len = strlen(raw);
		if (len >= 2 && (raw[0] == '"' || raw[0] == '\'') && raw[len - 1] == raw[0]) {
			raw++;
			len -= 2;
		}
		if (len >= sizeof(v))
			len = sizeof(v) - 1;
		memcpy(v, raw, len);
		v[len] = 0;
		*no_cache = truthy(v);
	}
}

/* lint_rules_dl_run()'s walk calls this for each RUN: one walk of the instructions, not two */
void lint_dl_pkg_run(struct lint_file *f, size_t i, int pip_env)
{
	if (f->nomem)
		return;
	const struct lint_instr *in = &f->instrs[i];
	int apt_update = 0, apt_lists_rm = 0;
	int rpm_inst = 0, rpm_clean = 0, z_inst = 0, z_clean = 0;
	int yarn_inst = 0, yarn_clean = 0;
	const char *rpm_mgr = "yum";
	for (size_t k = 0; k < in->sh.n; k++) {
		const struct lint_sh_cmd *c = &in->sh.cmds[k];
		/* each test below is of names that begin with one byte: only the tests of
		 * the command's own byte are made (the rules' order kept) */
		switch (c->name[0]) {
		case 'a': /* apt-get, apt, apk */
			apt_rules(f, i, c);
			apk_rules(f, i, c);
			if (is_cmd_sub(c, "apt-get", "update") ||
			    is_cmd_sub(c, "apt", "update"))
				apt_update = 1;
			break;
		case 'p': /* pip, python */
			pip_rules(f, i, c, pip_env);
			break;
		case 'n':
			npm_rules(f, i, c);
			break;
		case 'g': /* gem, go */
			gem_rules(f, i, c);
			go_rules(f, i, c);
			break;
		case 'y': /* yum, yarn */
		case 'd': /* dnf */
		case 'm': /* microdnf */
			rpm_rules(f, i, c, &rpm_inst, &rpm_clean, &rpm_mgr);
			if (lint_sh_is(c, "yarn") && has_sub(c, "install", NULL))
				yarn_inst = 1;
			if (lint_sh_is(c, "yarn") && lint_sh_has_arg(c, "cache") &&
			    lint_sh_has_arg(c, "clean"))
				yarn_clean = 1;
			break;
		case 'z':
			zypper_rules(f, i, c, &z_inst, &z_clean);
			break;
		case 'r': /* rm */
			/* a clean counts only after the install */
			if (rpm_inst && (rm_rf_prefix(c, "/var/cache/yum") ||
					 rm_rf_prefix(c, "/var/cache/dnf")))
				rpm_clean = 1;
			if (rm_rf_prefix(c, "/var/lib/apt/lists"))
				apt_lists_rm = 1;
			break;
		default:
			break;
		}
	}
	const struct kiln_df_node *n = in->node;
	/* what ships: a stage the image is made of, or (ONBUILD) the child's */
	int ships = in->onbuild || stage_feeds_others(f, in->stage);
	if (apt_update && !apt_lists_rm && !cache_mount(n, "/var/lib/apt/lists") &&
	    !(cache_mount(n, "/var/lib/apt") && cache_mount(n, "/var/cache/apt")) && ships)
		lint_emit(f, "DL3009", (int)i, in->line,
			  "apt-get update leaves its package lists in the layer: "
			  "end the RUN with rm -rf /var/lib/apt/lists/*");
	if (rpm_inst && !rpm_clean && !cache_mount(n, "/var/cache/yum") &&
	    !cache_mount(n, "/var/cache/dnf") && !cache_mount(n, "/var/cache/libdnf5"))
		lint_emit(f, strcmp(rpm_mgr, "yum") == 0 ? "DL3032" : "DL3040", (int)i, in->line,
			  "%s install leaves its cache in the layer: end the RUN with %s clean all",
			  rpm_mgr, strcmp(rpm_mgr, "microdnf") == 0 ? "microdnf" : rpm_mgr);
	if (z_inst && !z_clean && !cache_mount(n, "/var/cache/zypp"))
		lint_emit(f, "DL3036", (int)i, in->line,
			  "zypper install leaves its cache in the layer: "
			  "end the RUN with zypper clean");
	if (yarn_inst && !yarn_clean && !cache_mount(n, "/usr/local/share/.cache/yarn") &&
	    !cache_mount(n, "/root/.cache/yarn") && !cache_mount(n, "/root/.yarn") && ships)
		lint_emit(f, "DL3060", (int)i, in->line,
			  "yarn install leaves its cache in the layer: "
			  "end the RUN with yarn cache clean");
}
