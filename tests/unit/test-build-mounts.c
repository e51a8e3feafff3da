/* SPDX-License-Identifier: Apache-2.0 */
/*
 * build: RUN --mount resolved with BuildKit's defaults (targets, ids,
 * modes), the seeds and key lines of mounts, --secret/--ssh/--allow as
 * buildx parses them, the secrets a build reads, and the store's
 * cache-mount directories: instances per sharing mode, seeding, waiting,
 * listing and pruning.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/cachemount.h"
#include "build/mounts.h"
#include "store/store.h"
#include "tap.h"

/* ---- resolution ------------------------------------------------------------------ */

struct resolve_case {
	const char *name;
	struct kiln_df_mount m;
	const char *workdir;
	const char *ns;
	size_t ssh_index;
	/* expected: NULL error = success */
	const char *error;
	const char *target; /* "(null)" for none */
	const char *id;
	const char *source;
	const char *env;
	unsigned mode;
	enum kiln_cachemount_sharing sharing;
};

#define M(...) ((struct kiln_df_mount){ __VA_ARGS__ })

static const struct resolve_case resolve_cases[] = {
	{ .name = "cache: the id is the target",
	  .m = M(.type = KILN_DF_MOUNT_CACHE, .target = "/var/cache/apt/"),
	  .workdir = "/",
	  .target = "/var/cache/apt",
	  .id = "/var/cache/apt",
	  .source = "/",
	  .mode = 0755 },
	{ .name = "cache: a relative target is under WORKDIR, its id stays as written",
	  .m = M(.type = KILN_DF_MOUNT_CACHE, .target = "cache"),
	  .workdir = "/app",
	  .target = "/app/cache",
	  .id = "cache",
	  .source = "/",
	  .mode = 0755 },
	{ .name = "cache: id, namespace, sharing=locked",
	  .m = M(.type = KILN_DF_MOUNT_CACHE, .target = "/c", .id = "go",
		 .sharing = KILN_DF_SHARING_LOCKED),
	  .workdir = "/",
	  .ns = "ci",
	  .target = "/c",
	  .id = "ci/go",
	  .source = "/",
	  .mode = 0755,
	  .sharing = KILN_CACHEMOUNT_LOCKED },
	{ .name = "cache: sharing=private, mode, source",
	  .m = M(.type = KILN_DF_MOUNT_CACHE, .target = "/c", .sharing = KILN_DF_SHARING_PRIVATE,
		 .has_mode = 1, .mode = 0700, .source = "sub/../dir"),
	  .workdir = "/",
	  .target = "/c",
	  .id = "/c",
	  .source = "/dir",
	  .mode = 0700,
	  .sharing = KILN_CACHEMOUNT_PRIVATE },
	{ .name = "cache: no target in / is refused",
	  .m = M(.type = KILN_DF_MOUNT_CACHE),
	  .workdir = "/",
	  .error = "invalid mount target \"/\"" },
	{ .name = "secret: /run/secrets/<id>, mode 0400",
	  .m = M(.type = KILN_DF_MOUNT_SECRET, .id = "tok"),
	  .workdir = "/w",
	  .target = "/run/secrets/tok",
	  .id = "tok",
	  .mode = 0400 },
	{ .name = "secret: the id is the target's base name",
	  .m = M(.type = KILN_DF_MOUNT_SECRET, .target = "/etc/app/key.pem"),
	  .workdir = "/w",
	  .target = "/etc/app/key.pem",
	  .id = "key.pem",
	  .mode = 0400 },
	{ .name = "secret: source= is the id",
	  .m = M(.type = KILN_DF_MOUNT_SECRET, .source = "aws/creds"),
	  .workdir = "/",
	  .target = "/run/secrets/creds",
	  .id = "aws/creds",
	  .mode = 0400 },
	{ .name = "secret: env= alone is no file",
	  .m = M(.type = KILN_DF_MOUNT_SECRET, .id = "tok", .env = "TOKEN", .has_env = 1),
	  .workdir = "/",
	  .target = "(null)",
	  .id = "tok",
	  .env = "TOKEN",
	  .mode = 0400 },
	{ .name = "secret: env= and target= (relative: under WORKDIR), a mode",
	  .m = M(.type = KILN_DF_MOUNT_SECRET, .id = "tok", .env = "TOKEN", .has_env = 1,
		 .target = "tok.txt", .has_mode = 1, .mode = 0440),
	  .workdir = "/w",
	  .target = "/w/tok.txt",
	  .id = "tok",
	  .env = "TOKEN",
	  .mode = 0440 },
	{ .name = "secret: none of id, source, target",
	  .m = M(.type = KILN_DF_MOUNT_SECRET),
	  .workdir = "/",
	  .error = "one of source, target required" },
	{ .name = "ssh: the default agent at ssh_agent.<n>",
	  .m = M(.type = KILN_DF_MOUNT_SSH),
	  .workdir = "/w",
	  .ssh_index = 2,
	  .target = "/run/buildkit/ssh_agent.2",
	  .id = "default",
	  .mode = 0600 },
	{ .name = "ssh: an id and a target",
	  .m = M(.type = KILN_DF_MOUNT_SSH, .id = "gh", .target = "/s.sock"),
	  .workdir = "/w",
	  .target = "/s.sock",
	  .id = "gh",
	  .mode = 0600 },
	{ .name = "ssh: source= is refused",
	  .m = M(.type = KILN_DF_MOUNT_SSH, .source = "x"),
	  .workdir = "/",
	  .error = "ssh does not support source" },
	{ .name = "bind: source cleaned and rooted",
	  .m = M(.type = KILN_DF_MOUNT_BIND, .target = "src", .source = "./a//b", .from = "build"),
	  .workdir = "/app",
	  .target = "/app/src",
	  .id = "(null)",
	  .source = "/a/b" },
	{ .name = "tmpfs: a target",
	  .m = M(.type = KILN_DF_MOUNT_TMPFS, .target = "/tmp", .size = 1 << 20),
	  .workdir = "/",
	  .target = "/tmp",
	  .id = "(null)",
	  .source = "(null)" },
};

static void test_resolve(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(resolve_cases); i++) {
		const struct resolve_case *c = &resolve_cases[i];
		struct bb_mount_spec s;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = bb_mount_resolve(&c->m, c->workdir, c->ns, c->ssh_index, &s, &err);
		if (c->error) {
			TAP_OK(r < 0 && err.msg && !strcmp(err.msg, c->error), "%s (%s)", c->name,
			       err.msg ? err.msg : "no error");
			kiln_error_release(&err);
			continue;
		}
		int ok = r >= 0;
		ok = ok && !strcmp(s.target ? s.target : "(null)", c->target);
		ok = ok && !strcmp(s.id ? s.id : "(null)", c->id);
		if (c->source)
			ok = ok && !strcmp(s.source ? s.source : "(null)", c->source);
		ok = ok && !strcmp(s.env ? s.env : "(null)", c->env ? c->env : "(null)");
		ok = ok && s.mode == c->mode && s.sharing == c->sharing;
		if (!TAP_OK(ok, "%s", c->name))
			tap_diag("error %s; target %s id %s source %s env %s mode %o sharing %d",
				 err.msg ? err.msg : "-", s.target ? s.target : "-",
				 s.id ? s.id : "-", s.source ? s.source : "-", s.env ? s.env : "-",
				 s.mode, (int) s.sharing);
		kiln_error_release(&err);
		bb_mount_spec_release(&s);
	}
}

static void test_seed_and_key(void)
{
	struct kiln_error err = KILN_ERROR_INIT;
	struct bb_mount_spec s;
	struct kiln_df_mount m = M(.type = KILN_DF_MOUNT_CACHE, .target = "/c");
	if (bb_mount_resolve(&m, "/", NULL, 0, &s, &err) < 0)
		return (void) TAP_OK(0, "resolve: %s", err.msg);
	char *seed = bb_cache_seed(&s, NULL);
	TAP_STR_EQ(seed, "", "a plain cache starts empty");
	free(seed);
	seed = bb_cache_seed(&s, "stage:sha256:ab");
	TAP_STR_EQ(seed, "stage:sha256:ab:/", "from= seeds from the stage's root");
	free(seed);
	char *key = bb_mount_key_text(&s, &m, NULL);
	TAP_STR_EQ(key,
		   "cache id=/c sharing=shared from= source=/ target=/c rw=1 mode=755 uid=0 gid=0",
		   "a cache mount's key line: what it is, never what it holds");
	free(key);
	bb_mount_spec_release(&s);

	m = M(.type = KILN_DF_MOUNT_CACHE, .target = "/c", .has_uid = 1, .uid = 1000, .has_mode = 1,
	      .mode = 0700);
	if (bb_mount_resolve(&m, "/", NULL, 0, &s, &err) < 0)
		return (void) TAP_OK(0, "resolve: %s", err.msg);
	seed = bb_cache_seed(&s, NULL);
	TAP_STR_EQ(seed, "perm=700:1000:0", "mode/uid/gid without source= are part of the seed");
	free(seed);
	bb_mount_spec_release(&s);

	m = M(.type = KILN_DF_MOUNT_CACHE, .target = "/c", .from = "seed", .source = "/x",
	      .has_uid = 1, .uid = 7);
	if (bb_mount_resolve(&m, "/", NULL, 0, &s, &err) < 0)
		return (void) TAP_OK(0, "resolve: %s", err.msg);
	seed = bb_cache_seed(&s, "image:sha256:cd");
	TAP_STR_EQ(seed, "image:sha256:cd:/x", "with source=, BuildKit ignores uid/gid/mode");
	free(seed);
	bb_mount_spec_release(&s);

	m = M(.type = KILN_DF_MOUNT_SECRET, .id = "tok", .env = "T", .has_env = 1, .target = "/t",
	      .required = 1);
	if (bb_mount_resolve(&m, "/", NULL, 0, &s, &err) < 0)
		return (void) TAP_OK(0, "resolve: %s", err.msg);
	key = bb_mount_key_text(&s, &m, NULL);
	TAP_STR_EQ(key, "secret id=tok target=/t env=T required=1 mode=400 uid=0 gid=0",
		   "a secret mount's key line names the secret, never its value");
	free(key);
	bb_mount_spec_release(&s);

	m = M(.type = KILN_DF_MOUNT_BIND, .target = "/m", .source = "src", .readonly = 1);
	if (bb_mount_resolve(&m, "/", NULL, 0, &s, &err) < 0)
		return (void) TAP_OK(0, "resolve: %s", err.msg);
	key = bb_mount_key_text(&s, &m, "context:sha256:00");
	TAP_STR_EQ(key, "bind from=context:sha256:00 source=src target=/m rw=0 id= size=0",
		   "a bind mount's key line keeps its earlier form");
	free(key);
	bb_mount_spec_release(&s);
}

/* ---- --secret, --ssh, --allow ------------------------------------------------------------- */

struct secret_case {
	const char *spec;
	const char *id, *src, *env; /* "(null)" for none */
	const char *error;
};

static const struct secret_case secret_cases[] = {
	{ "id=a,src=/p", "a", "/p", "(null)", NULL },
	{ "id=a,source=/p", "a", "/p", "(null)", NULL },
	{ "ID=a,SRC=/p", "a", "/p", "(null)", NULL },
	{ "id=a,env=VAR", "a", "(null)", "VAR", NULL },
	{ "type=env,id=a,src=VAR", "a", "(null)", "VAR", NULL },
	{ "type=file,id=a,src=/p", "a", "/p", "(null)", NULL },
	{ "id=kiln_test_no_such_variable", "kiln_test_no_such_variable",
	  "kiln_test_no_such_variable", "(null)", NULL },
	{ "id=KILN_TEST_SECRET_VAR", "KILN_TEST_SECRET_VAR", "(null)", "KILN_TEST_SECRET_VAR",
	  NULL },
	{ "\"id=a,b\",src=/p", "a,b", "/p", "(null)", NULL },
	{ "src=/p", .error = "secret missing ID" },
	{ "id=a,type=bogus", .error = "unsupported secret type \"bogus\"" },
	{ "id=a,foo=b", .error = "unexpected key 'foo' in 'foo=b'" },
	{ "id=a,src", .error = "invalid field 'src' must be a key=value pair" },
	{ "id=\"a", .error = "failed to parse csv secret: bare \" in non-quoted-field" },
	{ "\"id=a",
	  .error = "failed to parse csv secret: extraneous or missing \" in quoted-field" },
};

static void test_secret_parse(void)
{
	(void) setenv("KILN_TEST_SECRET_VAR", "v", 1);
	for (size_t i = 0; i < KILN_ARRAY_SIZE(secret_cases); i++) {
		const struct secret_case *c = &secret_cases[i];
		struct kiln_build_secret s;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_build_secret_parse(c->spec, &s, &err);
		if (c->error) {
			TAP_OK(r == -KILN_EINVAL && err.msg && !strcmp(err.msg, c->error),
			       "--secret %s: %s", c->spec, err.msg ? err.msg : "no error");
		} else {
			int ok = r == 0 && !strcmp(s.id, c->id) &&
				 !strcmp(s.src ? s.src : "(null)", c->src) &&
				 !strcmp(s.env ? s.env : "(null)", c->env);
			if (!TAP_OK(ok, "--secret %s", c->spec))
				tap_diag("error %s", err.msg ? err.msg : "-");
			kiln_build_secret_release(&s);
		}
		kiln_error_release(&err);
	}
	(void) unsetenv("KILN_TEST_SECRET_VAR");

	struct kiln_build_ssh h;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_build_ssh_parse("default", &h, &err);
	TAP_OK(r == 0 && !strcmp(h.id, "default") && h.paths.len == 0,
	       "--ssh default: the agent of $SSH_AUTH_SOCK");
	kiln_build_ssh_release(&h);
	r = kiln_build_ssh_parse("gh=/a/key,/b/key", &h, &err);
	TAP_OK(r == 0 && !strcmp(h.id, "gh") && h.paths.len == 2 &&
		       !strcmp(h.paths.items[1], "/b/key"),
	       "--ssh gh=KEY,KEY: two key files");
	kiln_build_ssh_release(&h);
	r = kiln_build_ssh_parse("=/s.sock", &h, &err);
	TAP_OK(r == 0 && !strcmp(h.id, "default") && h.paths.len == 1,
	       "--ssh =SOCKET: the default id");
	kiln_build_ssh_release(&h);

	unsigned allow = 0;
	TAP_OK(kiln_build_allow_parse("security.insecure", &allow, &err) == 0 &&
		       kiln_build_allow_parse("network.host", &allow, &err) == 0 &&
		       allow ==
			       (KILN_BUILD_ALLOW_SECURITY_INSECURE | KILN_BUILD_ALLOW_NETWORK_HOST),
	       "--allow security.insecure and network.host");
	r = kiln_build_allow_parse("device", &allow, &err);
	TAP_OK(r == -KILN_EINVAL && strstr(err.msg, "invalid entitlement: device"),
	       "--allow of something else: %s", err.msg);
	kiln_error_release(&err);
}

/* ---- loading secrets ---------------------------------------------------------------------- */

static int warned;
static void count_warning(void *ud, const char *msg)
{
	(void) ud;
	warned += strstr(msg, "KILN_TEST_UNSET_VAR is not set") != NULL;
}

static void test_secret_load(const char *dir)
{
	char one[512], two[512], big[512];
	(void) snprintf(one, sizeof(one), "%s/one", dir);
	(void) snprintf(two, sizeof(two), "%s/two", dir);
	(void) snprintf(big, sizeof(big), "%s/big", dir);
	struct kiln_error err = KILN_ERROR_INIT;
	if (kiln_write_file_atomic(one, "first", 5, 0600, &err) < 0 ||
	    kiln_write_file_atomic(two, "sec\0ond", 7, 0600, &err) < 0)
		return (void) TAP_OK(0, "writing secrets: %s", err.msg);
	(void) setenv("KILN_TEST_SECRET_ENV", "from-env", 1);
	struct kiln_build_secret v[] = {
		{ .id = "a", .src = one },
		{ .id = "b", .env = "KILN_TEST_SECRET_ENV" },
		{ .id = "a", .src = two },
		{ .id = "c", .env = "KILN_TEST_UNSET_VAR" },
	};
	struct bb_secrets s;
	int r = bb_secrets_load(v, KILN_ARRAY_SIZE(v), &s, count_warning, NULL, &err);
	TAP_OK(r == 0 && s.n == 3, "three secrets read (%s)", err.msg ? err.msg : "");
	const struct bb_secret *a = bb_secrets_find(&s, "a");
	TAP_OK(a && a->len == 7 && !memcmp(a->data, "sec\0ond", 7),
	       "a later --secret of the same id wins, bytes as they are");
	const struct bb_secret *b = bb_secrets_find(&s, "b");
	TAP_OK(b && b->len == 8 && !memcmp(b->data, "from-env", 8), "a secret from a variable");
	const struct bb_secret *c = bb_secrets_find(&s, "c");
	TAP_OK(c && c->len == 0 && warned == 1,
	       "an unset variable is an empty secret, with a warning (as BuildKit)");
	TAP_OK(!bb_secrets_find(&s, "d"), "an id not given is not found");
	bb_secrets_release(&s);
	(void) unsetenv("KILN_TEST_SECRET_ENV");

	int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	TAP_OK(fd >= 0 && ftruncate(fd, (off_t) KILN_BUILD_MAX_SECRET_SIZE + 1) == 0,
	       "a file of 500 KiB + 1");
	if (fd >= 0)
		(void) close(fd);
	struct kiln_build_secret bv = { .id = "big", .src = big };
	r = bb_secrets_load(&bv, 1, &s, NULL, NULL, &err);
	TAP_OK(r == -KILN_ELIMIT && !strcmp(err.msg, "secret big too big. max size 500KB"),
	       "a secret over 500 KB: %s", err.msg);
	kiln_error_release(&err);
	struct kiln_build_secret dv = { .id = "d", .src = (char *) dir };
	r = bb_secrets_load(&dv, 1, &s, NULL, NULL, &err);
	TAP_OK(r < 0 && strstr(err.msg, "is a directory"), "a directory: %s", err.msg);
	kiln_error_release(&err);
	struct kiln_build_secret mv = { .id = "m", .src = "/nonexistent/secret" };
	r = bb_secrets_load(&mv, 1, &s, NULL, NULL, &err);
	TAP_OK(r < 0 && strstr(err.msg, "failed to stat /nonexistent/secret"), "a missing file: %s",
	       err.msg);
	kiln_error_release(&err);
}

/* ---- the store's cache mounts ----------------------------------------------------------- */

static int seeded;
static int seed_file(void *ud, int dir_fd, struct kiln_error *err)
{
	(void) ud;
	seeded++;
	return kiln_write_file_atomic_at(dir_fd, "seed", "s", 1, 0644, err);
}

static int seed_fails(void *ud, int dir_fd, struct kiln_error *err)
{
	(void) ud;
	(void) dir_fd;
	return kiln_fail(err, KILN_EIO, 0, "the seed failed");
}

struct release_on_wait {
	struct kiln_cachemount **held;
	int called;
};

static void release_holder(void *ud)
{
	struct release_on_wait *w = ud;
	w->called++;
	kiln_cachemount_release(*w->held);
	*w->held = NULL;
}

static int acquire(struct kiln_store *st, const char *id, enum kiln_cachemount_sharing sh,
		   struct kiln_cachemount **ret)
{
	struct kiln_cachemount_spec cs = { .id = id, .sharing = sh };
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_cachemount_acquire(NULL, st, &cs, ret, &err);
	if (r < 0)
		tap_diag("acquire %s: %s", id, err.msg);
	kiln_error_release(&err);
	return r;
}

static void test_cachemounts(const char *root)
{
	struct kiln_error err = KILN_ERROR_INIT;
	char k1[65], k2[65], k3[65];
	TAP_OK(kiln_cachemount_key("a", NULL, k1, &err) == 0 &&
		       kiln_cachemount_key("a", "", k2, &err) == 0 &&
		       kiln_cachemount_key("a", "stage:x:/", k3, &err) == 0 && strlen(k1) == 64 &&
		       !strcmp(k1, k2) && strcmp(k1, k3),
	       "a cache's key: its id and its seed");
	TAP_OK(kiln_cachemount_key("", NULL, k1, &err) == -KILN_EINVAL, "an empty id is refused");
	kiln_error_release(&err);

	struct kiln_store *st = NULL;
	if (kiln_store_open(NULL, root, 0, &st, &err) < 0)
		return (void) TAP_OK(0, "opening a store: %s", err.msg);

	struct kiln_cachemount *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	TAP_OK(acquire(st, "pkg", KILN_CACHEMOUNT_SHARED, &a) == 0 &&
		       acquire(st, "pkg", KILN_CACHEMOUNT_SHARED, &b) == 0 &&
		       !strcmp(kiln_cachemount_path(a), kiln_cachemount_path(b)) &&
		       kiln_cachemount_instance(a) == 0,
	       "shared users at once: the same directory");
	TAP_OK(acquire(st, "pkg", KILN_CACHEMOUNT_PRIVATE, &c) == 0 &&
		       kiln_cachemount_instance(c) == 1,
	       "private while it is in use: a new instance");
	if (c)
		(void) kiln_write_file_atomic_at(kiln_cachemount_fd(c), "mine", "", 0, 0644, &err);
	kiln_cachemount_release(a);
	kiln_cachemount_release(b);
	kiln_cachemount_release(c);
	TAP_OK(acquire(st, "pkg", KILN_CACHEMOUNT_PRIVATE, &a) == 0 &&
		       kiln_cachemount_instance(a) == 0,
	       "private when nothing is in use: the cache itself");
	TAP_OK(acquire(st, "pkg", KILN_CACHEMOUNT_LOCKED, &b) == 0 &&
		       kiln_cachemount_instance(b) == 1 &&
		       faccessat(kiln_cachemount_fd(b), "mine", F_OK, 0) == 0,
	       "locked takes a free instance first, and finds what it held");
	TAP_OK(acquire(st, "pkg", KILN_CACHEMOUNT_SHARED, &c) == 0 &&
		       kiln_cachemount_instance(c) == 2,
	       "shared while every instance is locked: another one");
	kiln_cachemount_release(a);
	kiln_cachemount_release(b);
	kiln_cachemount_release(c);
	a = b = c = NULL;

	/* locked waits for the holder: here the wait itself lets it go */
	struct kiln_cachemount *held = NULL;
	TAP_OK(acquire(st, "one", KILN_CACHEMOUNT_PRIVATE, &held) == 0, "a private holder");
	struct release_on_wait w = { .held = &held };
	struct kiln_cachemount_spec ls = { .id = "one",
					   .sharing = KILN_CACHEMOUNT_LOCKED,
					   .on_wait = release_holder,
					   .wait_userdata = &w };
	int r = kiln_cachemount_acquire(NULL, st, &ls, &d, &err);
	TAP_OK(r == 0 && w.called == 1 && kiln_cachemount_instance(d) == 0,
	       "locked waits for the instance in use, then takes it (%s)", err.msg ? err.msg : "");
	atomic_int cancel = 1;
	struct kiln_ctx ctx = { .cancel = &cancel };
	r = kiln_cachemount_acquire(
		&ctx, st,
		&(struct kiln_cachemount_spec){ .id = "one", .sharing = KILN_CACHEMOUNT_LOCKED },
		&a, &err);
	TAP_OK(r == -KILN_ECANCEL, "an interrupt ends the wait");
	kiln_error_release(&err);

	/* new instances: created with the spec's owner and mode, seeded once */
	struct kiln_cachemount_spec ss = { .id = "seeded",
					   .seed = "stage:k:/",
					   .mode = 0750,
					   .uid = 1234,
					   .gid = 99,
					   .seed_fn = seed_file };
	r = kiln_cachemount_acquire(NULL, st, &ss, &b, &err);
	struct stat sb;
	TAP_OK(r == 0 && seeded == 1 && fstat(kiln_cachemount_fd(b), &sb) == 0 &&
		       (sb.st_mode & 07777) == 0750 && sb.st_uid == 1234 && sb.st_gid == 99 &&
		       faccessat(kiln_cachemount_fd(b), "seed", F_OK, 0) == 0,
	       "a new instance: its owner and mode, then the seed");
	kiln_cachemount_release(b);
	r = kiln_cachemount_acquire(NULL, st, &ss, &b, &err);
	TAP_OK(r == 0 && seeded == 1, "an existing instance is not seeded again");
	kiln_cachemount_release(b);
	ss.id = "broken";
	ss.seed_fn = seed_fails;
	r = kiln_cachemount_acquire(NULL, st, &ss, &b, &err);
	TAP_OK(r == -KILN_EIO && !strcmp(err.msg, "the seed failed"),
	       "a seed that fails: the error, and no instance");
	kiln_error_release(&err);

	struct kiln_cachemount_info *v = NULL;
	size_t n = 0;
	r = kiln_cachemount_list(st, &v, &n, &err);
	TAP_OK(r == 0 && n == 3 && !strcmp(v[0].id, "one") && !strcmp(v[1].id, "pkg") &&
		       v[1].n_instances == 3 && !strcmp(v[2].id, "seeded") &&
		       !strcmp(v[2].seed, "stage:k:/"),
	       "list: every cache with its id, seed and instances (the failed one is not one)");
	kiln_cachemount_info_free(v, n);

	/* prune: what is in use stays */
	struct kiln_cachemount_prune_report rep;
	r = kiln_cachemount_prune(st, NULL, KILN_CACHEMOUNT_PRUNE_DRY_RUN, &rep, &err);
	TAP_OK(r == 0 && rep.removed == 4 && rep.busy == 1, "a dry run counts (%zu, %zu busy)",
	       rep.removed, rep.busy);
	r = kiln_cachemount_prune(st, "seeded", 0, &rep, &err);
	TAP_OK(r == 0 && rep.removed == 1 && rep.busy == 0 && rep.bytes > 0,
	       "prune of one id removes its instances");
	r = kiln_cachemount_prune(st, NULL, 0, &rep, &err);
	TAP_OK(r == 0 && rep.removed == 3 && rep.busy == 1, "prune keeps the instance in use");
	r = kiln_cachemount_list(st, &v, &n, &err);
	TAP_OK(r == 0 && n == 1 && !strcmp(v[0].id, "one"), "only the cache in use is left");
	kiln_cachemount_info_free(v, n);
	kiln_cachemount_release(d);
	r = kiln_cachemount_prune(st, NULL, 0, &rep, &err);
	r = r == 0 ? kiln_cachemount_list(st, &v, &n, &err) : r;
	TAP_OK(r == 0 && n == 0, "once released, it goes too");
	kiln_cachemount_info_free(v, n);
	kiln_error_release(&err);
	kiln_store_close(st);
}

int main(void)
{
	char dir[] = "/tmp/kiln-test-build-mounts.XXXXXX";
	if (!mkdtemp(dir)) {
		TAP_OK(0, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	test_resolve();
	test_seed_and_key();
	test_secret_parse();
	test_secret_load(dir);
	char root[600];
	(void) snprintf(root, sizeof(root), "%s/store", dir);
	if (geteuid() == 0)
		test_cachemounts(root);
	else
		tap_skip("needs root (chown of new instances)", "cache mounts in a store");
	struct kiln_error err = KILN_ERROR_INIT;
	(void) kiln_rm_rf(dir, &err);
	kiln_error_release(&err);
	return tap_done();
}
