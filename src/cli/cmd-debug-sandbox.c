/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>

#include "cli.h"
#include "exec/exec.h"
#include "snapshot/snapshot.h"
#include "store/store.h"

static const char *arg_network;
static const char *arg_user;
static const char *arg_workdir;
static const char *arg_hostname;
static int arg_interactive;
static int arg_tty;
static int arg_read_only;
static int arg_no_init;
static struct kiln_strv arg_env = KILN_STRV_INIT;
static struct kiln_strv arg_volumes = KILN_STRV_INIT;
static struct kiln_strv arg_tmpfs = KILN_STRV_INIT;
static struct kiln_strv arg_files = KILN_STRV_INIT;
static struct kiln_strv arg_cap_add = KILN_STRV_INIT;
static struct kiln_strv arg_cap_drop = KILN_STRV_INIT;
static struct kiln_strv arg_layers = KILN_STRV_INIT;
static int arg_scratch;
static const char *arg_commit;
static const char *arg_compress;

static const struct cli_spec spec = {
	.usage = "kiln debug sandbox [--network none|host] [-u USER] [-w DIR] [-e K=V]... "
		 "[-v HOST:DIR[:ro]]... [--tmpfs DIR[:OPTS]]... [--file PATH=HOSTFILE]... [-it] "
		 "(ROOTFS | --layer TAR... | --scratch) [--commit TAR] [--] CMD [ARG...]",
	.summary = "Run CMD in kiln's sandbox, with the directory ROOTFS as its root filesystem\n"
		   "or an overlay of layers unpacked into the store's snapshots.",
	.flags = CLI_PARSE_STOP_AT_POSITIONAL,
	.opts =
		(const struct cli_opt[]){
			{ "network", 0, CLI_OPT_STRING, &arg_network, "MODE",
			  "none (default: only lo) or host" },
			{ "user", 'u', CLI_OPT_STRING, &arg_user, "USER",
			  "name, uid, name:group or uid:gid, from ROOTFS's /etc/passwd and "
			  "/etc/group" },
			{ "workdir", 'w', CLI_OPT_STRING, &arg_workdir, "DIR",
			  "working directory (created when missing)" },
			{ "env", 'e', CLI_OPT_LIST, &arg_env, "K=V",
			  "set a variable (K alone: take it from kiln's environment)" },
			{ "hostname", 0, CLI_OPT_STRING, &arg_hostname, "NAME",
			  "hostname (default: kiln)" },
			{ "volume", 'v', CLI_OPT_LIST, &arg_volumes, "HOST:DIR[:ro]",
			  "bind a host path" },
			{ "tmpfs", 0, CLI_OPT_LIST, &arg_tmpfs, "DIR[:OPTS]",
			  "mount a tmpfs (noexec,nosuid,nodev unless OPTS say exec, suid, dev;"
			  " size=N[kmg], mode=OCTAL, uid=N, gid=N, ro)" },
			{ "file", 0, CLI_OPT_LIST, &arg_files, "PATH=HOSTFILE",
			  "show HOSTFILE's content at PATH without writing it to ROOTFS" },
			{ "interactive", 'i', CLI_OPT_FLAG, &arg_interactive, NULL,
			  "keep stdin open" },
			{ "tty", 't', CLI_OPT_FLAG, &arg_tty, NULL, "allocate a terminal" },
			{ "read-only", 0, CLI_OPT_FLAG, &arg_read_only, NULL,
			  "mount ROOTFS read-only" },
			{ "no-init", 0, CLI_OPT_FLAG, &arg_no_init, NULL,
			  "the command is pid 1 (as a build's RUN), not kiln's init" },
			{ "cap-add", 0, CLI_OPT_LIST, &arg_cap_add, "CAPS",
			  "add capabilities (or ALL)" },
			{ "cap-drop", 0, CLI_OPT_LIST, &arg_cap_drop, "CAPS",
			  "drop capabilities (or ALL)" },
			{ "layer", 0, CLI_OPT_LIST, &arg_layers, "TAR",
			  "a layer (tar, any compression), bottom first: the root is their "
			  "overlay" },
			{ "scratch", 0, CLI_OPT_FLAG, &arg_scratch, NULL,
			  "the root is an empty overlay (FROM scratch)" },
			{ "commit", 0, CLI_OPT_STRING, &arg_commit, "TAR",
			  "with --layer/--scratch: write what CMD changed as a layer to TAR" },
			{ "compress", 0, CLI_OPT_STRING, &arg_compress, "ALGO",
			  "compression of --commit: none (default), gzip or zstd" },
			{ 0 } },
	.details =
		"Needs root. Exits with CMD's status (128+N when killed by signal N), 125 when\n"
		"the sandbox could not be set up, 126 when CMD cannot be executed, 127 when it\n"
		"is not found, 2 on usage errors. Layers are unpacked once under the store root\n"
		"(--root, KILN_ROOT) and reused; --commit prints the layer's diff_id and digest.",
};

static int caps_of(const struct kiln_strv *lists, uint64_t *ret, struct cli_env *env)
{
	*ret = 0;
	for (size_t i = 0; i < lists->len; i++) {
		struct kiln_error err = KILN_ERROR_INIT;
		uint64_t c;
		if (kiln_exec_caps_parse(lists->items[i], &c, &err) < 0) {
			(void) cli_report(env, &err);
			return -1;
		}
		*ret |= c;
	}
	return 0;
}

/* Unpack each --layer (its diff_id computed first) and mount them. */
static int mount_layers(struct cli_env *env, struct kiln_snapshotter *sn,
			struct kiln_snapshot_mount **ret, struct kiln_error *err)
{
	cleanup_free struct kiln_digest *chain =
		kiln_calloc(arg_layers.len ? arg_layers.len : 1, sizeof(*chain));
	if (!chain)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = 0; i < arg_layers.len; i++) {
		const char *path = arg_layers.items[i];
		cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return kiln_fail_errno(err, "opening layer %s", path);
		struct kiln_layer_read_opts ro = { .ctx = &env->ctx };
		struct kiln_layer_digests dg;
		int r = kiln_layer_digest_fd(fd, &ro, &dg, err);
		if (r < 0)
			return kiln_error_prefix(err, r, "reading layer %s", path);
		if (lseek(fd, 0, SEEK_SET) < 0)
			return kiln_fail_errno(err, "rewinding %s", path);
		r = kiln_snapshot_unpack(sn, &dg.diff_id, fd, &dg.digest, err);
		if (r < 0)
			return kiln_error_prefix(err, r, "%s", path);
		chain[i] = dg.diff_id;
	}
	return kiln_snapshot_mount(sn, chain, arg_layers.len, 0, ret, err);
}

static int run_layered(struct cli_env *env, struct kiln_exec_spec *s, enum kiln_compression comp)
{
	cleanup(kiln_snapshotter_freep) struct kiln_snapshotter *sn = NULL;
	cleanup(kiln_snapshot_mount_releasep) struct kiln_snapshot_mount *m = NULL;
	cleanup_free char *root = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = env->root ? 0 : kiln_store_default_root(&root, &err);
	if (r >= 0)
		r = kiln_snapshotter_open(&env->ctx, env->root ? env->root : root, &sn, &err);
	if (r >= 0)
		r = mount_layers(env, sn, &m, &err);
	if (r < 0) {
		(void) cli_report(env, &err);
		return CLI_RUN_EXIT_FAILED;
	}
	s->rootfs_fd = kiln_snapshot_mount_fd(m);
	int code = cli_run_sandbox(env, s);
	if (!arg_commit)
		return code;

	cleanup_close int out = open(arg_commit, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	if (out < 0) {
		r = kiln_fail_errno(&err, "creating %s", arg_commit);
	} else {
		struct kiln_layer_write_opts wo = { .compression = comp, .ctx = &env->ctx };
		struct kiln_layer_digests dg;
		r = kiln_snapshot_commit(m, out, &wo, &dg, &err);
		if (r >= 0 && fsync(out) < 0)
			r = kiln_fail_errno(&err, "writing %s", arg_commit);
		if (r >= 0)
			fprintf(stderr, "committed %s: diff_id %s digest %s\n", arg_commit,
				dg.diff_id.str, dg.digest.str);
	}
	if (r < 0) {
		(void) cli_report(env, &err);
		return CLI_RUN_EXIT_FAILED;
	}
	return code;
}

int cmd_debug_sandbox(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv envv = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv own = KILN_STRV_INIT;
	cleanup_free struct kiln_exec_mount *mounts = NULL;
	cleanup_free struct kiln_exec_file *files = NULL;
	struct kiln_exec_spec s = KILN_EXEC_SPEC_INIT;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	int layered = arg_layers.len > 0 || arg_scratch;
	size_t cmd = layered ? 0 : 1;
	if (!layered && pos.len < 1)
		return cli_usage_error(&spec, "missing ROOTFS");
	if (arg_layers.len && arg_scratch)
		return cli_usage_error(&spec, "--scratch and --layer exclude each other");
	if ((arg_commit || arg_compress) && !layered)
		return cli_usage_error(&spec, "--commit needs --layer or --scratch");
	if (cmd < pos.len && strcmp(pos.items[cmd], "--") == 0)
		cmd++;
	if (cmd >= pos.len)
		return cli_usage_error(&spec, "missing CMD");
	enum kiln_compression comp = KILN_COMPRESSION_NONE;
	if (arg_compress) {
		struct kiln_error err = KILN_ERROR_INIT;
		if (kiln_compression_parse(arg_compress, &comp, &err) < 0 ||
		    (comp != KILN_COMPRESSION_NONE && comp != KILN_COMPRESSION_GZIP &&
		     comp != KILN_COMPRESSION_ZSTD)) {
			kiln_error_release(&err);
			return cli_usage_error(&spec, "--compress is none, gzip or zstd, not '%s'",
					       arg_compress);
		}
	}

	s.rootfs = layered ? NULL : pos.items[0];
	s.argv = pos.items + cmd;
	if (!arg_network || strcmp(arg_network, "none") == 0)
		s.network = KILN_EXEC_NET_NONE;
	else if (strcmp(arg_network, "host") == 0)
		s.network = KILN_EXEC_NET_HOST;
	else
		return cli_usage_error(&spec, "--network is none or host, not '%s'", arg_network);

	if (kiln_strv_push(&envv, "PATH=" CLI_RUN_DEFAULT_PATH) < 0 ||
	    (arg_tty && kiln_strv_push(&envv, "TERM=xterm") < 0)) {
		fputs("error: out of memory\n", stderr);
		return CLI_EXIT_FAIL;
	}
	for (size_t i = 0; i < arg_env.len; i++) {
		if (arg_env.items[i][0] == '=' || arg_env.items[i][0] == '\0')
			return cli_usage_error(&spec, "--env wants K=V, not '%s'",
					       arg_env.items[i]);
		if (cli_run_env_add(&envv, arg_env.items[i]) < 0) {
			fputs("error: out of memory\n", stderr);
			return CLI_EXIT_FAIL;
		}
	}
	s.env = envv.items;

	size_t nm = arg_volumes.len + arg_tmpfs.len;
	mounts = kiln_calloc(nm ? nm : 1, sizeof(*mounts));
	files = kiln_calloc(arg_files.len ? arg_files.len : 1, sizeof(*files));
	if (!mounts || !files) {
		fputs("error: out of memory\n", stderr);
		return CLI_EXIT_FAIL;
	}
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
	for (size_t i = 0; i < arg_files.len; i++) {
		const char *a = arg_files.items[i];
		const char *eq = strchr(a, '=');
		if (!eq || eq == a || !eq[1])
			return cli_usage_error(&spec, "--file wants PATH=HOSTFILE, not '%s'", a);
		char *data = NULL;
		size_t len = 0;
		struct kiln_error err = KILN_ERROR_INIT;
		if (kiln_read_file(eq + 1, KILN_EXEC_MAX_FILE_SIZE, &data, &len, &err) < 0)
			return cli_report(env, &err);
		if (kiln_strv_push_owned(&own, data) < 0 ||
		    kiln_strv_pushn(&own, a, (size_t) (eq - a)) < 0) {
			fputs("error: out of memory\n", stderr);
			return CLI_EXIT_FAIL;
		}
		files[i] = (struct kiln_exec_file){
			.path = own.items[own.len - 1],
			.data = own.items[own.len - 2],
			.len = len,
		};
	}
	s.files = files;
	s.n_files = arg_files.len;

	uint64_t add, drop;
	if (caps_of(&arg_cap_add, &add, env) < 0 || caps_of(&arg_cap_drop, &drop, env) < 0)
		return CLI_RUN_EXIT_FAILED;
	s.caps_add = add;
	s.caps_drop = drop;
	s.user = arg_user;
	s.cwd = arg_workdir;
	s.hostname = arg_hostname;
	s.stdin_fd = arg_interactive ? STDIN_FILENO : -1;
	s.stdout_fd = STDOUT_FILENO;
	s.stderr_fd = STDERR_FILENO;
	if (arg_tty)
		s.flags |= KILN_EXEC_TTY;
	if (arg_read_only)
		s.flags |= KILN_EXEC_READONLY_ROOT;
	s.flags |= KILN_EXEC_CONTAINER_FILES; /* /etc/hostname too, as kiln run */
	if (!arg_no_init)
		s.flags |= KILN_EXEC_INIT;
	if (!layered)
		return cli_run_sandbox(env, &s);
	return run_layered(env, &s, comp);
}
