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
#include "snapshot/snapshot.h"
#include "store/store.h"

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
	/* CONTAINER[:OPTIONS], docker's defaults noexec, nosuid, nodev */
	const char *colon = strchr(arg, ':');
	size_t tlen = colon ? (size_t) (colon - arg) : strlen(arg);
	if (arg[0] != '/' || tlen == 0)
		return "a tmpfs is an absolute CONTAINER path with options size=N, mode=OCTAL, ro";
	*ret = (struct kiln_exec_mount){ .type = KILN_EXEC_MOUNT_TMPFS,
					 .flags = KILN_EXEC_MOUNT_NOEXEC };
	static const struct {
		const char *name;
		unsigned set, clear;
	} switches[] = {
		{ "ro", KILN_EXEC_MOUNT_RO, 0 },	{ "rw", 0, KILN_EXEC_MOUNT_RO },
		{ "exec", 0, KILN_EXEC_MOUNT_NOEXEC },	{ "noexec", KILN_EXEC_MOUNT_NOEXEC, 0 },
		{ "suid", KILN_EXEC_MOUNT_SUID, 0 },	{ "nosuid", 0, KILN_EXEC_MOUNT_SUID },
		{ "dev", KILN_EXEC_MOUNT_DEV, 0 },	{ "nodev", 0, KILN_EXEC_MOUNT_DEV },
	};
	const char *o = colon ? colon + 1 : "";
	while (*o) {
		size_t len = strcspn(o, ",");
		char opt[64];
		if (len >= sizeof(opt))
			return "tmpfs option too long";
		memcpy(opt, o, len);
		opt[len] = '\0';
		size_t k = 0;
		while (k < KILN_ARRAY_SIZE(switches) && strcmp(opt, switches[k].name))
			k++;
		if (k < KILN_ARRAY_SIZE(switches)) {
			ret->flags = (ret->flags | switches[k].set) & ~switches[k].clear;
		} else if (!strncmp(opt, "uid=", 4) || !strncmp(opt, "gid=", 4)) {
			char *end = NULL;
			errno = 0;
			unsigned long id = strtoul(opt + 4, &end, 10);
			if (!opt[4] || *end || errno || id > UINT32_MAX - 1 || opt[4] == '-')
				return "tmpfs uid= and gid= are numbers";
			if (opt[0] == 'u')
				ret->uid = (uid_t) id;
			else
				ret->gid = (gid_t) id;
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
			return "tmpfs options are size=N, mode=OCTAL, uid=N, gid=N, ro, rw, exec, "
			       "noexec, suid, nosuid, dev and nodev";
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

/* ---- kiln run ------------------------------------------------------------ */

static int arg_rm;
static int arg_interactive;
static int arg_tty;
static int arg_read_only;
static const char *arg_network;
static const char *arg_user;
static const char *arg_workdir;
static const char *arg_entrypoint;
static const char *arg_name;
static const char *arg_hostname;
static struct kiln_strv arg_env = KILN_STRV_INIT;
static struct kiln_strv arg_volumes = KILN_STRV_INIT;
static struct kiln_strv arg_tmpfs = KILN_STRV_INIT;
static struct kiln_strv arg_cap_add = KILN_STRV_INIT;
static struct kiln_strv arg_cap_drop = KILN_STRV_INIT;
static struct kiln_strv arg_add_hosts = KILN_STRV_INIT;
static struct kiln_strv arg_ulimits = KILN_STRV_INIT;
static const char *arg_shm_size;

static const struct cli_spec spec = {
	.usage = "kiln run [--rm] [-it] [-e K=V]... [-v HOST:CONTAINER[:ro]]... "
		 "[--network host|none] [--add-host NAME:IP]... [--ulimit L]... [--shm-size S] "
		 "[-u USER] [-w DIR] "
		 "[--entrypoint E] [--name N] "
		 "IMAGE [CMD...]",
	.summary = "Run a command in a new sandbox over an image from the store, on a throwaway\n"
		   "writable layer (like docker run --rm).",
	.flags = CLI_PARSE_STOP_AT_POSITIONAL,
	.opts =
		(const struct cli_opt[]){
			{ "rm", 0, CLI_OPT_FLAG, &arg_rm, NULL,
			  "remove the sandbox when it exits (always so; kept for docker's "
			  "command lines)" },
			{ "interactive", 'i', CLI_OPT_FLAG, &arg_interactive, NULL,
			  "keep stdin open" },
			{ "tty", 't', CLI_OPT_FLAG, &arg_tty, NULL, "allocate a terminal" },
			{ "env", 'e', CLI_OPT_LIST, &arg_env, "K=V",
			  "set a variable (K alone: take it from kiln's environment)" },
			{ "volume", 'v', CLI_OPT_LIST, &arg_volumes, "HOST:CONTAINER[:ro]",
			  "bind a host path" },
			{ "tmpfs", 0, CLI_OPT_LIST, &arg_tmpfs, "DIR[:OPTS]",
			  "mount a tmpfs (noexec,nosuid,nodev unless OPTS say exec, suid, dev;"
			  " size=N[kmg], mode=OCTAL, uid=N, gid=N, ro)" },
			{ "network", 0, CLI_OPT_STRING, &arg_network, "MODE",
			  "host (default: kiln has no bridge network) or none (only lo)" },
			{ "user", 'u', CLI_OPT_STRING, &arg_user, "USER",
			  "name, uid, name:group or uid:gid (default: the image's User)" },
			{ "workdir", 'w', CLI_OPT_STRING, &arg_workdir, "DIR",
			  "working directory (default: the image's WorkingDir)" },
			{ "entrypoint", 0, CLI_OPT_STRING, &arg_entrypoint, "E",
			  "replace the image's Entrypoint (and drop its Cmd)" },
			{ "name", 0, CLI_OPT_STRING, &arg_name, "NAME",
			  "a name for the sandbox, used as its hostname" },
			{ "hostname", 0, CLI_OPT_STRING, &arg_hostname, "NAME",
			  "hostname (default: --name, or 12 random hex digits)" },
			{ "add-host", 0, CLI_OPT_LIST, &arg_add_hosts, "NAME:IP",
			  "an /etc/hosts entry (IP may be host-gateway)" },
			{ "ulimit", 0, CLI_OPT_LIST, &arg_ulimits, "NAME=SOFT[:HARD]",
			  "a resource limit (nofile=1024:2048)" },
			{ "shm-size", 0, CLI_OPT_STRING, &arg_shm_size, "SIZE",
			  "the size of /dev/shm (default 64m)" },
			{ "read-only", 0, CLI_OPT_FLAG, &arg_read_only, NULL,
			  "mount the image's root filesystem read-only" },
			{ "cap-add", 0, CLI_OPT_LIST, &arg_cap_add, "CAPS",
			  "add capabilities (or ALL)" },
			{ "cap-drop", 0, CLI_OPT_LIST, &arg_cap_drop, "CAPS",
			  "drop capabilities (or ALL)" },
			{ 0 } },
	.details =
		"The command is the image's Entrypoint followed by CMD (or the image's Cmd when\n"
		"no CMD is given), with its Env, WorkingDir and User unless flags say\n"
		"otherwise. Exits with the command's status (128+N when killed by signal N),\n"
		"125 when it could not be run, 126 when it cannot be executed, 127 when it is\n"
		"not found, 2 on usage errors. Needs root.",
};

static int valid_name(const char *n)
{
	/* docker's rule for container names */
	if (!isalnum((unsigned char) n[0]) || !n[1])
		return 0;
	for (const char *c = n + 1; *c; c++)
		if (!isalnum((unsigned char) *c) && *c != '_' && *c != '.' && *c != '-')
			return 0;
	return strlen(n) <= KILN_EXEC_MAX_HOSTNAME;
}

/* "K=V": replace the entry with the same K, or append (docker's
 * ReplaceOrAppendEnvValues). */
static int env_set(struct kiln_strv *env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t) (eq - kv) : strlen(kv);
	for (size_t i = 0; i < env->len; i++) {
		if (strncmp(env->items[i], kv, klen) == 0 && env->items[i][klen] == '=') {
			char *n = kiln_strdup(kv);
			if (!n)
				return -1;
			free(env->items[i]);
			env->items[i] = n;
			return 0;
		}
	}
	return kiln_strv_push(env, kv);
}

/* --add-host's entries, parsed */
struct host_list {
	struct kiln_exec_host *v;
	size_t n;
};

static void host_list_release(struct host_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		kiln_exec_host_release(&l->v[i]);
	free(l->v);
}

static int random_hostname(char out[13])
{
	unsigned char raw[6];
	FILE *f = fopen("/dev/urandom", "re");
	if (!f)
		return -1;
	size_t n = fread(raw, 1, sizeof(raw), f);
	fclose(f);
	if (n != sizeof(raw))
		return -1;
	for (size_t i = 0; i < sizeof(raw); i++)
		(void) snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* What docker runs: Entrypoint + Cmd, with the flags' overrides. */
static int build_argv(const struct kiln_oci_runconfig *rc, char **cmd, size_t n_cmd,
		      struct kiln_strv *argv)
{
	if (arg_entrypoint) {
		/* --entrypoint is one word; "" removes the image's */
		if (*arg_entrypoint && kiln_strv_push(argv, arg_entrypoint) < 0)
			return -1;
	} else {
		for (size_t i = 0; i < rc->entrypoint.len; i++)
			if (kiln_strv_push(argv, rc->entrypoint.items[i]) < 0)
				return -1;
	}
	if (n_cmd) {
		for (size_t i = 0; i < n_cmd; i++)
			if (kiln_strv_push(argv, cmd[i]) < 0)
				return -1;
	} else if (!arg_entrypoint) {
		/* a new entrypoint drops the image's Cmd, as docker does */
		for (size_t i = 0; i < rc->cmd.len; i++)
			if (kiln_strv_push(argv, rc->cmd.items[i]) < 0)
				return -1;
	}
	return 0;
}

static int oom(void)
{
	fputs("error: out of memory\n", stderr);
	return CLI_RUN_EXIT_FAILED;
}

static int fail(struct cli_env *env, struct kiln_error *err)
{
	(void) cli_report(env, err);
	return CLI_RUN_EXIT_FAILED;
}

int cmd_run(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv envv = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv pargv = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv own = KILN_STRV_INIT;
	cleanup_free struct kiln_exec_mount *mounts = NULL;
	cleanup(host_list_release) struct host_list hosts = { 0 };
	cleanup_free struct kiln_digest *chain = NULL;
	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *cfg = NULL;
	cleanup(kiln_snapshotter_freep) struct kiln_snapshotter *sn = NULL;
	cleanup(kiln_snapshot_mount_releasep) struct kiln_snapshot_mount *m = NULL;
	struct kiln_exec_spec s = KILN_EXEC_SPEC_INIT;
	struct kiln_error err = KILN_ERROR_INIT;

	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len < 1)
		return cli_usage_error(&spec, "missing IMAGE");
	/* -it from a pipe would echo the input back through the terminal: docker refuses it */
	if (arg_tty && arg_interactive && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "error: the input device is not a TTY (drop -t to pipe input)\n");
		return CLI_EXIT_FAIL;
	}
	if (!arg_network || strcmp(arg_network, "host") == 0)
		s.network = KILN_EXEC_NET_HOST;
	else if (strcmp(arg_network, "none") == 0)
		s.network = KILN_EXEC_NET_NONE;
	else
		return cli_usage_error(&spec,
				       "--network is host or none, not '%s' (kiln has no bridge "
				       "network)",
				       arg_network);
	if (arg_name && !valid_name(arg_name))
		return cli_usage_error(&spec, "invalid name '%s': [a-zA-Z0-9][a-zA-Z0-9_.-]+",
				       arg_name);
	for (size_t i = 0; i < arg_env.len; i++)
		if (arg_env.items[i][0] == '=' || arg_env.items[i][0] == '\0')
			return cli_usage_error(&spec, "--env wants K=V, not '%s'",
					       arg_env.items[i]);
	size_t nm = arg_volumes.len + arg_tmpfs.len;
	mounts = kiln_calloc(nm ? nm : 1, sizeof(*mounts));
	if (!mounts)
		return oom();
	for (size_t i = 0; i < arg_volumes.len; i++) {
		const char *msg =
			cli_run_parse_volume(arg_volumes.items[i], &own, &mounts[s.n_mounts]);
		if (msg)
			return cli_usage_error(&spec, "%s: '%s'", msg, arg_volumes.items[i]);
		s.n_mounts++;
	}
	for (size_t i = 0; i < arg_tmpfs.len; i++) {
		const char *msg =
			cli_run_parse_tmpfs(arg_tmpfs.items[i], &own, &mounts[s.n_mounts]);
		if (msg)
			return cli_usage_error(&spec, "%s: '%s'", msg, arg_tmpfs.items[i]);
		s.n_mounts++;
	}
	s.mounts = mounts;
	if (arg_add_hosts.len > KILN_EXEC_MAX_HOSTS)
		return cli_usage_error(&spec, "at most %d --add-host", KILN_EXEC_MAX_HOSTS);
	hosts.v = kiln_calloc(arg_add_hosts.len + 1, sizeof(*hosts.v));
	if (!hosts.v)
		return oom();
	for (; hosts.n < arg_add_hosts.len; hosts.n++)
		if (kiln_exec_host_parse(arg_add_hosts.items[hosts.n], &hosts.v[hosts.n], &err) < 0)
			return cli_flag_error(env, &spec, "--add-host", &err);
	s.hosts = hosts.v;
	s.n_hosts = hosts.n;
	struct kiln_exec_rlimit ulimits[KILN_EXEC_MAX_RLIMITS];
	if (arg_ulimits.len > KILN_EXEC_MAX_RLIMITS)
		return cli_usage_error(&spec, "at most %d --ulimit", KILN_EXEC_MAX_RLIMITS);
	for (size_t i = 0; i < arg_ulimits.len; i++)
		if (kiln_exec_rlimit_parse(arg_ulimits.items[i], &ulimits[i], &err) < 0)
			return cli_flag_error(env, &spec, "--ulimit", &err);
	s.rlimits = ulimits;
	s.n_rlimits = arg_ulimits.len;
	if (arg_shm_size && kiln_exec_size_parse(arg_shm_size, &s.shm_size, &err) < 0)
		return cli_flag_error(env, &spec, "--shm-size", &err);
	for (size_t i = 0; i < arg_cap_add.len; i++) {
		uint64_t c;
		if (kiln_exec_caps_parse(arg_cap_add.items[i], &c, &err) < 0)
			return fail(env, &err);
		s.caps_add |= c;
	}
	for (size_t i = 0; i < arg_cap_drop.len; i++) {
		uint64_t c;
		if (kiln_exec_caps_parse(arg_cap_drop.items[i], &c, &err) < 0)
			return fail(env, &err);
		s.caps_drop |= c;
	}

	/* the image */
	const char *image = pos.items[0];
	struct kiln_digest manifest;
	r = kiln_store_open(&env->ctx, env->root, 0, &st, &err);
	if (r >= 0)
		r = kiln_store_resolve(st, image, &manifest, &err);
	if (r == -KILN_ENOTFOUND) {
		kiln_error_release(&err);
		fprintf(stderr, "error: no image '%s' in the store (see 'kiln images')\n", image);
		return CLI_RUN_EXIT_FAILED;
	}
	if (r < 0)
		return fail(env, &err);
	cleanup(kiln_store_image_freep) struct kiln_store_image *img = NULL;
	r = kiln_store_image_get(st, &manifest, &img, &err);
	if (r >= 0)
		r = kiln_store_config_read(st, &img->config, &cfg, &err);
	if (r < 0)
		return fail(env, &err);
	if (cfg->platform.os && strcmp(cfg->platform.os, "linux") != 0) {
		fprintf(stderr, "error: image '%s' is for %s, not linux\n", image,
			cfg->platform.os);
		return CLI_RUN_EXIT_FAILED;
	}
	struct kiln_oci_platform host = { 0 };
	if (kiln_oci_platform_host(&host, NULL) >= 0 && cfg->platform.architecture &&
	    host.architecture && strcmp(cfg->platform.architecture, host.architecture) != 0)
		cli_warn(env, "image '%s' is for %s, this machine is %s", image,
			 cfg->platform.architecture, host.architecture);
	kiln_oci_platform_release(&host);

	/* its layers, unpacked once, under a throwaway upper */
	size_t n = 0;
	r = kiln_snapshotter_open(&env->ctx, kiln_store_root(st), &sn, &err);
	if (r >= 0)
		r = kiln_snapshot_unpack_image(sn, st, &manifest, &chain, &n, &err);
	if (r >= 0)
		r = kiln_snapshot_mount(sn, chain, n, 0, &m, &err);
	if (r < 0)
		return fail(env, &err);
	/* the store is not needed while the command runs: let prune work */
	kiln_store_close(steal_ptr(&st));

	/* the process */
	const struct kiln_oci_runconfig *rc = &cfg->config;
	if (build_argv(rc, pos.items + 1, pos.len - 1, &pargv) < 0)
		return oom();
	if (pargv.len == 0) {
		fprintf(stderr,
			"error: no command: image '%s' has no Entrypoint or Cmd and none "
			"was given\n",
			image);
		return CLI_RUN_EXIT_FAILED;
	}
	/* --network host, asked for: the host's name and /etc/hosts, as docker
	 * gives them (kiln's default network is the host's too, but named as
	 * docker's default network names a container) */
	int host_net = arg_network && !strcmp(arg_network, "host");
	char hostname[KILN_EXEC_MAX_HOSTNAME + 1];
	if (arg_hostname)
		(void) snprintf(hostname, sizeof(hostname), "%s", arg_hostname);
	else if (arg_name)
		(void) snprintf(hostname, sizeof(hostname), "%s", arg_name);
	else if (!(host_net && gethostname(hostname, sizeof(hostname)) == 0 && *hostname) &&
		 random_hostname(hostname) < 0)
		(void) snprintf(hostname, sizeof(hostname), "kiln");
	hostname[sizeof(hostname) - 1] = '\0';
	cleanup_free char *host_hosts = NULL;
	struct kiln_exec_file hosts_file;
	if (host_net) {
		size_t len = 0;
		if (kiln_read_file("/etc/hosts", 1 << 20, &host_hosts, &len, &err) < 0)
			return fail(env, &err);
		struct kiln_buf b = KILN_BUF_INIT;
		int q = kiln_buf_add(&b, host_hosts, len);
		if (q >= 0 && len && host_hosts[len - 1] != '\n')
			q = kiln_buf_addch(&b, '\n');
		for (size_t i = 0; q >= 0 && i < hosts.n; i++)
			q = kiln_buf_addf(&b, "%s\t%s\n", hosts.v[i].ip, hosts.v[i].name);
		free(host_hosts);
		host_hosts = q >= 0 ? kiln_buf_detach(&b, &len) : NULL;
		kiln_buf_release(&b);
		if (!host_hosts)
			return oom();
		hosts_file = (struct kiln_exec_file){ .path = "/etc/hosts", .data = host_hosts,
						      .len = len, .mode = 0644 };
		s.files = &hosts_file;
		s.n_files = 1;
	}
	char *hostvar = kiln_asprintf("HOSTNAME=%s", hostname);
	if (!hostvar || kiln_strv_push(&envv, "PATH=" CLI_RUN_DEFAULT_PATH) < 0 ||
	    kiln_strv_push_owned(&envv, hostvar) < 0 ||
	    (arg_tty && kiln_strv_push(&envv, "TERM=xterm") < 0))
		return oom();
	for (size_t i = 0; i < rc->env.len; i++)
		if (strchr(rc->env.items[i], '=') && env_set(&envv, rc->env.items[i]) < 0)
			return oom();
	for (size_t i = 0; i < arg_env.len; i++)
		if (cli_run_env_add(&envv, arg_env.items[i]) < 0)
			return oom();

	s.rootfs_fd = kiln_snapshot_mount_fd(m);
	s.argv = pargv.items;
	s.env = envv.items;
	s.user = arg_user ? arg_user : (rc->user && *rc->user ? rc->user : NULL);
	s.cwd = arg_workdir ? arg_workdir
			    : (rc->working_dir && *rc->working_dir ? rc->working_dir : NULL);
	s.hostname = hostname;
	s.stdin_fd = arg_interactive ? STDIN_FILENO : -1;
	s.stdout_fd = STDOUT_FILENO;
	s.stderr_fd = STDERR_FILENO;
	if (arg_tty)
		s.flags |= KILN_EXEC_TTY;
	if (arg_read_only)
		s.flags |= KILN_EXEC_READONLY_ROOT;
	/* groups, exec checks and /etc files as docker run's; kiln's init as pid 1
	 * (docker run --init), so that ^C and docker stop's SIGTERM end the
	 * command whether or not it handles them */
	s.flags |= KILN_EXEC_CONTAINER_USER | KILN_EXEC_CONTAINER_FILES | KILN_EXEC_INIT;
	(void) arg_rm;
	return cli_run_sandbox(env, &s);
}
