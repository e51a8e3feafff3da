/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "analyze/lint-internal.h"
#include "base/alloc.h"
#include "base/arena.h"
#include "base/decimal.h"

/* hadolint's rules on what RUN scripts do (other than package managers). */

/* What the rules after simple_cmds() read of a script: found in its one loop. */
struct run_facts {
	int curl, wget; /* some command runs curl, wget */
	int top;        /* the commands at depth 0 */
};

static void simple_cmds(struct lint_file *f, size_t i, struct run_facts *rf)
{
	const struct lint_instr *in = &f->instrs[i];
	static const char *const pointless[] = { "free", "kill", "mount", "ps", "service", "shutdown",
						 "ssh", "top", "vim", "ifconfig", NULL };
	/* the first bytes of pointless[]: most commands begin otherwise */
	static const unsigned char pointless_first[256] = { ['f'] = 1, ['k'] = 1, ['m'] = 1,
							    ['p'] = 1, ['s'] = 1, ['t'] = 1,
							    ['v'] = 1, ['i'] = 1 };
	int cd = 0, sudo = 0, apt = 0, dl3001 = 0, dl4005 = 0;
	*rf = (struct run_facts){ 0 };
	for (size_t c = 0; c < in->sh.n; c++) {
		const struct lint_sh_cmd *cmd = &in->sh.cmds[c];
		rf->top += cmd->depth == 0;
		rf->curl |= lint_sh_is(cmd, "curl");
		int maybe = pointless_first[(unsigned char)cmd->name[0]];
		for (size_t k = 0; maybe && pointless[k] && !dl3001; k++) {
			if (lint_sh_is(cmd, pointless[k])) {
				lint_emit(f, "DL3001", (int)i, in->line,
					  "RUN calls %s, which has nothing to act on during a build",
					  cmd->name);
				dl3001 = 1;
			}
		}
		if (!cd && lint_sh_is(cmd, "cd")) {
			cd = 1;
			lint_emit(f, "DL3003", (int)i, in->line,
				  "RUN changes directory with cd: use WORKDIR %s instead",
				  cmd->argc > 1 ? cmd->argv[1] : "<dir>");
		}
		if (!sudo && lint_sh_is(cmd, "sudo")) {
			sudo = 1;
			lint_emit(f, "DL3004", (int)i, in->line,
				  "RUN uses sudo: build steps already run as the stage's USER; use gosu or su-exec at run time");
		}
		if (!apt && lint_sh_is(cmd, "apt")) {
			apt = 1;
			lint_emit(f, "DL3027", (int)i, in->line,
				  "RUN uses apt, whose output and options are meant for people: use apt-get or apt-cache");
		}
		if (lint_sh_is(cmd, "useradd") && !lint_sh_has_flag(cmd, "l") &&
		    !lint_sh_has_flag(cmd, "no-log-init")) {
			const char *uid = lint_sh_flag_value(cmd, "u");
			if (!uid)
				uid = lint_sh_flag_value(cmd, "uid");
			if (uid && strlen(uid) > 5)
				lint_emit(f, "DL3046", (int)i, in->line,
					  "useradd -u %s without -l writes a sparse lastlog as large as the UID: add -l",
					  uid);
		}
		int wget = lint_sh_is(cmd, "wget");
		rf->wget |= wget;
		if (wget && !lint_sh_has_flag(cmd, "progress") &&
		    !lint_sh_has_flag(cmd, "q") && !lint_sh_has_flag(cmd, "quiet") &&
		    !lint_sh_has_flag(cmd, "o") && !lint_sh_has_flag(cmd, "output-file") &&
		    !lint_sh_has_flag(cmd, "a") && !lint_sh_has_flag(cmd, "append-output") &&
		    !lint_sh_has_flag(cmd, "no-verbose") && !lint_sh_has_arg(cmd, "-nv"))
			lint_emit(f, "DL3047", (int)i, in->line,
				  "wget prints a progress bar into the build log: add --progress=dot:giga, -q or -nv");
		if (!dl4005 && lint_sh_is(cmd, "ln") && lint_sh_has_arg(cmd, "/bin/sh")) {
			dl4005 = 1;
			lint_emit(f, "DL4005", (int)i, in->line,
				  "RUN relinks /bin/sh: use the SHELL instruction to change the shell");
		}
	}
}

static int same_flags(const struct kiln_df_node *a, const struct kiln_df_node *b)
{
	if (a->n_flags != b->n_flags)
		return 0;
	for (size_t i = 0; i < a->n_flags; i++)
		if (strcmp(lint_ntext(a, &a->flags[i].raw), lint_ntext(b, &b->flags[i].raw)) != 0)
			return 0;
	return 1;
}

static const char *base_of(const char *p)
{
	const char *s1 = strrchr(p, '/'), *s2 = strrchr(p, '\\');
	const char *s = s1 > s2 ? s1 : s2;
	return s ? s + 1 : p;
}

/* p (len bytes, no NUL among them) ends with one of .tar .Z .bz2 .gz .lz .lzma .tZ .tb2 .tbz
 * .tbz2 .tgz .tlz .tpz .txz .xz */
static int is_archive_name(const char *p, size_t len)
{
	/* the last bytes of the extensions, and the bytes after their dot: most words (".",
	 * "/app", "x.json") end otherwise, or have another */
	static const unsigned char ext_last[256] = { ['r'] = 1, ['Z'] = 1, ['2'] = 1, ['z'] = 1,
						     ['a'] = 1 };
	static const unsigned char ext_second[256] = { ['t'] = 1, ['Z'] = 1, ['b'] = 1,
						       ['g'] = 1, ['l'] = 1, ['x'] = 1 };
	if (!len || !ext_last[(unsigned char)p[len - 1]])
		return 0;
	const char *dot = memrchr(p, '.', len);
	if (!dot || !ext_second[(unsigned char)dot[1]])
		return 0;
	/* the extension is all from dot (p's last dot): compared by its length, each
	 * comparison of a constant size (".txt" no longer goes through the list) */
#define EXT_IS(e) (!memcmp(dot, e, sizeof(e) - 1))
	switch (len - (size_t)(dot - p)) {
	case 2:
		return EXT_IS(".Z");
	case 3:
		return EXT_IS(".gz") || EXT_IS(".lz") || EXT_IS(".tZ") || EXT_IS(".xz");
	case 4:
		return EXT_IS(".tar") || EXT_IS(".bz2") || EXT_IS(".tb2") || EXT_IS(".tbz") ||
		       EXT_IS(".tgz") || EXT_IS(".tlz") || EXT_IS(".tpz") || EXT_IS(".txz");
	case 5:
		return EXT_IS(".lzma") || EXT_IS(".tbz2");
	default:
		return 0;
	}
#undef EXT_IS
}

static int extracts(const struct lint_sh_cmd *c, const char *archive)
{
	static const char *const unz[] = { "unzip", "gunzip", "bunzip2", "unlzma", "unxz", "zgz",
					   "uncompress", "zcat", "gzcat", NULL };
	int ex = 0;
	if (lint_sh_is(c, "tar")) {
		for (size_t i = 1; i < c->argc && !ex; i++) {
			const char *a = c->argv[i];
			if (lint_str_eq(a, "--extract") || lint_str_eq(a, "--get") ||
			    (a[0] == '-' && a[1] != '-' && strchr(a, 'x')) ||
			    (i == 1 && a[0] != '-' && strchr(a, 'x')))
				ex = 1;
		}
	}
	for (size_t k = 0; unz[k] && !ex; k++)
		ex = lint_sh_is(c, unz[k]);
	if (!ex)
		return 0;
	for (size_t i = 1; i < c->argc; i++)
		if (!lint_sh_arg_is_flag(c, i) && strcmp(base_of(c->argv[i]), archive) == 0)
			return 1;
	return 0;
}

struct archive {
	char name[256];
	int instr;
	int reported;
};

void lint_rules_dl_run(struct lint_file *f)
{
	int pipefail = 0;   /* the current SHELL sets pipefail or is not POSIX */
	int curl = 0, wget = 0;
	int prev_run = -1;  /* the RUN just before, for DL3059 */
	int prev_top = 0;   /* its commands at depth 0 */
	struct archive arch[32];
	size_t n_arch = 0;
	/* lint-dl-pkg.c's state: PIP_NO_CACHE_DIR of the stage so far, and at each stage's end */
	int pip_env = 0;
	int *pip_stage = kiln_arena_array(f->arena, f->n_stages + 1, sizeof(int));
	if (!pip_stage) {
		f->nomem = 1;
		return;
	}
	for (size_t i = 0; i < f->n_instrs; i++) {
		struct lint_instr *in = &f->instrs[i];
		if (in->cmd == KILN_DF_FROM && !in->onbuild) {
			pipefail = 0;
			const struct lint_stage *st = &f->stages[in->stage];
			pip_env = 0;
			if (st->base_stage >= 0) {
				/* a stage built on another keeps its SHELL (and its ENV) */
				const struct lint_stage *b = &f->stages[st->base_stage];
				pipefail = b->shell_pipefail || b->shell_nonposix;
				pip_env = pip_stage[st->base_stage];
			}
			curl = wget = 0;
			prev_run = -1;
			n_arch = 0;
			continue;
		}
		if (in->cmd == KILN_DF_SHELL && !in->onbuild) {
			const struct kiln_df_node *n = in->node;
			pipefail = 0;
			if (n->json_form && n->n_args) {
				const char *b = base_of(lint_ntext(n, &n->args[0]));
				if (lint_str_has_prefix(b, "pwsh") || lint_str_has_prefix(b, "powershell") ||
				    lint_ci_equal(b, "cmd") || lint_ci_equal(b, "cmd.exe"))
					pipefail = 1;
				/* -o pipefail counts for the shells hadolint trusts
				 * with it: bash, zsh and ash (not a plain sh) */
				int trusted = !strcmp(b, "bash") || !strcmp(b, "zsh") ||
					      !strcmp(b, "ash");
				for (size_t a = 1; trusted && a + 1 < n->n_args; a++) {
					const char *w = lint_ntext(n, &n->args[a]);
					if (w[0] == '-' && w[1] != '-' && strchr(w, 'o') &&
					    strcmp(lint_ntext(n, &n->args[a + 1]), "pipefail") == 0)
						pipefail = 1;
				}
			}
			prev_run = -1;
			continue;
		}
		if (in->cmd == KILN_DF_COPY && !in->onbuild && !in->from) {
			const struct kiln_df_node *n = in->node;
			for (size_t a = 0; n->n_args >= 2 && a < n->n_args; a++) {
				const char *p = lint_ntext(n, &n->args[a]);
				int is_dest = a + 1 == n->n_args;
				/* lint_ntext() gives the text itself, of its length, or a string */
				size_t pl = p == n->args[a].str ? n->args[a].len : strlen(p);
				if (!is_archive_name(p, pl) || n_arch >= KILN_ARRAY_SIZE(arch))
					continue;
				const struct kiln_df_text *dt = &n->args[n->n_args - 1];
				const char *dest = lint_ntext(n, dt);
				size_t dl = dest == dt->str ? dt->len : strlen(dest);
				if (is_dest || !is_archive_name(dest, dl)) {
					struct archive *ar = &arch[n_arch++];
					snprintf(ar->name, sizeof(ar->name), "%s", base_of(p));
					ar->instr = (int)i;
					ar->reported = 0;
				}
			}
		}
		if (in->cmd == KILN_DF_ENV && !in->onbuild) {
			lint_dl_pkg_env(f, i, &pip_env);
			if (in->stage >= 0)
				pip_stage[in->stage] = pip_env;
		}
		if (in->cmd != KILN_DF_RUN) {
			prev_run = -1;
			continue;
		}
		lint_dl_pkg_run(f, i, pip_env);
		struct run_facts rf;
		simple_cmds(f, i, &rf);
		if (!pipefail && in->sh.has_pipe && !in->sh.sets_pipefail &&
		    !(in->node->json_form))
			lint_emit(f, "DL4006", (int)i, in->line,
				  "RUN has a pipe but the shell does not fail when a command before the last one fails: "
				  "set SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] first (or /bin/ash for busybox images)");
		curl |= rf.curl;
		wget |= rf.wget;
		if ((rf.curl || rf.wget) && curl && wget)
			lint_emit(f, "DL4001", (int)i, in->line,
				  "this stage downloads with both curl and wget: settle on one");
		for (size_t a = 0; a < n_arch; a++) {
			if (arch[a].reported)
				continue;
			for (size_t k = 0; k < in->sh.n; k++) {
				if (extracts(&in->sh.cmds[k], arch[a].name)) {
					arch[a].reported = 1;
					lint_emit(f, "DL3010", arch[a].instr, f->instrs[arch[a].instr].line,
						  "%s is copied, then extracted on line %d: ADD extracts local archives itself",
						  arch[a].name, in->line);
					break;
				}
			}
		}
		if (in->onbuild) {
			prev_run = -1;
			continue;
		}
		/* hadolint skips a RUN of "more than 2" commands, but its list names
		 * each simple command twice: in effect only RUNs of one command each */
		if (prev_run >= 0 && same_flags(f->instrs[prev_run].node, in->node) &&
		    rf.top <= 1 && prev_top <= 1) {
			/* a frequent finding: its message put together, not formatted */
			int prev_line = f->instrs[prev_run].line;
			char num[24], *d = kiln_decimal(num + sizeof(num), prev_line);
			const struct lint_piece pc[] = {
				LINT_LIT("RUN right after the RUN on line "),
				{ d, (size_t)(num + sizeof(num) - d) },
				LINT_LIT(": join them with && to save a layer"),
			};
			lint_emit_pieces(f, "DL3059", (int)i, in->line, pc, KILN_ARRAY_SIZE(pc));
		}
		prev_run = (int)i;
		prev_top = rf.top;
	}
}
