/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layer module, hostile archives. Each case is a crafted tar applied to a
 * fresh root next to an "outside" directory holding a secret file; after
 * every case the outside directory must be exactly as it was (same entries,
 * same content, the secret's link count still 1), whatever the result.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/base.h"
#include "layer/layer.h"
#include "layer-util.h"
#include "tap.h"

static char *base_dir, *root, *outside, *secret;

#define ENTRY(...) tb_file(t, &(struct tb_hdr){ __VA_ARGS__ }, NULL, 0)
#define FILEC(n, c) tb_file(t, &(struct tb_hdr){ .name = (n), .type = '0' }, (c), strlen(c))

static void h_dotdot(struct tb *t)
{
	FILEC("../outside/pwned", "x");
}

static void h_dotdot_inner(struct tb *t)
{
	FILEC("a/../../outside/pwned", "x");
}

static void h_dotdot_pax(struct tb *t)
{
	tb_pax(t, 'x', (const struct tb_rec[]){ { "path", "ok/../../../outside/pwned", 0 } }, 1);
	FILEC("harmless", "x");
}

static void h_dotdot_gnu(struct tb *t)
{
	tb_gnu_long(t, 'L', "../../outside/pwned");
	FILEC("harmless", "x");
}

/* '..' that stays inside the root: cleaned, as containerd and BuildKit do */
static void h_dotdot_inside(struct tb *t)
{
	FILEC("rel/../up.txt", "up");
	FILEC("a/b", "ab");
	ENTRY(.name = "hl", .type = '1', .link = "x/../a/b");
}

/* filled in main: absolute paths of the outside directory and secret */
static char abs_outside[4096], abs_secret[4096];

static void h_symlink_then_write(struct tb *t)
{
	ENTRY(.name = "evil", .type = '2', .link = abs_outside);
	FILEC("evil/pwned", "x");
}

static void h_symlink_dotdot_then_write(struct tb *t)
{
	ENTRY(.name = "up", .type = '2', .link = "../../../../../../../../..");
	FILEC("up/escaped", "contained");
}

static void h_symlink_then_replace(struct tb *t)
{
	ENTRY(.name = "s", .type = '2', .link = abs_secret);
	FILEC("s", "replaced, not written through");
}

static void h_symlink_chain(struct tb *t)
{
	ENTRY(.name = "d1", .type = '2', .link = "d2");
	ENTRY(.name = "d2", .type = '2', .link = abs_outside);
	FILEC("d1/pwned", "x");
}

static void h_hardlink_dotdot(struct tb *t)
{
	ENTRY(.name = "h", .type = '1', .link = "../outside/secret");
}

static void h_hardlink_abs(struct tb *t)
{
	ENTRY(.name = "h", .type = '1', .link = abs_secret);
}

static void h_hardlink_via_symlink(struct tb *t)
{
	ENTRY(.name = "sl", .type = '2', .link = abs_outside);
	ENTRY(.name = "h", .type = '1', .link = "sl/secret");
}

static void h_hardlink_later(struct tb *t)
{
	ENTRY(.name = "h", .type = '1', .link = "later");
	FILEC("later", "x");
}

static void h_hardlink_dir(struct tb *t)
{
	ENTRY(.name = "d/", .type = '5', .mode = 0755);
	ENTRY(.name = "h", .type = '1', .link = "d");
}

static void h_hardlink_self(struct tb *t)
{
	ENTRY(.name = "h", .type = '1', .link = "./h");
}

static void h_whiteout_dot(struct tb *t)
{
	FILEC("sub/.wh..", "");
}

static void h_whiteout_dotdot(struct tb *t)
{
	FILEC("sub/.wh...", "");
}

static void h_whiteout_empty(struct tb *t)
{
	FILEC(".wh.", "");
}

static void h_whiteout_through_symlink(struct tb *t)
{
	ENTRY(.name = "d", .type = '2', .link = abs_outside);
	FILEC("d/.wh.secret", "");
}

static void h_opaque_through_symlink(struct tb *t)
{
	ENTRY(.name = "d", .type = '2', .link = abs_outside);
	FILEC("d/.wh..wh..opq", "");
}

static void h_symlink_loop(struct tb *t)
{
	ENTRY(.name = "a", .type = '2', .link = "b");
	ENTRY(.name = "b", .type = '2', .link = "a");
	FILEC("a/x", "x");
}

static void h_parent_is_file(struct tb *t)
{
	FILEC("f", "file");
	FILEC("f/child", "x");
}

static void h_absolute(struct tb *t)
{
	FILEC("/abs/file", "stripped");
	FILEC("//./abs//./two", "cleaned");
}

static void h_root_entry(struct tb *t)
{
	ENTRY(.name = "./", .type = '5', .mode = 0700);
	ENTRY(.name = "/", .type = '5', .mode = 0700);
}

static void h_huge_size(struct tb *t)
{
	tb_header(t, &(struct tb_hdr){ .name = "huge", .type = '0', .size = 077777777777 });
	tb_raw(t, "only a little", 13);
}

static void h_many_entries(struct tb *t)
{
	for (int i = 0; i < 50; i++) {
		char n[16];
		snprintf(n, sizeof(n), "e%d", i);
		FILEC(n, "");
	}
}

static void h_overlay_xattr(struct tb *t)
{
	tb_pax(t, 'x',
	       (const struct tb_rec[]){ { "SCHILY.xattr.trusted.overlay.redirect", "/etc", 0 },
					{ "SCHILY.xattr.trusted.overlay.opaque", "y", 0 } },
	       2);
	ENTRY(.name = "dir/", .type = '5', .mode = 0755);
}

static void h_long_component(struct tb *t)
{
	char name[400];
	memset(name, 'n', 300);
	name[300] = '\0';
	tb_gnu_long(t, 'L', name);
	FILEC("x", "x");
}

/* After a case: checks beyond "outside is untouched". */
static int expect_exists(const char *rel, const char *content)
{
	char *p = path_join(root, rel);
	char *data = NULL;
	int ok = kiln_read_file(p, 1 << 16, &data, NULL, NULL) == 0 && !strcmp(data, content);
	free(data);
	free(p);
	return ok;
}

static int after_contained(void)
{
	return expect_exists("escaped", "contained");
}

static int after_dotdot_inside(void)
{
	char *a = path_join(root, "a/b"), *h = path_join(root, "hl"), *rel = path_join(root, "rel");
	struct stat sa, sh;
	int ok = stat(a, &sa) == 0 && stat(h, &sh) == 0 && sa.st_ino == sh.st_ino &&
		 !path_exists(rel);
	free(a);
	free(h);
	free(rel);
	return ok && expect_exists("up.txt", "up");
}

static int after_replaced(void)
{
	struct stat st;
	char *p = path_join(root, "s");
	int ok = lstat(p, &st) == 0 && S_ISREG(st.st_mode);
	free(p);
	return ok && expect_exists("s", "replaced, not written through");
}

static int after_absolute(void)
{
	return expect_exists("abs/file", "stripped") && expect_exists("abs/two", "cleaned");
}

static int after_root_entry(void)
{
	struct stat st;
	return stat(root, &st) == 0 && (st.st_mode & 07777) == 0755;
}

static int after_overlay_xattr(void)
{
	char *p = path_join(root, "dir");
	char v[8];
	int ok = path_exists(p) && getxattr(p, "trusted.overlay.opaque", v, sizeof(v)) < 0 &&
		 getxattr(p, "trusted.overlay.redirect", v, sizeof(v)) < 0;
	free(p);
	return ok;
}

struct hcase {
	const char *what;
	void (*build)(struct tb *);
	int rc;
	const char *msg; /* substring of the error */
	int (*after)(void);
	struct kiln_layer_limits limits;
};

static const struct hcase cases[] = {
	{ "'..' in a name", h_dotdot, -KILN_EPARSE, "'..'", NULL, { 0 } },
	{ "'..' inside a name", h_dotdot_inner, -KILN_EPARSE, "'..'", NULL, { 0 } },
	{ "'..' in a PAX path", h_dotdot_pax, -KILN_EPARSE, "'..'", NULL, { 0 } },
	{ "'..' in a GNU long name", h_dotdot_gnu, -KILN_EPARSE, "'..'", NULL, { 0 } },
	{ "'..' that stays inside: cleaned",
	  h_dotdot_inside,
	  0,
	  NULL,
	  after_dotdot_inside,
	  { 0 } },
	{ "write through an absolute symlink to the host",
	  h_symlink_then_write,
	  -KILN_EINVAL,
	  "does not lead to a directory inside the root",
	  NULL,
	  { 0 } },
	{ "write through a '..' symlink stays in the root",
	  h_symlink_dotdot_then_write,
	  0,
	  NULL,
	  after_contained,
	  { 0 } },
	{ "a file replaces a symlink to a host file",
	  h_symlink_then_replace,
	  0,
	  NULL,
	  after_replaced,
	  { 0 } },
	{ "write through a symlink chain to the host",
	  h_symlink_chain,
	  -KILN_EINVAL,
	  "inside the root",
	  NULL,
	  { 0 } },
	{ "hardlink with '..'", h_hardlink_dotdot, -KILN_EPARSE, "leaves the root", NULL, { 0 } },
	{ "hardlink to an absolute host path",
	  h_hardlink_abs,
	  -KILN_ENOTFOUND,
	  "does not exist",
	  NULL,
	  { 0 } },
	{ "hardlink through a symlink to the host",
	  h_hardlink_via_symlink,
	  -KILN_ENOTFOUND,
	  "does not exist",
	  NULL,
	  { 0 } },
	{ "hardlink to a later entry",
	  h_hardlink_later,
	  -KILN_ENOTFOUND,
	  "'later' does not exist",
	  NULL,
	  { 0 } },
	{ "hardlink to a directory",
	  h_hardlink_dir,
	  -KILN_EINVAL,
	  "hardlink to directory",
	  NULL,
	  { 0 } },
	{ "hardlink to itself", h_hardlink_self, -KILN_EINVAL, "itself", NULL, { 0 } },
	{ "whiteout of '.'", h_whiteout_dot, -KILN_EPARSE, "invalid whiteout", NULL, { 0 } },
	{ "whiteout of '..'", h_whiteout_dotdot, -KILN_EPARSE, "invalid whiteout", NULL, { 0 } },
	{ "whiteout without a name",
	  h_whiteout_empty,
	  -KILN_EPARSE,
	  "invalid whiteout",
	  NULL,
	  { 0 } },
	{ "whiteout through a symlink to the host",
	  h_whiteout_through_symlink,
	  -KILN_EINVAL,
	  "inside the root",
	  NULL,
	  { 0 } },
	{ "opaque marker through a symlink to the host",
	  h_opaque_through_symlink,
	  -KILN_EINVAL,
	  "inside the root",
	  NULL,
	  { 0 } },
	{ "symlink loop",
	  h_symlink_loop,
	  -KILN_EINVAL,
	  "too many levels of symlinks",
	  NULL,
	  { 0 } },
	{ "a file as a parent directory",
	  h_parent_is_file,
	  -KILN_EINVAL,
	  "not a directory",
	  NULL,
	  { 0 } },
	{ "absolute names made relative", h_absolute, 0, NULL, after_absolute, { 0 } },
	{ "entries for the root itself are skipped",
	  h_root_entry,
	  0,
	  NULL,
	  after_root_entry,
	  { 0 } },
	{ "declared size larger than the data",
	  h_huge_size,
	  -KILN_EPARSE,
	  "truncated data",
	  NULL,
	  { 0 } },
	{ "declared size over the limit",
	  h_huge_size,
	  -KILN_ELIMIT,
	  "exceeds the limit",
	  NULL,
	  { .max_entry_size = 1 << 20 } },
	{ "too many entries",
	  h_many_entries,
	  -KILN_ELIMIT,
	  "more than 40 entries",
	  NULL,
	  { .max_entries = 40 } },
	{ "overlay xattrs in a layer are not applied",
	  h_overlay_xattr,
	  0,
	  NULL,
	  after_overlay_xattr,
	  { 0 } },
	{ "a name component longer than NAME_MAX",
	  h_long_component,
	  -KILN_ELIMIT,
	  "longer than 255 bytes",
	  NULL,
	  { 0 } },
};

static char *outside_state(void)
{
	struct kiln_buf b = KILN_BUF_INIT;
	char *out = NULL;
	if (kiln_buf_addstr(&b, "") < 0)
		return NULL;
	int fd = open(outside, O_RDONLY | O_DIRECTORY);
	int ok = fd >= 0;
	struct stat st;
	char *data = NULL;
	if (ok && stat(secret, &st) == 0 && kiln_read_file(secret, 1024, &data, NULL, NULL) == 0)
		ok = kiln_buf_addf(&b, "secret nlink=%lu size=%lld [%s];",
				   (unsigned long) st.st_nlink, (long long) st.st_size, data) == 0;
	free(data);
	if (fd >= 0)
		close(fd);
	/* entries of the outside directory */
	int dfd = open(outside, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		DIR *d = fdopendir(dfd);
		struct dirent *de;
		struct kiln_strv names = KILN_STRV_INIT;
		while (d && (de = readdir(d)))
			if (kiln_strv_push(&names, de->d_name) < 0)
				ok = 0;
		if (d)
			closedir(d);
		for (size_t i = 1; i < names.len; i++)
			for (size_t j = i; j > 0 && strcmp(names.items[j - 1], names.items[j]) > 0;
			     j--) {
				char *tmp = names.items[j];
				names.items[j] = names.items[j - 1];
				names.items[j - 1] = tmp;
			}
		for (size_t i = 0; i < names.len; i++)
			if (kiln_buf_addf(&b, "%s,", names.items[i]) < 0)
				ok = 0;
		kiln_strv_release(&names);
	}
	out = ok ? kiln_buf_detach(&b, NULL) : NULL;
	kiln_buf_release(&b);
	return out;
}

static void run_case(const struct hcase *c, const char *before)
{
	remove_tree(root);
	mkdir(root, 0755);
	struct tb t = { 0 };
	c->build(&t);
	tb_end(&t);
	struct kiln_layer_apply_opts o = { .limits = &c->limits, .uid = -1, .gid = -1 };
	struct kiln_error err = KILN_ERROR_INIT;
	int r = apply_tb(&t, root, &o, NULL, &err);
	int ok = r == c->rc;
	if (ok && c->msg)
		ok = err.msg && strstr(err.msg, c->msg) && strstr(err.msg, "tar entry");
	if (ok && c->after)
		ok = c->after();
	if (!ok)
		tap_diag("rc %d (want %d): %s", r, c->rc, err.msg ? err.msg : "(no error)");
	TAP_OK(ok, "%s", c->what);
	char *now = outside_state();
	TAP_STR_EQ(now, before, "  ... and nothing outside the root changed");
	free(now);
	kiln_error_release(&err);
	tb_free(&t);
}

/* Reading with check_names refuses what an unpack would: names, and hard
 * link targets, that leave the root; a '..' that stays inside passes. */
static void test_check_names(void)
{
	static const struct {
		void (*build)(struct tb *);
		int rc;
		const char *what;
	} cs[] = {
		{ h_dotdot, -KILN_EPARSE, "check_names: ../x" },
		{ h_dotdot_inner, -KILN_EPARSE, "check_names: a/../../x" },
		{ h_dotdot_pax, -KILN_EPARSE, "check_names: a pax path leaving the root" },
		{ h_dotdot_gnu, -KILN_EPARSE, "check_names: a GNU long name leaving the root" },
		{ h_dotdot_inside, 0, "check_names: '..' that stays inside passes" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cs); i++) {
		struct tb t = { 0 };
		cs[i].build(&t);
		tb_end(&t);
		int fd = mem_fd(t.data, t.len);
		struct kiln_layer_read_opts ro = { .check_names = 1 };
		struct kiln_layer_digests dg;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = fd >= 0 ? kiln_layer_digest_fd(fd, &ro, &dg, &err) : -1;
		int plain = -1;
		if (fd >= 0 && lseek(fd, 0, SEEK_SET) == 0)
			plain = kiln_layer_digest_fd(fd, NULL, &dg, NULL);
		TAP_OK(r == cs[i].rc && plain == 0 &&
			       (!cs[i].rc || (err.msg && strstr(err.msg, "leaves the root"))),
		       "%s (%s)", cs[i].what, err.msg ? err.msg : "accepted");
		kiln_error_release(&err);
		if (fd >= 0)
			close(fd);
		tb_free(&t);
	}
	struct tb tt = { 0 };
	struct tb *t = &tt;
	FILEC("a", "x");
	ENTRY(.name = "hl", .type = '1', .link = "../../etc/passwd");
	tb_end(t);
	int fd = mem_fd(tt.data, tt.len);
	struct kiln_layer_read_opts ro = { .check_names = 1 };
	struct kiln_layer_digests dg;
	struct kiln_error err = KILN_ERROR_INIT;
	TAP_OK(fd >= 0 && kiln_layer_digest_fd(fd, &ro, &dg, &err) == -KILN_EPARSE && err.msg &&
		       strstr(err.msg, "hard link's target leaves the root"),
	       "check_names: a hard link to ../../etc/passwd");
	kiln_error_release(&err);
	if (fd >= 0)
		close(fd);
	tb_free(t);
}

/* Device nodes as a user who may not make them: refused, or skipped when asked. */
static void test_devices_unprivileged(void)
{
	if (geteuid() != 0) {
		tap_skip("not root (cannot switch users)", "device node as an unprivileged user");
		tap_skip("not root (cannot switch users)", "device node skipped when asked");
		return;
	}
	static const unsigned flags[] = { 0, KILN_APPLY_SKIP_DEVICES };
	for (int k = 0; k < 2; k++) {
		remove_tree(root);
		mkdir(root, 0755);
		(void) !chown(root, 65534, 65534);
		pid_t pid = fork();
		if (pid == 0) {
			if (setgid(65534) < 0 || setuid(65534) < 0)
				_exit(3);
			struct tb tt = { 0 };
			struct tb *t = &tt;
			ENTRY(.name = "null", .type = '3', .devmajor = 1, .devminor = 3,
			      .mode = 0666);
			FILEC("after", "a");
			tb_end(t);
			struct kiln_layer_apply_opts o = { .flags = flags[k],
							   .uid = -1,
							   .gid = -1 };
			struct kiln_layer_apply_result res = { 0 };
			struct kiln_error err = KILN_ERROR_INIT;
			int r = apply_tb(t, root, &o, &res, &err);
			if (flags[k] == 0)
				_exit(r == -KILN_EUNSUPP && strstr(err.msg, "needs root") ? 0 : 1);
			_exit(r == 0 && res.skipped == 1 && res.entries == 1 ? 0 : 2);
		}
		int status = 0;
		waitpid(pid, &status, 0);
		TAP_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		       k == 0 ? "device node as an unprivileged user: refused clearly"
			      : "device node skipped when asked (KILN_APPLY_SKIP_DEVICES)");
	}
}

int main(void)
{
	base_dir = scratch_dir("hostile");
	if (!base_dir) {
		puts("Bail out! no scratch directory");
		return 1;
	}
	chmod(base_dir, 0711); /* the unprivileged case runs as nobody */
	root = path_join(base_dir, "root");
	outside = path_join(base_dir, "outside");
	secret = path_join(outside, "secret");
	mkdir(outside, 0755);
	put_file(secret, "do not touch", 0644);
	snprintf(abs_outside, sizeof(abs_outside), "%s", outside);
	snprintf(abs_secret, sizeof(abs_secret), "%s", secret);
	char *before = outside_state();
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++)
		run_case(&cases[i], before);
	test_devices_unprivileged();
	test_check_names();
	free(before);
	remove_tree(base_dir);
	free(base_dir);
	free(root);
	free(outside);
	free(secret);
	return tap_done();
}
