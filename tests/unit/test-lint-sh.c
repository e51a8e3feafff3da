/* SPDX-License-Identifier: Apache-2.0 */
/* The RUN script parser of kiln lint: which commands a script runs. */
#include <stdio.h>
#include <string.h>

#include "analyze/lint-sh.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "tap.h"

struct sh_case {
	const char *script;
	const char *want; /* commands "argv0 argv1 ...|..." in order */
	int pipe;
	int pipefail;
};

static const struct sh_case cases[] = {
	{ "a && b || c; d & e", "a|b|c|d|e", 0, 0 },
	{ "apt-get update && apt-get install -y 'curl' \"git\"", "apt-get update|apt-get install -y curl git", 0, 0 },
	{ "curl -s http://x | sh", "curl -s http://x|sh", 1, 0 },
	{ "set -o pipefail && a | b", "set -o pipefail|a|b", 1, 1 },
	{ "a | b; set -o pipefail", "a|b|set -o pipefail", 1, 0 },
	{ "FOO=1 BAR=\"x y\" make all", "make all", 0, 0 },
	{ "sudo -u app npm install x", "sudo -u app npm install x|npm install x", 0, 0 },
	{ "env -i PATH=/x pip install y", "env -i PATH=/x pip install y|pip install y", 0, 0 },
	{ "sh -c 'cd /x && make'", "sh -c cd /x && make|cd /x|make", 0, 0 },
	{ "bash -o pipefail -c \"a | b\"", "bash -o pipefail -c a | b|a|b", 1, 1 },
	{ "echo $(cd /x; pwd) `id -u`", "cd /x|pwd|id -u|echo $(cd /x; pwd) `id -u`", 0, 0 },
	{ "if [ -f x ]; then rm x; else touch x; fi", "[ -f x ]|rm x|touch x", 0, 0 },
	{ "for f in a b; do gzip $f; done", "gzip $f", 0, 0 },
	{ "while read l; do echo $l; done < file", "read l|echo $l", 0, 0 },
	{ "case \"$(uname -m)\" in x86_64|amd64) A=x;; aarch64) A=y; echo a;; esac", "uname -m|echo a", 0, 0 },
	{ "(cd /x && make) > log 2>&1", "cd /x|make", 0, 0 },
	{ "cat <<EOF > f\nline | with pipe\nEOF\nls", "cat|ls", 0, 0 },
	{ "a \\\n  && b # comment | x\nc", "a|b|c", 0, 0 },
	{ "xargs -n1 -I{} rm {} < list", "xargs -n1 -I{} rm {}|rm {}", 0, 0 },
	{ "f() { echo hi; }; f", "echo hi|f", 0, 0 },
	{ "[[ -n $x ]] && echo ok", "echo ok", 0, 0 },
	{ "diff <(sort a) b", "sort a|diff /dev/fd/63 b", 0, 0 },
	{ "echo \"unterminated", "echo unterminated", 0, 0 },
	{ "a |& b", "a|b", 1, 0 },
	{ "timeout 10 curl x", "timeout 10 curl x|curl x", 0, 0 },
};

/*
 * Words are written in place into one buffer as long as the text: a word
 * that ends the text, dropped words giving their bytes back, quotes and
 * escapes that shrink a word, kept expansions, inserted words, here-document
 * delimiters (named by number: some scripts span lines).
 */
static const struct sh_case buf_cases[] = {
	{ "x", "x", 0, 0 },
	{ "A=1 B='2 3' c \"d\"e A=4", "c de A=4", 0, 0 },
	{ "for i in 1 2; do x=$i y; done", "y", 0, 0 },
	{ "cat <<'E\"' >o\nz | y\nE\"\nls <<-X\n\tX\nw", "cat|ls|w", 0, 0 },
	{ "cat <<\"\"\nq|r\n\nls", "cat|ls", 0, 0 },
	{ "a \"$(b \"$(c 'd e')\")\"f", "c d e|b $(c 'd e')|a $(b \"$(c 'd e')\")f", 0, 0 },
	{ "diff <(a) <(b)>x", "a|b|diff /dev/fd/63 /dev/fd/63", 0, 0 },
	{ "p \\\"\\'\\\n'' \"\" \\", "p \"'  ", 0, 0 },
	/* commands inside others, told apart by the first byte of their names first */
	{ "ash -c a; zsh -c b; mksh -c c; ksh -c d; dash -c e; /bin/bash -c f",
	  "ash -c a|a|zsh -c b|b|mksh -c c|c|ksh -c d|d|dash -c e|e|/bin/bash -c f|f", 0, 0 },
	{ "flock /l g; ionice -c2 h; gosu u i; xargs j; nohup k; builtin l; eatmydata m",
	  "flock /l g|g|ionice -c2 h|h|gosu u i|i|xargs j|j|nohup k|k|builtin l|l|eatmydata m|m",
	  0, 0 },
	{ "command -v n; command o; apk p; zip q; if r; then s; fi; until t; do u; done",
	  "command -v n|command o|o|apk p|zip q|r|s|t|u", 0, 0 },
	/* every wrapper (the table is searched by first byte, in order) */
	{ "doas a; chroot /r b; exec c; stdbuf -oL e; runuser -u x f; su-exec u g; nice h",
	  "doas a|a|chroot /r b|b|exec c|c|stdbuf -oL e|e|runuser -u x f|f|su-exec u g|g|nice h|h",
	  0, 0 },
	{ "env i; sudo j; timeout 1 k; xargs l; builtin m; 'time' n; nohup o; gosu u p",
	  "env i|i|sudo j|j|timeout 1 k|k|xargs l|l|builtin m|m|time n|n|nohup o|o|gosu u p|p",
	  0, 0 },
	/* words read at once by their first byte, or after the operators had their look */
	{ "\\x 12 3>f 4<g 5 6>(h) 7x", "h|x 12 5 /dev/fd/63 7x", 0, 0 },
	{ "a\\\nb c\t#d\n\\\ne", "ab c|e", 0, 0 },
};

static char *describe(const struct lint_sh_script *s)
{
	struct kiln_buf b = KILN_BUF_INIT;
	for (size_t i = 0; i < s->n; i++) {
		if (i && kiln_buf_addch(&b, '|') < 0)
			break;
		for (size_t k = 0; k < s->cmds[i].argc; k++)
			if (kiln_buf_addf(&b, "%s%s", k ? " " : "", s->cmds[i].argv[k]) < 0)
				break;
	}
	return kiln_buf_detach(&b, NULL);
}

static void check_case(const struct sh_case *c, const char *name)
{
	struct lint_sh_script s = { 0 };
	TAP_OK(lint_sh_parse(c->script, strlen(c->script), &s, NULL) == 0, "parse %s", name);
	char *d = describe(&s);
	TAP_STR_EQ(d, c->want, "commands of %s", name);
	TAP_INT_EQ(s.has_pipe, c->pipe, "pipe in %s", name);
	TAP_INT_EQ(s.sets_pipefail, c->pipefail, "pipefail in %s", name);
	free(d);
	lint_sh_script_release(&s);
}

int main(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++)
		check_case(&cases[i], cases[i].script);
	for (size_t i = 0; i < KILN_ARRAY_SIZE(buf_cases); i++) {
		char name[32];
		snprintf(name, sizeof(name), "buffer case %zu", i);
		check_case(&buf_cases[i], name);
	}
	/* a command longer than the parser keeps on its stack, then a short one */
	struct kiln_buf long_cmd = KILN_BUF_INIT;
	for (int i = 0; i < 100; i++)
		TAP_OK(kiln_buf_addf(&long_cmd, "%sw%d", i ? " " : "X=1 ", i) == 0, "word %d", i);
	TAP_OK(kiln_buf_addstr(&long_cmd, "; z") == 0, "long command");
	struct lint_sh_script ls = { 0 };
	TAP_OK(lint_sh_parse(long_cmd.buf, long_cmd.len, &ls, NULL) == 0, "parse long");
	TAP_OK(ls.n == 2 && ls.cmds[0].argc == 100 && !strcmp(ls.cmds[0].argv[0], "w0") &&
	       !strcmp(ls.cmds[0].argv[99], "w99") && !ls.cmds[0].argv[100] &&
	       ls.cmds[1].argc == 1 && !strcmp(ls.cmds[1].argv[0], "z"), "100 words, then 1");
	lint_sh_script_release(&ls);
	kiln_buf_release(&long_cmd);
	/* flags the way hadolint reads them */
	struct lint_sh_script s = { 0 };
	const char *t = "apt-get -qy --no-install-recommends install -t bookworm curl -- -notaflag";
	TAP_OK(lint_sh_parse(t, strlen(t), &s, NULL) == 0 && s.n == 1, "parse flags");
	const struct lint_sh_cmd *c = &s.cmds[0];
	TAP_OK(lint_sh_has_flag(c, "q") && lint_sh_has_flag(c, "y"), "-qy gives q and y");
	TAP_OK(lint_sh_has_flag(c, "no-install-recommends"), "long flag");
	TAP_OK(!lint_sh_has_flag(c, "n"), "nothing after -- is a flag");
	TAP_STR_EQ(lint_sh_flag_value(c, "t"), "bookworm", "value of -t");
	static const char *const vf[] = { "t", NULL };
	TAP_OK(!lint_sh_is_operand(c, 5, vf) && lint_sh_is_operand(c, 6, vf) && lint_sh_is_operand(c, 8, vf),
	       "operands skip flag values and follow --");
	lint_sh_script_release(&s);
	/* long flags: "--name=value", "--name value", a longer or shorter name is another */
	const char *lf = "pip install --index-url=https://x --target /opt --no-cache-dir-x y";
	TAP_OK(lint_sh_parse(lf, strlen(lf), &s, NULL) == 0 && s.n == 1, "parse long flags");
	c = &s.cmds[0];
	TAP_STR_EQ(lint_sh_flag_value(c, "index-url"), "https://x", "value of --index-url=");
	TAP_STR_EQ(lint_sh_flag_value(c, "target"), "/opt", "value after --target");
	TAP_OK(lint_sh_has_flag(c, "index-url") && lint_sh_has_flag(c, "target") &&
		       !lint_sh_has_flag(c, "index") && !lint_sh_has_flag(c, "no-cache-dir") &&
		       !lint_sh_flag_value(c, "no-cache-dir"),
	       "a long flag is its whole name, before any '='");
	lint_sh_script_release(&s);
	/* "--" ends the flags of the wrapper and of the wrapped command alike */
	t = "sudo -u x -- rm -- -f";
	TAP_OK(lint_sh_parse(t, strlen(t), &s, NULL) == 0 && s.n == 2, "parse sudo -- rm");
	c = &s.cmds[0];
	TAP_OK(lint_sh_arg_is_flag(c, 1) && !lint_sh_arg_is_flag(c, 3) &&
	       !lint_sh_arg_is_flag(c, 6) && !lint_sh_has_flag(c, "f") && lint_sh_has_flag(c, "u"),
	       "flags of sudo end at --");
	c = &s.cmds[1];
	TAP_OK(!lint_sh_arg_is_flag(c, 1) && !lint_sh_arg_is_flag(c, 2) &&
	       !lint_sh_has_flag(c, "f") && lint_sh_is_operand(c, 2, NULL) &&
	       !lint_sh_is_operand(c, 1, NULL) &&
	       lint_sh_first_operand(c, NULL) == 2, "flags of rm end at --");
	lint_sh_script_release(&s);
	/* the first operand without value flags (NULL) and with an empty list agree */
	t = "x; x -a; x -a b; x - y; x -- -a; x -a --; x --; x -ab -- c; x --long=v w; x -- --";
	TAP_OK(lint_sh_parse(t, strlen(t), &s, NULL) == 0 && s.n == 10, "parse operand cases");
	static const size_t want[] = { 1, 2, 2, 1, 2, 3, 2, 3, 2, 2 };
	static const char *const none[] = { NULL };
	for (size_t i = 0; i < s.n && i < KILN_ARRAY_SIZE(want); i++)
		TAP_OK(lint_sh_first_operand(&s.cmds[i], NULL) == want[i] &&
		       lint_sh_first_operand(&s.cmds[i], none) == want[i],
		       "first operand of command %zu", i);
	lint_sh_script_release(&s);
	return tap_done();
}
