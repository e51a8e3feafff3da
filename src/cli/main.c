/* SPDX-License-Identifier: Apache-2.0 */
#include <locale.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "snapshot/snapshot.h"
#include "store/store.h"

/* The CLI owns the process: its signal flag is the one global it keeps. */
static atomic_int arg_cancel;

static void on_signal(int sig)
{
	(void)sig;
	arg_cancel = 1;
}

static void log_to_stderr(void *userdata, enum kiln_log_level level, const char *msg)
{
	(void)userdata;
	static const char *const names[] = { "error", "warning", "info", "debug" };
	fprintf(stderr, "%s: %s\n", names[level], msg);
}

static void print_commands(FILE *out)
{
	fputs("usage: kiln [--root DIR] [--debug] <command> [<args>]\n\n"
	      "kiln builds multi-stage container images from Dockerfiles, without a daemon.\n\n"
	      "commands:\n",
	      out);
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(out, "  %-12s %s\n", c->name, c->summary);
	fputs("\nRun 'kiln <command> --help' for a command's options.\n", out);
}

/* Whatever the command's outcome: what it named is in the store now. */
static void settle_layers(struct cli_env *env)
{
	struct kiln_error err = KILN_ERROR_INIT;
	char *root = NULL;
	if (env->root || kiln_store_default_root(&root, &err) == 0) {
		int r = kiln_snapshot_settle(env->root ? env->root : root,
					     KILN_SNAPSHOT_SETTLE_DETACH, &err);
		if (r < 0)
			kiln_debug(&env->ctx, "syncing the store: %s", err.msg ? err.msg : "?");
		else if (r > 0)
			kiln_debug(&env->ctx, "syncing the store: %d layers, in the background", r);
	}
	free(root);
	kiln_error_release(&err);
}

int main(int argc, char **argv)
{
	struct cli_env env = {
		.ctx = { .log_level = KILN_LOG_WARN, .log_fn = log_to_stderr, .cancel = &arg_cancel },
		.stdout_tty = isatty(STDOUT_FILENO),
		.stderr_tty = isatty(STDERR_FILENO),
		.argv0 = argv[0],
	};
	(void)setlocale(LC_CTYPE, "C.UTF-8");
	env.root = getenv("KILN_ROOT");
	if (env.root && !*env.root)
		env.root = NULL;

	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--root") == 0 && i + 1 < argc) {
			env.root = argv[++i];
		} else if (strncmp(a, "--root=", 7) == 0) {
			env.root = a + 7;
		} else if (strcmp(a, "--debug") == 0) {
			env.ctx.log_level = KILN_LOG_DEBUG;
		} else if (strcmp(a, "--version") == 0) {
			char *vargv[] = { (char *)"version", NULL };
			return cmd_version(1, vargv, &env);
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			print_commands(stdout);
			return CLI_EXIT_OK;
		} else {
			fprintf(stderr, "error: unknown option '%s'\n", a);
			print_commands(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		print_commands(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *name = argv[i];
	if (strcmp(name, "help") == 0) {
		if (i + 1 < argc) {
			for (const struct cli_command *c = cli_commands; c->name; c++)
				if (strcmp(c->name, argv[i + 1]) == 0) {
					char *hargv[] = { argv[i + 1], (char *)"--help", NULL };
					return c->fn(2, hargv, &env);
				}
		}
		print_commands(stdout);
		return CLI_EXIT_OK;
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);

	for (const struct cli_command *c = cli_commands; c->name; c++) {
		if (strcmp(c->name, name) != 0)
			continue;
		/* One malloc arena for every thread: kiln's threads (stages,
		 * hashing, gzip workers) allocate little and briefly, and an arena
		 * per thread kept ~1 MiB more resident in a build than the work
		 * needs. Set before any thread exists. */
		if (!(c->flags & CLI_ARENA_PER_THREAD))
			(void)mallopt(M_ARENA_MAX, 1);
		int rc = c->fn(argc - i, argv + i, &env);
		if (c->flags & CLI_SETTLES_LAYERS)
			settle_layers(&env);
		return rc;
	}
	fprintf(stderr, "error: '%s' is not a kiln command; see 'kiln help'\n", name);
	return CLI_EXIT_USAGE;
}
