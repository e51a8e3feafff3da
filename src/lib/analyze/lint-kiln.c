/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/lint-internal.h"
#include "base/alloc.h"
#include "base/decimal.h"

/*
 * kiln's multi-stage pitfalls (KL1xxx). Each message says what to do;
 * docs/lint-rules.md has the long form.
 */

/*
 * The external image a stage finally builds on (following stage bases). A
 * base is always an earlier stage (lint_stage_by_name), so the walk ends;
 * no depth limit, which gave a wrong root past 1,000 stages.
 */
static const struct lint_stage *root_stage(const struct lint_file *f, const struct lint_stage *st)
{
	while (st->base_stage >= 0)
		st = &f->stages[st->base_stage];
	return st;
}

/* s[0..n) is the literal w (its length a constant) */
#define SPAN_IS(s, n, w) ((n) == sizeof(w) - 1 && memcmp(s, w, sizeof(w) - 1) == 0)

static int tag_has(const struct lint_refspan *r, const char *w)
{
	/* without a digest the tag ends the reference: strstr(), cheaper than memmem() */
	if (!r->tag)
		return 0;
	return r->digest ? memmem(r->tag, r->tag_len, w, strlen(w)) != NULL : !!strstr(r->tag, w);
}

/* Is the image a build toolchain? *ret_what names it for messages. */
static int toolchain_image(const char *image, char *what, size_t what_len)
{
	if (!image)
		return 0;
	struct lint_refspan r;
	lint_refspan(image, &r);
	const char *repo = r.repo;
	size_t rn = r.repo_len;
	static const char *const always[] = { "golang", "rust", "gcc", "maven", "gradle",
					      "buildpack-deps", "haskell", "swift", "sbt",
					      "clojure", "kotlin", NULL };
	int yes = 0;
	for (size_t i = 0; always[i] && !yes; i++)
		if (repo[0] == always[i][0] && strlen(always[i]) == rn &&
		    !memcmp(repo, always[i], rn))
			yes = 1;
	if ((r.path_len >= 10 && !memcmp(r.path + r.path_len - 10, "dotnet/sdk", 10)) ||
	    (r.path_len >= 15 && !memcmp(r.path + r.path_len - 15, "dotnet/core/sdk", 15)))
		yes = 1;
	/* the tag searched only for the repositories that ask (most do not) */
	if ((SPAN_IS(repo, rn, "node") || SPAN_IS(repo, rn, "python") ||
	     SPAN_IS(repo, rn, "ruby")) &&
	    !(tag_has(&r, "slim") || tag_has(&r, "alpine") || tag_has(&r, "distroless")))
		yes = 1;
	if ((SPAN_IS(repo, rn, "openjdk") || SPAN_IS(repo, rn, "eclipse-temurin") ||
	     SPAN_IS(repo, rn, "amazoncorretto") || SPAN_IS(repo, rn, "ibmjava")) &&
	    tag_has(&r, "jdk"))
		yes = 1;
	if (yes) { /* what snprintf("%s") of the repository gave, cut to what_len */
		if (SPAN_IS(repo, rn, "sdk"))
			repo = ".NET SDK", rn = 8;
		if (rn >= what_len)
			rn = what_len - 1;
		memcpy(what, repo, rn);
		what[rn] = '\0';
	}
	return yes;
}

/* Packages that are compilers or build tools. */
static int build_package(const char *p)
{
	/* sorted by first byte: the scan ends past the package's; with their lengths */
#define PKG(w) { w, sizeof(w) - 1 }
	static const struct {
		const char *s;
		size_t n;
	} names[] = {
		PKG("Development Tools"), PKG("autoconf"), PKG("automake"), PKG("build-base"),
		PKG("build-essential"), PKG("cargo"), PKG("clang"), PKG("cmake"),
		PKG("default-jdk"), PKG("g++"), PKG("gcc"), PKG("gcc-c++"), PKG("golang"),
		PKG("gradle"), PKG("libc-dev"), PKG("libc6-dev"), PKG("libtool"), PKG("make"),
		PKG("maven"), PKG("musl-dev"), PKG("nodejs-dev"), PKG("openjdk-17-jdk"),
		PKG("openjdk-21-jdk"), PKG("python-dev"), PKG("python3-dev"), PKG("rustc"),
	};
#undef PKG
	/* the name ends at a version constraint: measured in place, not copied */
	static const unsigned char name_end[256] = { [0] = 1, ['='] = 1, ['<'] = 1, ['>'] = 1,
						     ['~'] = 1 };
	size_t n = 0;
	while (!name_end[(unsigned char)p[n]])
		n++;
	if (n >= 128) /* as the copy into 128 bytes did */
		return 0;
	/* 1 + the index of the first name that begins with the byte (0: none) */
	static const unsigned char start[256] = {
		['D'] = 1,  ['a'] = 2,  ['b'] = 4,  ['c'] = 6,  ['d'] = 9,  ['g'] = 10,
		['l'] = 15, ['m'] = 18, ['n'] = 21, ['o'] = 22, ['p'] = 24, ['r'] = 26,
	};
	size_t i = start[(unsigned char)p[0]];
	for (; i && i <= KILN_ARRAY_SIZE(names) && names[i - 1].s[0] == p[0]; i++)
		if (names[i - 1].n == n && memcmp(p, names[i - 1].s, n) == 0)
			return 1;
	return (n >= 4 && memcmp(p + n - 4, "-dev", 4) == 0) ||
	       (n >= 6 && memcmp(p + n - 6, "-devel", 6) == 0);
}

/* The first compiler/build package a RUN installs, or NULL. */
static const char *installs_build_tools(const struct lint_instr *in)
{
	for (size_t k = 0; k < in->sh.n; k++) {
		const struct lint_sh_cmd *c = &in->sh.cmds[k];
		int inst = (lint_sh_is(c, "apt-get") && lint_sh_has_arg(c, "install")) ||
			   (lint_sh_is(c, "apt") && lint_sh_has_arg(c, "install")) ||
			   (lint_sh_is(c, "apk") && lint_sh_has_arg(c, "add")) ||
			   ((lint_sh_is(c, "yum") || lint_sh_is(c, "dnf") || lint_sh_is(c, "microdnf")) &&
			    lint_sh_has_arg(c, "install"));
		if (!inst)
			continue;
		for (size_t a = 1; a < c->argc; a++)
			if (!lint_sh_arg_is_flag(c, a) && build_package(c->argv[a]))
				return c->argv[a];
	}
	return NULL;
}

/* A dependency install: which manager, and what to copy first. */
struct dep_install {
	const char *tool;
	const char *manifest;
};

static int dep_install(const struct lint_instr *in, struct dep_install *ret)
{
	/* by first byte, the lengths (bit n) of the tools below that begin with it: other
	 * commands (cd, curl, mkdir, ...) are none of them. 'p' begins the prefixes pip and
	 * python: any length from 3 up. */
	static const uint16_t tool_lens[256] = {
		['b'] = 1 << 6, ['c'] = 1 << 5 | 1 << 8, ['d'] = 1 << 6,
		['g'] = 1 << 2 | 1 << 6 | 1 << 7, ['m'] = 1 << 3 | 1 << 4, ['n'] = 1 << 3,
		['p'] = 0xfff8, ['u'] = 1 << 2, ['y'] = 1 << 4,
	};
	for (size_t k = 0; k < in->sh.n; k++) {
		const struct lint_sh_cmd *c = &in->sh.cmds[k];
		unsigned char c0 = (unsigned char)c->name[0];
		if (c->name_len >= 16 ? c0 != 'p' : !(tool_lens[c0] >> c->name_len & 1))
			continue;
		size_t op = lint_sh_first_operand(c, NULL);
		const char *sub = op < c->argc ? c->argv[op] : "";
		if (lint_sh_is(c, "npm") && (!strcmp(sub, "install") || !strcmp(sub, "ci") || !strcmp(sub, "i"))) {
			*ret = (struct dep_install){ "npm " , "package.json and package-lock.json" };
			ret->tool = !strcmp(sub, "ci") ? "npm ci" : "npm install";
			return 1;
		}
		if (lint_sh_is(c, "yarn") && (op >= c->argc || !strcmp(sub, "install"))) {
			*ret = (struct dep_install){ "yarn install", "package.json and yarn.lock" };
			return 1;
		}
		if (lint_sh_is(c, "pnpm") && (!strcmp(sub, "install") || !strcmp(sub, "i"))) {
			*ret = (struct dep_install){ "pnpm install", "package.json and pnpm-lock.yaml" };
			return 1;
		}
		int pip = (lint_str_has_prefix(c->name, "pip") && !strcmp(sub, "install")) ||
			  (lint_str_has_prefix(c->name, "python") && lint_sh_has_arg(c, "pip") &&
			   lint_sh_has_arg(c, "install"));
		if (pip && (lint_sh_has_flag(c, "r") || lint_sh_has_flag(c, "requirement") ||
			    lint_sh_has_arg(c, ".") || lint_sh_has_arg(c, "-e"))) {
			*ret = (struct dep_install){ "pip install", "requirements*.txt (or pyproject.toml)" };
			return 1;
		}
		if ((lint_sh_is(c, "poetry") || lint_sh_is(c, "pipenv") || lint_sh_is(c, "uv")) &&
		    (!strcmp(sub, "install") || !strcmp(sub, "sync"))) {
			*ret = (struct dep_install){ "poetry/pipenv/uv install",
						     "pyproject.toml and its lock file" };
			return 1;
		}
		if (lint_sh_is(c, "go") && !strcmp(sub, "mod") && lint_sh_has_arg(c, "download")) {
			*ret = (struct dep_install){ "go mod download", "go.mod and go.sum" };
			return 1;
		}
		if ((lint_sh_is(c, "mvn") || lint_sh_is(c, "mvnw")) &&
		    (lint_sh_has_arg_prefix(c, "dependency:") || lint_sh_has_arg(c, "install") ||
		     lint_sh_has_arg(c, "package") || lint_sh_has_arg(c, "verify"))) {
			*ret = (struct dep_install){ "mvn dependency:go-offline", "pom.xml" };
			return 1;
		}
		if ((lint_sh_is(c, "gradle") || lint_sh_is(c, "gradlew")) &&
		    (lint_sh_has_arg(c, "dependencies") || lint_sh_has_arg(c, "build"))) {
			*ret = (struct dep_install){ "gradle", "build.gradle(.kts) and settings.gradle" };
			return 1;
		}
		if (lint_sh_is(c, "dotnet") && (!strcmp(sub, "restore") || !strcmp(sub, "publish") ||
						!strcmp(sub, "build"))) {
			*ret = (struct dep_install){ "dotnet restore", "the *.csproj files" };
			return 1;
		}
		if (lint_sh_is(c, "cargo") && (!strcmp(sub, "build") || !strcmp(sub, "fetch"))) {
			*ret = (struct dep_install){ "cargo", "Cargo.toml and Cargo.lock" };
			return 1;
		}
		if (lint_sh_is(c, "bundle") && (op >= c->argc || !strcmp(sub, "install"))) {
			*ret = (struct dep_install){ "bundle install", "Gemfile and Gemfile.lock" };
			return 1;
		}
		if (lint_sh_is(c, "composer") && !strcmp(sub, "install")) {
			*ret = (struct dep_install){ "composer install", "composer.json and composer.lock" };
			return 1;
		}
	}
	return 0;
}

/* COPY/ADD of the whole context (`.`, `./`, `*`)? */
static int copies_context(const struct lint_instr *in)
{
	const struct kiln_df_node *n = in->node;
	if ((in->cmd != KILN_DF_COPY && in->cmd != KILN_DF_ADD) || in->from || n->n_heredocs)
		return 0;
	for (size_t a = 0; a + 1 < n->n_args; a++) {
		/* `.`, `./`, `*` or `./` and then `*`, byte by byte: no strcmp() for each */
		const char *s = lint_ntext(n, &n->args[a]);
		if ((s[0] == '*' && !s[1]) ||
		    (s[0] == '.' && (!s[1] || (s[1] == '/' && (!s[2] || (s[2] == '*' && !s[3]))))))
			return 1;
	}
	return 0;
}

/* pkg: the first build tool a RUN of the final stage installs, or NULL (the caller's walk) */
static void kl1001_1002(struct lint_file *f, const char *pkg)
{
	if (!f->n_stages)
		return;
	const struct lint_stage *fin = &f->stages[f->n_stages - 1];
	const struct lint_stage *root = root_stage(f, fin);
	const char *img = root->image_exp ? root->image_exp : root->image;
	char what[64] = "";
	int tool = strchr(img, '$') ? 0 : toolchain_image(img, what, sizeof(what));
	int line = f->instrs[fin->from].line;
	if (f->n_stages > 1) {
		if (tool)
			lint_emit(f, "KL1001", (int)fin->from, line,
				  "the final stage runs on %s, a %s toolchain image, although earlier stages "
				  "exist: build there and copy only the output into a runtime image "
				  "(alpine, distroless, *-slim, dotnet/aspnet, a JRE)",
				  img, what);
		else if (pkg)
			lint_emit(f, "KL1001", (int)fin->from, line,
				  "the final stage installs the build tool %s although earlier stages exist: "
				  "install it in a build stage and copy only the output",
				  pkg);
		return;
	}
	/* frequent findings: their messages put together, not formatted */
	if (pkg) {
		const struct lint_piece pc[] = {
			LINT_LIT("this single-stage Dockerfile installs "), LINT_STR(pkg),
			LINT_LIT(", which then ships in the image: build in a first stage and copy "
				 "the output into a slim runtime stage"),
		};
		lint_emit_pieces(f, "KL1002", (int)fin->from, line, pc, KILN_ARRAY_SIZE(pc));
	} else if (tool) {
		const struct lint_piece pc[] = {
			LINT_LIT("this single-stage Dockerfile runs on "), LINT_STR(img),
			LINT_LIT(", a "), LINT_STR(what),
			LINT_LIT(" toolchain image, so compilers and sources ship in the image: "
				 "build in a first stage and copy the output into a runtime image"),
		};
		lint_emit_pieces(f, "KL1002", (int)fin->from, line, pc, KILN_ARRAY_SIZE(pc));
	}
}

/* KL1003 over one stage's instructions in order: the state of its walk */
struct kl1003_walk {
	int copy_at; /* the first COPY of the whole context, or -1 */
	int done;    /* the first dependency install was seen */
};

/* a RUN of a stage, before its first dependency install and not an ONBUILD trigger (the
 * caller's tests; a COPY or ADD only looks for the whole context, in the caller) */
static void kl1003_run(struct lint_file *f, struct kl1003_walk *w, const struct lint_instr *in)
{
	struct dep_install d;
	if (!dep_install(in, &d))
		return;
	w->done = 1;
	/* the dependencies were installed from the manifests before: fine */
	if (w->copy_at < 0)
		return;
	/* a frequent finding: its message put together, not formatted */
	char num[24], *dn = kiln_decimal(num + sizeof(num), in->line);
	const struct lint_piece tool = LINT_STR(d.tool);
	const struct lint_piece pc[] = {
		LINT_LIT("the whole context is copied before "), tool, LINT_LIT(" on line "),
		{ dn, (size_t)(num + sizeof(num) - dn) },
		LINT_LIT(", so every source change reinstalls the dependencies: copy "),
		LINT_STR(d.manifest), LINT_LIT(" first, run "), tool,
		LINT_LIT(", then copy the rest"),
	};
	lint_emit_pieces(f, "KL1003", w->copy_at, f->instrs[w->copy_at].line, pc,
			 KILN_ARRAY_SIZE(pc));
}

static int secret_path_n(const char *path, size_t plen);

static void kl1006_instr(struct lint_file *f, size_t i, const struct lint_instr *in)
{
	const struct kiln_df_node *n = in->node;
	if (in->from || n->n_heredocs)
		return;
	for (size_t a = 0; a + 1 < n->n_args; a++) {
		const char *s = lint_ntext(n, &n->args[a]);
		/* lint_ntext() gives the text itself, of its length, or a string to measure */
		if (secret_path_n(s, s == n->args[a].str ? n->args[a].len : strlen(s))) {
			lint_emit(f, "KL1006", (int)i, in->line,
				  "%s copies %s into the image, where every layer keeps it: "
				  "use RUN --mount=type=secret,id=... at build time or provide it "
				  "at run time",
				  lint_text(&n->keyword), s);
			break;
		}
	}
}

/* Values that look like credentials: v[0..n), no NUL byte in it. */
static const char *secret_value(const char *v, size_t n)
{
	static const struct {
		const char *prefix;
		size_t n; /* its length */
		size_t min;
		const char *what;
	} pre[] = {
#define PRE(p) p, sizeof(p) - 1
		{ PRE("AKIA"), 20, "an AWS access key id" },
		{ PRE("ASIA"), 20, "an AWS access key id" },
		{ PRE("ghp_"), 30, "a GitHub token" },
		{ PRE("gho_"), 30, "a GitHub token" },
		{ PRE("ghs_"), 30, "a GitHub token" },
		{ PRE("github_pat_"), 30, "a GitHub token" },
		{ PRE("glpat-"), 20, "a GitLab token" },
		{ PRE("xoxb-"), 20, "a Slack token" },
		{ PRE("xoxp-"), 20, "a Slack token" },
		{ PRE("sk_live_"), 20, "a Stripe key" },
		{ PRE("npm_"), 36, "an npm token" },
		{ PRE("AIza"), 39, "a Google API key" },
		{ PRE("-----BEGIN"), 10, "a PEM key or certificate" },
#undef PRE
	};
	/* the first bytes of the prefixes: most values begin otherwise */
	static const unsigned char pre_first[256] = { ['A'] = 1, ['g'] = 1, ['x'] = 1,
						      ['s'] = 1, ['n'] = 1, ['-'] = 1 };
	for (size_t i = 0; n && pre_first[(unsigned char)v[0]] && i < KILN_ARRAY_SIZE(pre); i++) {
		size_t pn = pre[i].n;
		if (v[0] != pre[i].prefix[0] || n < pn || n < pre[i].min ||
		    memcmp(v, pre[i].prefix, pn) != 0)
			continue;
		if (i < 2) {
			for (const char *p = v + 4; p < v + 20; p++)
				if (!isupper((unsigned char)*p) && !isdigit((unsigned char)*p))
					return NULL;
		}
		return pre[i].what;
	}
	/* scheme://user:password@host with a literal password */
	/* the "://" by its colons: a memchr() each, most values have none */
	const char *end = v + n;
	const char *sch = memchr(v, ':', n);
	while (sch && !(end - sch > 2 && sch[1] == '/' && sch[2] == '/'))
		sch = memchr(sch + 1, ':', (size_t)(end - sch - 1));
	if (sch) {
		const char *r = sch + 3;
		size_t rn = (size_t)(end - r);
		const char *at = memchr(r, '@', rn);
		const char *slash = memchr(r, '/', rn);
		const char *colon = memchr(r, ':', rn);
		if (at && (!slash || at < slash) && colon && colon < at && colon + 1 < at &&
		    !memchr(colon, '$', (size_t)(at - colon)))
			return "a URL with a password";
	}
	return NULL;
}

/* *what: the kind of secret the value raw (quoted or not) looks like, or NULL: the value
 * without its surrounding quotes looked at where it is, not copied */
static void secret_in(const char *raw, const char **what)
{
	size_t len = strlen(raw);
	if (len >= 2 && (raw[0] == '"' || raw[0] == '\'') && raw[len - 1] == raw[0])
		*what = secret_value(raw + 1, len - 2);
	else
		*what = secret_value(raw, len);
}

/* ENV, LABEL or ARG (the caller's switch) */
static void kl1008_instr(struct lint_file *f, size_t i, const struct lint_instr *in)
{
	const struct kiln_df_node *n = in->node;
	if (in->cmd != KILN_DF_ARG) {
		for (size_t k = 0; 3 * k + 1 < n->n_args; k++) {
			const char *what;
			secret_in(lint_ntext(n, &n->args[3 * k + 1]), &what);
			if (what)
				lint_emit(f, "KL1008", (int)i, in->line,
					  "%s %s holds what looks like %s: it stays readable "
					  "in the image config; pass it with RUN "
					  "--mount=type=secret instead",
					  lint_text(&n->keyword), lint_ntext(n, &n->args[3 * k]),
					  what);
		}
		return;
	}
	for (size_t a = 0; a < n->n_args; a++) {
		const char *w = lint_ntext(n, &n->args[a]);
		const char *eq = strchr(w, '=');
		if (!eq)
			continue;
		const char *what;
		secret_in(eq + 1, &what);
		if (what)
			lint_emit(f, "KL1008", (int)i, in->line,
				  "ARG %.*s defaults to what looks like %s: it stays in the image "
				  "history; pass it with RUN --mount=type=secret instead",
				  (int)(eq - w), w, what);
	}
}

/* a COPY (the caller's switch) */
static void kl1009_instr(struct lint_file *f, size_t i, const struct lint_instr *in)
{
	const char *from = in->from;
	if (!from || !*from)
		return;
	/* strtol() below takes a number after blanks and a sign: a name begins otherwise */
	unsigned char c0 = (unsigned char)*from;
	if (!isdigit(c0) && !isspace(c0) && c0 != '+' && c0 != '-')
		return;
	char *end = NULL;
	long n = strtol(from, &end, 10);
	if (*end || n < 0)
		return;
	const char *name =
		n < (long)f->n_stages && f->stages[n].name_raw ? f->stages[n].name_raw : NULL;
	if (name)
		lint_emit(f, "KL1009", (int)i, in->line,
			  "COPY --from=%s names a stage by its position, which breaks when stages "
			  "move: write --from=%s",
			  from, name);
	else
		lint_emit(f, "KL1009", (int)i, in->line,
			  "COPY --from=%s names a stage by its position, which breaks when stages "
			  "move: name it (FROM ... AS build) and write --from=build",
			  from);
}

static void kl1010_1011(struct lint_file *f)
{
	for (size_t s = 0; s < f->n_stages; s++) {
		const struct lint_stage *st = &f->stages[s];
		const char *img = st->image_exp ? st->image_exp : st->image;
		int line = f->instrs[st->from].line;
		if (!st->needed) {
			const char *who = st->name_raw ? st->name_raw : img;
			const char *target = st->name_raw ? st->name_raw : "<stage>";
			const struct lint_piece pc[] = {
				/* no name nor image: what printf made of NULL */
				LINT_LIT("stage "), who ? LINT_STR(who) : LINT_LIT("(null)"),
				LINT_LIT(" is not needed by the final stage: remove it, or build "
					 "it on purpose with --target "),
				LINT_STR(target),
			};
			lint_emit_pieces(f, "KL1011", (int)st->from, line, pc, KILN_ARRAY_SIZE(pc));
			continue;
		}
		if (st->base_stage >= 0 || lint_str_eq(img, "scratch"))
			continue;
		/* no '$' nor '@' in it: one scan, which measures it too */
		size_t il = strcspn(img, "$@");
		if (img[il] || !il) /* a variable, a digest, or an image that expands to nothing */
			continue;
		struct lint_piece im = { img, il };
		const struct lint_piece pc[] = {
			LINT_LIT("base image "), im,
			LINT_LIT(" is not pinned by digest: for release builds write "), im,
			LINT_LIT("@sha256:<digest> so that the same Dockerfile always builds "
				 "on the same bytes"),
		};
		lint_emit_pieces(f, "KL1010", (int)st->from, line, pc, KILN_ARRAY_SIZE(pc));
	}
}

/* ---- caches left in the final image ---- */

struct cache_rule {
	const char *tool;
	const char *sub; /* NULL: any use */
	const char *dir;
	const char *clean; /* text in the script that cleans it */
	const char *fix;
};

static const struct cache_rule caches[] = {
	{ "npm", "install", "/root/.npm", "cache clean", "npm cache clean --force" },
	{ "npm", "ci", "/root/.npm", "cache clean", "npm cache clean --force" },
	{ "pnpm", "install", "/root/.local/share/pnpm/store", "store prune", "pnpm store prune" },
	{ "go", "build", "/root/.cache/go-build", "clean -cache", "go clean -cache -modcache" },
	{ "go", "mod", "/go/pkg/mod", "clean -modcache", "go clean -modcache" },
	{ "cargo", "build", "/usr/local/cargo/registry", "cargo/registry", "rm -rf /usr/local/cargo/registry" },
	{ "cargo", "install", "/usr/local/cargo/registry", "cargo/registry", "rm -rf /usr/local/cargo/registry" },
	{ "mvn", NULL, "/root/.m2", ".m2", "rm -rf /root/.m2/repository" },
	{ "gradle", NULL, "/root/.gradle", ".gradle", "rm -rf /root/.gradle/caches" },
	{ "dotnet", "restore", "/root/.nuget/packages", "nuget", "dotnet nuget locals all --clear" },
	{ "composer", "install", "/root/.composer/cache", "clear-cache", "composer clear-cache (or --no-cache)" },
};

static int mounts_cache(const struct kiln_df_node *n, const char *dir)
{
	for (size_t i = 0; i < n->n_flags; i++) {
		const char *v = lint_ntext(n, &n->flags[i].value);
		if (strcmp(lint_ntext(n, &n->flags[i].name), "mount") == 0 &&
		    strstr(v, "type=cache") &&
		    (strstr(v, dir) || strstr(v, "target=/root/.cache") || strstr(v, "target=/root")))
			return 1;
	}
	return 0;
}

/* a RUN (not an ONBUILD trigger) of the final stage or a stage it builds on: those end up in
 * the image (the caller's walk, final_image_rules()) */
static void kl1012_run(struct lint_file *f, size_t i, const struct lint_instr *in)
{
	/* by first byte, the entries of caches[] whose tool begins with it (bit r: caches[r]);
	 * a command names a tool, or a wrapper that begins as it does, only with its byte */
	static const uint16_t tool_caches[256] = {
		['n'] = 1u << 0 | 1u << 1, ['p'] = 1u << 2, ['g'] = 1u << 3 | 1u << 4 | 1u << 8,
		['c'] = 1u << 5 | 1u << 6 | 1u << 10, ['m'] = 1u << 7, ['d'] = 1u << 9,
	};
	_Static_assert(KILN_ARRAY_SIZE(caches) == 11, "tool_caches[] has a bit for each entry");
	/* bit n: some tool of caches[] is n bytes long (go, npm, pnpm, cargo, gradle, composer) */
	static const unsigned tool_lens = 1u << 2 | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 6 | 1u << 8;
	int done = 0;
	for (size_t k = 0; k < in->sh.n && !done; k++) {
		const struct lint_sh_cmd *c = &in->sh.cmds[k];
		unsigned rules = tool_caches[(unsigned char)c->name[0]];
		if (!rules)
			continue;
		/* a wrapper script such as mvnw or gradlew counts as its tool */
		int ends_w = c->name_len && c->name[c->name_len - 1] == 'w';
		/* else the name is a tool's, of its length: cd, cp, chmod, mkdir
		 * are none (the tools are 2 to 8 bytes long) */
		if (!ends_w && (c->name_len > 8 || !(tool_lens >> c->name_len & 1)))
			continue;
		for (; rules && !done; rules &= rules - 1) {
			const struct cache_rule *cr = &caches[__builtin_ctz(rules)];
			if (!lint_sh_is(c, cr->tool) &&
			    !(ends_w && lint_str_has_prefix(c->name, cr->tool)))
				continue;
			if (cr->sub) {
				size_t op = lint_sh_first_operand(c, NULL);
				if (op >= c->argc || strcmp(c->argv[op], cr->sub) != 0)
					continue;
			}
			if (lint_sh_has_flag(c, "no-cache") ||
			    (in->script && strstr(in->script, cr->clean)) ||
			    mounts_cache(in->node, cr->dir))
				continue;
			lint_emit(f, "KL1012", (int)i, in->line,
				  "%s leaves its cache (%s) in a layer of the final image: run %s "
				  "in the same RUN, use RUN --mount=type=cache,target=%s, or build "
				  "in an earlier stage",
				  cr->tool, cr->dir, cr->fix, cr->dir);
			done = 1;
		}
	}
}

/* ---- update in one RUN, install in the next ---- */

static const char *index_update(const struct lint_instr *in, int *installs)
{
	const char *upd = NULL;
	*installs = 0;
	for (size_t k = 0; k < in->sh.n; k++) {
		const struct lint_sh_cmd *c = &in->sh.cmds[k];
		/* apt-get, apt, apk, yum, dnf: most commands begin otherwise */
		char c0 = c->name[0];
		if (c0 != 'a' && c0 != 'y' && c0 != 'd')
			continue;
		int apt = lint_sh_is(c, "apt-get") || lint_sh_is(c, "apt");
		int apk = lint_sh_is(c, "apk");
		int rpm = lint_sh_is(c, "yum") || lint_sh_is(c, "dnf");
		if (!apt && !apk && !rpm)
			continue;
		/* the words asked of the command, found in one pass over its arguments */
		int update = 0, install = 0, upgrade = 0, add = 0, makecache = 0;
		for (size_t a = 1; a < c->argc; a++) {
			const char *w = c->argv[a];
			/* by the first two bytes, then strcmp() for the word that has them */
			switch (w[0]) {
			case 'u':
				if (w[1] == 'p' && w[2] == 'd')
					update |= !strcmp(w, "update");
				else if (w[1] == 'p' && w[2] == 'g')
					upgrade |= !strcmp(w, "upgrade");
				break;
			case 'i':
				install |= w[1] == 'n' && !strcmp(w, "install");
				break;
			case 'a':
				add |= w[1] == 'd' && w[2] == 'd' && !w[3];
				break;
			case 'm':
				makecache |= w[1] == 'a' && !strcmp(w, "makecache");
				break;
			default:
				break;
			}
		}
		if (apt && update)
			upd = "apt-get update";
		if (apk && update)
			upd = "apk update";
		if (rpm && makecache)
			upd = "makecache";
		if ((apt && (install || upgrade)) || (apk && add) || (rpm && install))
			*installs = 1;
	}
	return upd;
}

/* KL1013 over one stage's RUNs in order: the update seen last, if no install followed */
struct kl1013_walk {
	int upd_at; /* or -1 */
	const char *what;
};

/* a RUN of a stage (the caller's switch) */
static void kl1013_instr(struct lint_file *f, struct kl1013_walk *w, size_t i,
			 const struct lint_instr *in)
{
	if (in->onbuild)
		return;
	int inst;
	const char *u = index_update(in, &inst);
	if (u && !inst) {
		w->upd_at = (int)i;
		w->what = u;
		return;
	}
	if (inst && !u && w->upd_at >= 0) {
		lint_emit(f, "KL1013", (int)i, in->line,
			  "this RUN installs from the index that %s fetched on line %d in another "
			  "layer; a cached update layer then serves stale lists: run the update "
			  "and the install in the same RUN",
			  w->what, f->instrs[w->upd_at].line);
		w->upd_at = -1;
	}
}

/* ---- the final stage at run time ---- */

/* KL1012 over the RUNs, KL1014 and KL1015, in one walk of what ends up in the image, which
 * also finds KL1001/KL1002's build tool in the final stage */
static void final_image_rules(struct lint_file *f)
{
	if (!f->n_stages)
		return;
	const struct lint_stage *fin = &f->stages[f->n_stages - 1];
	int user = 0, health = 0, expose = 0;
	const char *pkg = NULL;
	/* the final stage and its bases (earlier stages: the walk ends) */
	for (int s = (int)f->n_stages - 1; s >= 0; s = f->stages[s].base_stage) {
		const struct lint_stage *st = &f->stages[s];
		for (size_t i = st->first; i <= st->last && i < f->n_instrs; i++) {
			const struct lint_instr *in = &f->instrs[i];
			if (in->onbuild)
				continue;
			if (in->cmd == KILN_DF_RUN) {
				if (st == fin && !pkg)
					pkg = installs_build_tools(in);
				kl1012_run(f, i, in);
			}
			user |= in->cmd == KILN_DF_USER;
			health |= in->cmd == KILN_DF_HEALTHCHECK;
			if (in->cmd == KILN_DF_EXPOSE && !expose)
				expose = (int)i + 1;
		}
	}
	const struct lint_stage *root = root_stage(f, fin);
	const char *img = root->image_exp ? root->image_exp : root->image;
	/* "nonroot" and "rootless" hold "root": most images have neither that nor "unpriv" */
	int nonroot = strchr(img, 'r') && /* each word below holds an 'r' */
		      ((strstr(img, "root") &&
			(strstr(img, "nonroot") || strstr(img, "rootless"))) ||
		       strstr(img, "unprivileged"));
	if (!user && !nonroot && !lint_str_eq(img, "scratch"))
		lint_emit(f, "KL1014", (int)fin->from, f->instrs[fin->from].line,
			  "the final stage sets no USER, so the container runs as root: add a non-root user "
			  "(RUN useradd -u 10001 app, then USER 10001)");
	if (expose && !health)
		lint_emit(f, "KL1015", expose - 1, f->instrs[expose - 1].line,
			  "the final stage EXPOSEs a port but has no HEALTHCHECK: add one (HEALTHCHECK CMD "
			  "wget -qO- http://localhost:<port>/health || exit 1) so that a hung service shows");
	kl1001_1002(f, pkg);
}

/*
 * The rules that look at each instruction go in one walk over them, not one each: a rule's
 * findings come in the order they did (those of different rules are sorted afterwards).
 */
void lint_rules_kiln(struct lint_file *f)
{
	struct kl1003_walk w3 = { -1, 0 };
	struct kl1013_walk w13 = { -1, NULL };
	int stage = -1;
	for (size_t i = 0; i < f->n_instrs; i++) {
		const struct lint_instr *in = &f->instrs[i];
		if (in->stage != stage) { /* a stage's FROM: its walks begin */
			stage = in->stage;
			w3 = (struct kl1003_walk){ -1, 0 };
			w13 = (struct kl1013_walk){ -1, NULL };
		}
		switch (in->cmd) {
		case KILN_DF_COPY:
			kl1009_instr(f, i, in);
			/* fall through */
		case KILN_DF_ADD:
			kl1006_instr(f, i, in);
			/* KL1003: the first COPY of the whole context before the install */
			if (stage >= 0 && !w3.done && !in->onbuild && w3.copy_at < 0 &&
			    copies_context(in))
				w3.copy_at = (int)i;
			break;
		case KILN_DF_RUN:
			if (stage >= 0) {
				if (!w3.done && !in->onbuild)
					kl1003_run(f, &w3, in);
				kl1013_instr(f, &w13, i, in);
			}
			break;
		case KILN_DF_ENV:
		case KILN_DF_LABEL:
		case KILN_DF_ARG:
			kl1008_instr(f, i, in);
			break;
		default:
			break;
		}
	}
	kl1010_1011(f);
	final_image_rules(f);
}

/* s[0..n) ends with suffix (a literal: inlined, its length is a constant) */
static inline int ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* lint_secret_path() of path[0..plen), no NUL byte in it (measured by the caller) */
static int secret_path_n(const char *path, size_t plen)
{
	if (plen < 4)
		return 0; /* what each test below looks for is 4 bytes or more (".env", ".pem") */
	const char *b = memrchr(path, '/', plen);
	b = b ? b + 1 : path;
	size_t blen = plen - (size_t)(b - path);
	if (b[0] == '.' && (lint_str_eq(b, ".env") ||
			    (lint_str_has_prefix(b, ".env.") && !ends_with(b, blen, ".example") &&
			     !ends_with(b, blen, ".sample") && !ends_with(b, blen, ".template") &&
			     !ends_with(b, blen, ".dist"))))
		return 1;
	static const char *const names[] = { "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".npmrc",
					     ".pypirc", ".netrc", ".git-credentials", "credentials.json",
					     "service-account.json", ".htpasswd", "secrets.yml",
					     "secrets.yaml", "secrets.json", NULL };
	/* the first bytes of the names */
	static const unsigned char name_first[256] = { ['i'] = 1, ['.'] = 1, ['c'] = 1, ['s'] = 1 };
	if (name_first[(unsigned char)b[0]])
		for (size_t i = 0; names[i]; i++)
			if (lint_str_eq(b, names[i]))
				return 1;
	/* the extensions (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore") at the base
	 * name's last dot, looked for only when the path ends as one of them does (most do
	 * not); the suffixes below hold a dot too */
	static const unsigned char ext_last[256] = { ['m'] = 1, ['y'] = 1, ['2'] = 1, ['x'] = 1,
						     ['s'] = 1, ['e'] = 1 };
	const char *dot = ext_last[(unsigned char)path[plen - 1]] ? memrchr(b, '.', blen) : NULL;
	if (dot) {
		size_t en = plen - (size_t)(dot - path);
		if (en == 4 && (!memcmp(dot, ".pem", 4) || !memcmp(dot, ".key", 4) ||
				!memcmp(dot, ".p12", 4) || !memcmp(dot, ".pfx", 4) ||
				!memcmp(dot, ".jks", 4)))
			return 1;
		if (en == 9 && !memcmp(dot, ".keystore", 9))
			return 1;
	}
	return ends_with(path, plen, ".aws/credentials") ||
	       ends_with(path, plen, ".docker/config.json") ||
	       ends_with(path, plen, ".kube/config");
}

int lint_secret_path(const char *path)
{
	return secret_path_n(path, strlen(path));
}
