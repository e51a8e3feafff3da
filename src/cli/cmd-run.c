/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "exec/exec.h"

/* ---- what `kiln run` and `kiln debug sandbox` share ---------------------- */

const char *cli_run_parse_volume(const char *arg, struct kiln_strv *own,
				 struct kiln_exec_mount *ret)
{
	/* HOST:CONTAINER[:ro|rw] */
	const char *c1 = strchr(arg, ':');
	if (!c1)
		return "a volume is HOST:CONTAINER[:ro]";
	const char *c2 = strchr(c1 + 1, ':');
	size_t hlen = (size_t) (c1 - arg);
	size_t clen = c2 ? (size_t) (c2 - c1 - 1) : strlen(c1 + 1);
	if (hlen == 0 || clen == 0)
		return "a volume is HOST:CONTAINER[:ro]";
	if (arg[0] != '/')
		return "the host path of a volume must be absolute (kiln has no named volumes)";
	if (c1[1] != '/')
		return "the container path of a volume must be absolute";
	unsigned flags = 0;
	if (c2) {
		const char *o = c2 + 1;
		if (strcmp(o, "ro") == 0)
			flags = KILN_EXEC_MOUNT_RO;
		else if (strcmp(o, "rw") != 0)
			return "volume options are ro or rw";
	}
	if (kiln_strv_pushn(own, arg, hlen) < 0 || kiln_strv_pushn(own, c1 + 1, clen) < 0)
		return "out of memory";
	*ret = (struct kiln_exec_mount){
		.type = KILN_EXEC_MOUNT_BIND,
		.source = own->items[own->len - 2],
		.target = own->items[own->len - 1],
		.flags = flags,
	};
	return NULL;
}

static int parse_size(const char *s, uint64_t *ret)
{
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	uint64_t mul = 1;
	switch (tolower((unsigned char) *end)) {
	case '\0':
		break;
	case 'k':
		mul = 1ULL << 10;
		break;
	case 'm':
		mul = 1ULL << 20;
		break;
	case 'g':
		mul = 1ULL << 30;
		break;
	default:
		return -1;
	}
	if (*end && end[1] && !(tolower((unsigned char) end[1]) == 'b' && !end[2]))
		return -1;
	if (v > UINT64_MAX / mul)
		return -1;
	*ret = v * mul;
	return 0;
}

const char *cli_run_parse_tmpfs(const char *arg, struct kiln_strv *own, struct kiln_exec_mount *ret)
{
	/* CONTAINER[:size=N,mode=M,ro,rw] */
	const char *colon = strchr(arg, ':');
	size_t tlen = colon ? (size_t) (colon - arg) : strlen(arg);
	if (arg[0] != '/' || tlen == 0)
		return "a tmpfs is an absolute CONTAINER path with options size=N, mode=OCTAL, ro";
	*ret = (struct kiln_exec_mount){ .type = KILN_EXEC_MOUNT_TMPFS };
	const char *o = colon ? colon + 1 : "";
	while (*o) {
		size_t len = strcspn(o, ",");
		char opt[64];
		if (len >= sizeof(opt))
			return "tmpfs option too long";
		memcpy(opt, o, len);
		opt[len] = '\0';
		if (strcmp(opt, "ro") == 0) {
			ret->flags |= KILN_EXEC_MOUNT_RO;
		} else if (strcmp(opt, "rw") == 0) {
			ret->flags &= ~(unsigned) KILN_EXEC_MOUNT_RO;
		} else if (strncmp(opt, "size=", 5) == 0) {
			if (parse_size(opt + 5, &ret->size) < 0)
				return "tmpfs size is a number with an optional k, m or g";
		} else if (strncmp(opt, "mode=", 5) == 0) {
			char *end = NULL;
			unsigned long m = strtoul(opt + 5, &end, 8);
			if (!opt[5] || *end || m > 07777)
				return "tmpfs mode is octal, at most 7777";
			ret->mode = (mode_t) m;
		} else if (len) {
			return "tmpfs options are size=N, mode=OCTAL, ro and rw";
		}
		o += len;
		if (*o == ',')
			o++;
	}
	if (kiln_strv_pushn(own, arg, tlen) < 0)
		return "out of memory";
	ret->target = own->items[own->len - 1];
	return NULL;
}

int cli_run_env_add(struct kiln_strv *env, const char *arg)
{
	/* K=V sets; K alone takes the caller's value, or is dropped */
	const char *eq = strchr(arg, '=');
	size_t klen = eq ? (size_t) (eq - arg) : strlen(arg);
	char *val = NULL;
	if (!eq) {
		const char *v = getenv(arg);
		if (!v)
			return 0;
		val = kiln_asprintf("%s=%s", arg, v);
		if (!val)
			return -1;
	}
	for (size_t i = 0; i < env->len; i++) {
		if (strncmp(env->items[i], arg, klen) == 0 && env->items[i][klen] == '=') {
			char *n = val ? val : kiln_strdup(arg);
			if (!n)
				return -1;
			free(env->items[i]);
			env->items[i] = n;
			return 0;
		}
	}
	if (val)
		return kiln_strv_push_owned(env, val);
	return kiln_strv_push(env, arg);
}

int cli_run_sandbox(struct cli_env *env, struct kiln_exec_spec *spec)
{
	struct termios saved;
	int raw = 0;
	if ((spec->flags & KILN_EXEC_TTY) && spec->stdin_fd >= 0 && isatty(spec->stdin_fd) &&
	    tcgetattr(spec->stdin_fd, &saved) == 0) {
		/* the terminal inside does the line editing and echo */
		struct termios t = saved;
		cfmakeraw(&t);
		raw = tcsetattr(spec->stdin_fd, TCSANOW, &t) == 0;
	}
	spec->flags |= KILN_EXEC_FORWARD_SIGNALS;
	struct kiln_exec_status st;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_exec_run(&env->ctx, spec, &st, &err);
	if (raw)
		(void) tcsetattr(spec->stdin_fd, TCSANOW, &saved);
	if (r < 0) {
		/* docker's convention: 127 not found, 126 not executable, 125 the rest */
		int code = CLI_RUN_EXIT_FAILED;
		if (r == -KILN_ENOTFOUND && err.sys_errno == ENOENT)
			code = CLI_RUN_EXIT_NOT_FOUND;
		else if (r == -KILN_ECHILD)
			code = CLI_RUN_EXIT_NOT_EXECUTABLE;
		(void) cli_report(env, &err);
		return code;
	}
	return kiln_exec_status_exit_code(&st);
}
