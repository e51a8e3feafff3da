/* SPDX-License-Identifier: Apache-2.0 */
/* exec: users and groups, generated files, capabilities, paths, seccomp, specs. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/exec-private.h"
#include "exec/exec.h"
#include "tap.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* ---- users ---------------------------------------------------------------- */

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
			     "\n"
			     "  daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin  \n"
			     "alice:x:1000:1000:Alice:/home/alice:/bin/sh\r\n"
			     "carol:x:1001:1001\n"
			     "dup:x:2000:2000::/first:/bin/sh\n"
			     "dup:x:2001:2001::/second:/bin/sh\n"
			     "broken:x:notanumber:7::/b:/bin/sh\n"
			     "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";

static const char group[] = "root:x:0:\n"
			    "wheel:x:10:alice,root\n"
			    "audio:x:29:carol,alice\n"
			    "staff:x:50:\n"
			    "alice:x:1000:\n"
			    "video:x:44:bob\n"
			    "nogroup:x:65534:\n";

struct user_case {
	const char *spec;
	int ret; /* 0 or -KILN_E... */
	long uid, gid;
	const char *groups; /* comma-separated, "" = none */
	const char *home;
	int no_passwd; /* pretend /etc/passwd and /etc/group are missing */
};

#define OK(s, u, g, gr, h)                                                                         \
	{                                                                                          \
		s, 0, u, g, gr, h, 0                                                               \
	}
#define OK_NOFILES(s, u, g, gr, h)                                                                 \
	{                                                                                          \
		s, 0, u, g, gr, h, 1                                                               \
	}
#define BAD(s, r)                                                                                  \
	{                                                                                          \
		s, r, 0, 0, NULL, NULL, 0                                                          \
	}
#define BAD_NOFILES(s, r)                                                                          \
	{                                                                                          \
		s, r, 0, 0, NULL, NULL, 1                                                          \
	}

static const struct user_case user_cases[] = {
	OK(NULL, 0, 0, "", "/root"),
	OK("", 0, 0, "", "/root"),
	OK("root", 0, 0, "10", "/root"),
	OK("0", 0, 0, "10", "/root"),
	OK("alice", 1000, 1000, "10,29", "/home/alice"),
	OK("1000", 1000, 1000, "10,29", "/home/alice"),
	OK("alice:audio", 1000, 29, "", "/home/alice"),
	OK("alice:29", 1000, 29, "", "/home/alice"),
	OK("alice:777", 1000, 777, "", "/home/alice"),
	OK("1000:1000", 1000, 1000, "", "/home/alice"),
	OK("alice:audio:ignored", 1000, 29, "", "/home/alice"),
	OK("carol", 1001, 1001, "29", "/"),
	OK("daemon", 1, 1, "", "/usr/sbin"),
	OK("dup", 2000, 2000, "", "/first"),
	OK("4242", 4242, 0, "", "/"),
	OK("4242:17", 4242, 17, "", "/"),
	OK("4242:staff", 4242, 50, "", "/"),
	OK(":audio", 0, 29, "", "/root"),
	OK("nobody", 65534, 65534, "", "/nonexistent"),
	BAD("bob", -KILN_ENOTFOUND),
	BAD("alice:nogrp", -KILN_ENOTFOUND),
	BAD("-1", -KILN_EINVAL),
	BAD("99999999999", -KILN_EINVAL),
	BAD("1000:-5", -KILN_EINVAL),
	OK("2147483647", 2147483647, 0, "", "/"),
	BAD("2147483648", -KILN_EINVAL),
	OK_NOFILES("0", 0, 0, "", "/"),
	OK_NOFILES("1000:1000", 1000, 1000, "", "/"),
	BAD_NOFILES("alice", -KILN_ENOTFOUND),
	BAD_NOFILES("0:wheel", -KILN_ENOTFOUND),
};

static void groups_str(const struct kiln_exec_user *u, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < u->n_groups && n < len; i++)
		n += (size_t) snprintf(buf + n, len - n, "%s%u", i ? "," : "",
				       (unsigned) u->groups[i]);
}

static void test_users(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(user_cases); i++) {
		const struct user_case *c = &user_cases[i];
		struct kiln_exec_user u = { 0 };
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_exec_user_parse(
			c->spec, c->no_passwd ? NULL : passwd, c->no_passwd ? 0 : strlen(passwd),
			c->no_passwd ? NULL : group, c->no_passwd ? 0 : strlen(group), &u, &err);
		const char *name = c->spec ? c->spec : "(null)";
		if (c->ret) {
			TAP_INT_EQ(r, c->ret, "user '%s'%s fails", name,
				   c->no_passwd ? " without passwd" : "");
			int has = err.msg && strstr(err.msg, "unable to find") != NULL;
			TAP_OK(has == (c->ret == -KILN_ENOTFOUND), "user '%s' message: %s", name,
			       err.msg ? err.msg : "(none)");
			kiln_error_release(&err);
			continue;
		}
		if (r < 0) {
			TAP_OK(0, "user '%s': %s", name, err.msg);
			kiln_error_release(&err);
			continue;
		}
		char gs[256];
		groups_str(&u, gs, sizeof(gs));
		char got[512], want[512];
		(void) snprintf(got, sizeof(got), "%u:%u [%s] %s", (unsigned) u.uid,
				(unsigned) u.gid, gs, u.home);
		(void) snprintf(want, sizeof(want), "%ld:%ld [%s] %s", c->uid, c->gid, c->groups,
				c->home);
		TAP_STR_EQ(got, want, "user '%s'%s", name, c->no_passwd ? " without passwd" : "");
		kiln_exec_user_release(&u);
	}
}

static void test_user_messages(void)
{
	struct kiln_exec_user u = { 0 };
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_exec_user_parse("bob", passwd, strlen(passwd), group, strlen(group), &u, &err);
	TAP_INT_EQ(r, -KILN_ENOTFOUND, "unknown user");
	TAP_STR_EQ(err.msg, "unable to find user bob: no matching entries in passwd file",
		   "unknown user message (Docker's words)");
	kiln_error_release(&err);
	r = kiln_exec_user_parse("alice:nope", passwd, strlen(passwd), group, strlen(group), &u,
				 &err);
	TAP_STR_EQ(err.msg, "unable to find group nope: no matching entries in group file",
		   "unknown group message");
	kiln_error_release(&err);
}

/* ---- generated files ---------------------------------------------------- */

struct resolv_case {
	const char *name;
	const char *host;
	enum kiln_exec_network net;
	const char *want;
};

#define DEFAULT_NS                                                                                 \
	"nameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\n"                \
	"nameserver 2001:4860:4860::8844\n"

static const struct resolv_case resolv_cases[] = {
	{ "public nameserver kept", "nameserver 10.0.0.2\nsearch example.com\n", KILN_EXEC_NET_NONE,
	  "nameserver 10.0.0.2\nsearch example.com\n" },
	{ "loopback dropped, defaults added", "nameserver 127.0.0.53\noptions edns0\n",
	  KILN_EXEC_NET_NONE, "options edns0\n" DEFAULT_NS },
	{ "loopback dropped, others kept", "nameserver 127.0.0.1\nnameserver 192.168.1.1\n",
	  KILN_EXEC_NET_NONE, "nameserver 192.168.1.1\n" },
	{ "::1 is loopback", "nameserver ::1\n", KILN_EXEC_NET_NONE, DEFAULT_NS },
	{ "host network keeps loopback", "nameserver 127.0.0.53\n", KILN_EXEC_NET_HOST,
	  "nameserver 127.0.0.53\n" },
	{ "host network without nameservers gets defaults", "search lan\n", KILN_EXEC_NET_HOST,
	  "search lan\n" DEFAULT_NS },
	{ "no host file", NULL, KILN_EXEC_NET_NONE, DEFAULT_NS },
	{ "no trailing newline", "nameserver 1.1.1.1", KILN_EXEC_NET_NONE, "nameserver 1.1.1.1\n" },
	{ "127 prefix that is not an address", "nameserver 127.0.0.1.5\n", KILN_EXEC_NET_NONE,
	  "nameserver 127.0.0.1.5\n" },
	{ "indented, tabs", "  nameserver\t127.1.2.3\nnameserver 9.9.9.9\n", KILN_EXEC_NET_NONE,
	  "nameserver 9.9.9.9\n" },
	{ "comment mentioning nameserver kept", "# nameserver 127.0.0.1\nnameserver 9.9.9.9\n",
	  KILN_EXEC_NET_NONE, "# nameserver 127.0.0.1\nnameserver 9.9.9.9\n" },
};

static void test_files(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(resolv_cases); i++) {
		char *got = kiln_exec_resolv_conf(resolv_cases[i].host, resolv_cases[i].net);
		TAP_STR_EQ(got, resolv_cases[i].want, "resolv.conf: %s", resolv_cases[i].name);
		free(got);
	}
	char *h = kiln_exec_hosts_file("box", NULL, 0);
	TAP_STR_EQ(h, "127.0.0.1\tlocalhost box\n::1\tlocalhost ip6-localhost ip6-loopback\n",
		   "hosts names the hostname on loopback");
	free(h);
	h = kiln_exec_hosts_file(NULL, NULL, 0);
	TAP_OK(h && strstr(h, "localhost kiln\n"), "hosts default hostname");
	free(h);
	static const struct {
		const char *spec, *want; /* "IP NAME", or the error */
	} hosts[] = {
		{ "db:10.0.0.5", "10.0.0.5 db" },
		{ "db=10.0.0.5", "10.0.0.5 db" },
		{ "v6:::1", "::1 v6" },
		{ "v6=[2001:db8::1]", "2001:db8::1 v6" },
		{ "gw:host-gateway", "127.0.0.1 gw" },
		{ "a.b-c:192.168.1.1", "192.168.1.1 a.b-c" },
		{ "db", "error: invalid host db" },
		{ ":10.0.0.5", "error: invalid host :10.0.0.5" },
		{ "db:", "error: invalid host db:" },
		{ "db:10.0.0", "error: invalid host db:10.0.0" },
		{ "db:example.org", "error: invalid host db:example.org" },
		{ "d b:10.0.0.5", "error: invalid host d b:10.0.0.5" },
	};
	struct kiln_exec_host parsed[KILN_ARRAY_SIZE(hosts)];
	size_t n_parsed = 0;
	for (size_t i = 0; i < KILN_ARRAY_SIZE(hosts); i++) {
		struct kiln_exec_host x;
		struct kiln_error err = KILN_ERROR_INIT;
		char got[128];
		if (kiln_exec_host_parse(hosts[i].spec, &x, &err) == 0) {
			snprintf(got, sizeof(got), "%s %s", x.ip, x.name);
			parsed[n_parsed++] = x;
		} else {
			snprintf(got, sizeof(got), "error: %s", err.msg ? err.msg : "");
		}
		TAP_STR_EQ(got, hosts[i].want, "--add-host %s", hosts[i].spec);
		kiln_error_release(&err);
	}
	h = kiln_exec_hosts_file("box", parsed, 2);
	TAP_OK(h && strstr(h, "loopback\n10.0.0.5\tdb\n10.0.0.5\tdb\n") && h[strlen(h) - 1] == '\n',
	       "hosts: the extra entries after the defaults, one a line");
	free(h);
	for (size_t i = 0; i < n_parsed; i++)
		kiln_exec_host_release(&parsed[i]);

	static const struct {
		const char *spec, *want; /* "NAME SOFT HARD", or the error */
	} limits[] = {
		{ "nofile=1024:2048", "nofile 1024 2048" },
		{ "nofile=1024", "nofile 1024 1024" },
		{ "core=0", "core 0 0" },
		{ "stack=8192:unlimited", "stack 8192 -1" },
		{ "memlock=-1", "memlock -1 -1" },
		{ "nproc=10:5", "error: ulimit soft limit must be less than or equal to hard limit: "
				"nproc=10:5" },
		{ "nofile", "error: invalid ulimit argument: nofile" },
		{ "nofile=", "error: invalid ulimit argument: nofile=" },
		{ "nofile=1k", "error: invalid ulimit argument: nofile=1k" },
		{ "files=1", "error: invalid ulimit type: files" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(limits); i++) {
		struct kiln_exec_rlimit l;
		struct kiln_error err = KILN_ERROR_INIT;
		char got[160];
		if (kiln_exec_rlimit_parse(limits[i].spec, &l, &err) == 0)
			snprintf(got, sizeof(got), "%s %lld %lld", kiln_exec_rlimit_name(l.resource),
				 l.soft == UINT64_MAX ? -1LL : (long long) l.soft,
				 l.hard == UINT64_MAX ? -1LL : (long long) l.hard);
		else
			snprintf(got, sizeof(got), "error: %s", err.msg ? err.msg : "");
		TAP_STR_EQ(got, limits[i].want, "--ulimit %s", limits[i].spec);
		kiln_error_release(&err);
	}
	static const struct {
		const char *spec;
		uint64_t want; /* UINT64_MAX: refused */
	} sizes[] = {
		{ "65536", 65536 },	 { "64m", 64 << 20 }, { "2G", 2ULL << 30 },
		{ "512k", 512 << 10 },	 { "100b", 100 },     { "0", 0 } /* the default */,
		{ "", UINT64_MAX },	 { "1.5g", UINT64_MAX },
		{ "-1", UINT64_MAX },	 { "m", UINT64_MAX },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(sizes); i++) {
		uint64_t v = 1;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_exec_size_parse(sizes[i].spec, &v, &err);
		int ok = sizes[i].want != UINT64_MAX;
		TAP_OK(ok ? r == 0 && v == sizes[i].want : r == -KILN_EINVAL,
		       "--shm-size '%s' %s", sizes[i].spec, ok ? "parses" : "is refused");
		kiln_error_release(&err);
	}
}

/* ---- capabilities -------------------------------------------------------- */

struct caps_case {
	const char *in;
	int ok;
	uint64_t want;
};

static void test_caps(void)
{
	/* the CapEff docker shows for root in a default container */
	TAP_INT_EQ(kiln_exec_caps_default(), 0xa80425fbULL, "Docker's default capability set");
	const struct caps_case cases[] = {
		{ "CAP_NET_ADMIN", 1, KILN_EXEC_CAP(CAP_NET_ADMIN) },
		{ "net_admin", 1, KILN_EXEC_CAP(CAP_NET_ADMIN) },
		{ "sys_ptrace,CAP_SYS_ADMIN", 1,
		  KILN_EXEC_CAP(CAP_SYS_PTRACE) | KILN_EXEC_CAP(CAP_SYS_ADMIN) },
		{ "", 1, 0 },
		{ "bogus", 0, 0 },
		{ "chown,,", 0, 0 },
		{ "CAP_", 0, 0 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		uint64_t got = 0;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_exec_caps_parse(cases[i].in, &got, &err);
		if (cases[i].ok)
			TAP_OK(r == 0 && got == cases[i].want, "caps '%s'", cases[i].in);
		else
			TAP_OK(r == -KILN_EINVAL && err.msg, "caps '%s' refused", cases[i].in);
		kiln_error_release(&err);
	}
	/* ALL is every capability this kernel knows */
	uint64_t all = 0;
	int last = -1;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = -1;
		fclose(f);
	}
	TAP_OK(kiln_exec_caps_parse("all", &all, NULL) == 0 && last > 0 && last < 64 &&
		       all == (((uint64_t) 1 << (last + 1)) - 1),
	       "ALL has the kernel's %d capabilities", last + 1);
}

/* ---- paths ------------------------------------------------------------------ */

static void test_paths(void)
{
	const char *cases[][2] = {
		{ "/", "/" },		{ "//", "/" },
		{ "/a/b", "/a/b" },	{ "/a//b/", "/a/b" },
		{ "/a/./b/.", "/a/b" }, { "/a/../b", "/b" },
		{ "/../../x", "/x" },	{ "/a/bc/../d", "/a/d" },
		{ "/a/b/../..", "/" },	{ "/.a/..b/...", "/.a/..b/..." },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		char *c = kiln_exec_clean_path(cases[i][0]);
		TAP_STR_EQ(c, cases[i][1], "clean '%s'", cases[i][0]);
		free(c);
	}
	TAP_OK(kiln_exec_clean_path("relative") == NULL, "relative paths are refused");
}

/* ---- seccomp ----------------------------------------------------------------- */

enum probe {
	P_GETPID,
	P_UNSHARE0,
	P_KEYCTL,
	P_MOUNT,
	P_CLONE3,
	P_CLONE_NEWNS,
	P_FORK_CLONE,
	P_PERSONALITY_QUERY,
	P_PERSONALITY_LINUX32,
	P_PERSONALITY_NORANDOM,
	P_SOCKET_UNIX,
	P_SOCKET_VSOCK,
	P_CHROOT,
	P_REBOOT,
	P_PTRACE_TRACEME,
	P_MAX,
};

static const char *const probe_names[] = {
	"getpid",
	"unshare(0)",
	"keyctl",
	"mount",
	"clone3",
	"clone(CLONE_NEWNS)",
	"clone(SIGCHLD)",
	"personality(query)",
	"personality(PER_LINUX32)",
	"personality(ADDR_NO_RANDOMIZE)",
	"socket(AF_UNIX)",
	"socket(AF_VSOCK)",
	"chroot",
	"reboot(bad magic)",
	"ptrace(TRACEME)",
};

/* Run one syscall; 0 when it was allowed to run, else the errno. A call that
 * the kernel itself refuses (EINVAL, EFAULT, ...) counts as allowed. */
static int probe(enum probe p)
{
	long r = 0;
	errno = 0;
	switch (p) {
	case P_GETPID:
		r = syscall(SYS_getpid);
		break;
	case P_UNSHARE0:
		r = syscall(SYS_unshare, 0);
		break;
	case P_KEYCTL:
		r = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0);
		break;
	case P_MOUNT:
		r = syscall(SYS_mount, "none", "/nonexistent-kiln", "tmpfs", 0, NULL);
		break;
	case P_CLONE3:
		r = syscall(SYS_clone3, NULL, 0);
		break;
	case P_CLONE_NEWNS:
	case P_FORK_CLONE: {
		unsigned long fl = SIGCHLD | (p == P_CLONE_NEWNS ? CLONE_NEWNS : 0);
		r = syscall(SYS_clone, fl, 0, 0, 0, 0);
		if (r == 0)
			_exit(0);
		if (r > 0)
			(void) waitpid((pid_t) r, NULL, 0);
		break;
	}
	case P_PERSONALITY_QUERY:
		r = syscall(SYS_personality, 0xffffffffUL);
		break;
	case P_PERSONALITY_LINUX32:
		r = syscall(SYS_personality, 0x8UL);
		(void) syscall(SYS_personality, 0x0UL);
		break;
	case P_PERSONALITY_NORANDOM:
		r = syscall(SYS_personality, (unsigned long) ADDR_NO_RANDOMIZE);
		break;
	case P_SOCKET_UNIX:
		r = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
		break;
	case P_SOCKET_VSOCK:
		r = syscall(SYS_socket, AF_VSOCK, SOCK_STREAM, 0);
		break;
	case P_CHROOT:
		r = syscall(SYS_chroot, "/");
		break;
	case P_REBOOT:
		r = syscall(SYS_reboot, 0, 0, 0, NULL);
		break;
	case P_PTRACE_TRACEME:
		r = syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, NULL, NULL);
		break;
	case P_MAX:
		break;
	}
	if (r >= 0)
		return 0;
	return errno == EPERM || errno == ENOSYS ? errno : 0;
}

/* Load the filter in a child, run every probe, report the errnos. */
static int run_probes(const void *prog, size_t len, int results[P_MAX])
{
	int pipefd[2];
	if (pipe(pipefd) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		(void) close(pipefd[0]);
		struct sock_fprog fp = { .len = (unsigned short) len,
					 .filter = (struct sock_filter *) prog };
		int res[P_MAX];
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
			_exit(2);
		for (int i = 0; i < P_MAX; i++)
			res[i] = probe((enum probe) i);
		ssize_t w = write(pipefd[1], res, sizeof(res));
		_exit(w == (ssize_t) sizeof(res) ? 0 : 3);
	}
	(void) close(pipefd[1]);
	ssize_t n = read(pipefd[0], results, sizeof(int) * P_MAX);
	(void) close(pipefd[0]);
	int st = 0;
	(void) waitpid(pid, &st, 0);
	return n == (ssize_t) (sizeof(int) * P_MAX) && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0
											     : -1;
}

struct seccomp_case {
	const char *name;
	uint64_t caps;
	int want[P_MAX];
};

static void test_seccomp(void)
{
	uint64_t def = kiln_exec_caps_default();
	const struct seccomp_case cases[] = {
		{ "default capabilities",
		  def,
		  { [P_GETPID] = 0,
		    [P_UNSHARE0] = EPERM,
		    [P_KEYCTL] = EPERM,
		    [P_MOUNT] = EPERM,
		    [P_CLONE3] = ENOSYS,
		    [P_CLONE_NEWNS] = EPERM,
		    [P_FORK_CLONE] = 0,
		    [P_PERSONALITY_QUERY] = 0,
		    [P_PERSONALITY_LINUX32] = 0,
		    [P_PERSONALITY_NORANDOM] = EPERM,
		    [P_SOCKET_UNIX] = 0,
		    [P_SOCKET_VSOCK] = EPERM,
		    [P_CHROOT] = 0,
		    [P_REBOOT] = EPERM,
		    [P_PTRACE_TRACEME] = 0 } },
		{ "without SYS_CHROOT",
		  def & ~KILN_EXEC_CAP(CAP_SYS_CHROOT),
		  { [P_UNSHARE0] = EPERM,
		    [P_KEYCTL] = EPERM,
		    [P_MOUNT] = EPERM,
		    [P_CLONE3] = ENOSYS,
		    [P_CLONE_NEWNS] = EPERM,
		    [P_PERSONALITY_NORANDOM] = EPERM,
		    [P_SOCKET_VSOCK] = EPERM,
		    [P_CHROOT] = EPERM,
		    [P_REBOOT] = EPERM } },
		{ "with SYS_ADMIN",
		  def | KILN_EXEC_CAP(CAP_SYS_ADMIN),
		  { [P_KEYCTL] = EPERM,
		    [P_PERSONALITY_NORANDOM] = EPERM,
		    [P_SOCKET_VSOCK] = EPERM,
		    [P_REBOOT] = EPERM } },
		{ "with SYS_BOOT",
		  def | KILN_EXEC_CAP(CAP_SYS_BOOT),
		  { [P_UNSHARE0] = EPERM,
		    [P_KEYCTL] = EPERM,
		    [P_MOUNT] = EPERM,
		    [P_CLONE3] = ENOSYS,
		    [P_CLONE_NEWNS] = EPERM,
		    [P_PERSONALITY_NORANDOM] = EPERM,
		    [P_SOCKET_VSOCK] = EPERM } },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		void *prog = NULL;
		size_t len = 0;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_exec_seccomp_build(cases[i].caps, &prog, &len, &err);
		if (!TAP_OK(r == 0 && len > 0 && len <= 4096,
			    "seccomp builds (%s): %zu instructions", cases[i].name, len)) {
			kiln_error_release(&err);
			continue;
		}
		int got[P_MAX];
		r = run_probes(prog, len, got);
		TAP_INT_EQ(r, 0, "seccomp loads and probes run (%s)", cases[i].name);
		for (int p = 0; r == 0 && p < P_MAX; p++)
			TAP_INT_EQ(got[p], cases[i].want[p], "%s: %s", cases[i].name,
				   probe_names[p]);
		free(prog);
	}
}

/* The cache gives copies of the program kiln_exec_seccomp_build() makes, one per capability set. */
static void test_seccomp_filters(void)
{
	uint64_t def = kiln_exec_caps_default();
	uint64_t caps[] = { def, def | KILN_EXEC_CAP(CAP_SYS_ADMIN), def };
	struct kiln_exec_filters *f = kiln_exec_filters_new();
	if (!TAP_OK(f != NULL, "filters: new"))
		return;
	void *got[3] = { NULL, NULL, NULL };
	size_t len[3] = { 0, 0, 0 };
	for (size_t i = 0; i < 3; i++) {
		struct kiln_error err = KILN_ERROR_INIT;
		TAP_INT_EQ(kiln_exec_filters_get(f, caps[i], &got[i], &len[i], &err), 0,
			   "filters: program %zu", i);
		kiln_error_release(&err);
	}
	for (size_t i = 0; i < 2; i++) {
		void *want = NULL;
		size_t wlen = 0;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_exec_seccomp_build(caps[i], &want, &wlen, &err);
		TAP_OK(r == 0 && got[i] && wlen == len[i] && !memcmp(want, got[i], wlen * 8),
		       "filters: program %zu is what seccomp_build makes (%zu instructions)", i,
		       wlen);
		kiln_error_release(&err);
		free(want);
	}
	TAP_OK(len[0] != len[1] || memcmp(got[0], got[1], len[0] * 8),
	       "filters: another capability set, another program");
	TAP_OK(got[2] && got[2] != got[0] && len[2] == len[0] &&
		       !memcmp(got[0], got[2], len[0] * 8),
	       "filters: the same set again, a copy of the same program");
	/* the default set's program is built in (a native build), and is
	 * byte for byte what kiln_exec_seccomp_build() made above */
	const void *bp = NULL;
	size_t bl = 0;
	int builtin = kiln_exec_seccomp_builtin(def, &bp, &bl);
	TAP_OK(builtin == 1 && bl == len[0] && !memcmp(bp, got[0], bl * 8),
	       "filters: the default capabilities' program is built in (%zu instructions)", bl);
	TAP_INT_EQ(kiln_exec_seccomp_builtin(caps[1], &bp, &bl), 0,
		   "filters: no built-in program for another capability set");
	for (size_t i = 0; i < 3; i++)
		free(got[i]);
	kiln_exec_filters_free(f);
	kiln_exec_filters_free(NULL);
}

/* ---- spec validation --------------------------------------------------------- */

struct spec_case {
	const char *name;
	int ret;
	const char *msg; /* a substring of the message */
};

static void test_spec_validation(void)
{
	char tmpl[] = "/tmp/kiln-test-exec.XXXXXX";
	char *root = mkdtemp(tmpl);
	if (!TAP_OK(root != NULL, "scratch root"))
		return;
	char *argv_ok[] = { (char *) "true", NULL };
	char *argv_empty[] = { (char *) "", NULL };
	char *argv_none[] = { NULL };
	struct kiln_exec_mount rel = { .type = KILN_EXEC_MOUNT_TMPFS, .target = "tmp" };
	struct kiln_exec_mount slash = { .type = KILN_EXEC_MOUNT_TMPFS, .target = "/" };
	struct kiln_exec_mount nosrc = { .type = KILN_EXEC_MOUNT_BIND, .target = "/x" };
	struct kiln_exec_mount badtype = { .type = (enum kiln_exec_mount_type) 7, .target = "/x" };
	struct kiln_exec_mount missing = { .type = KILN_EXEC_MOUNT_BIND,
					   .source = "/nonexistent-kiln-src",
					   .target = "/x" };
	struct kiln_exec_file relfile = { .path = "etc/x", .data = "x", .len = 1 };
	static char big[KILN_EXEC_MAX_FILE_SIZE + 1];
	struct kiln_exec_file bigfile = { .path = "/big", .data = big, .len = sizeof(big) };

	for (int i = 0;; i++) {
		struct kiln_exec_spec s = KILN_EXEC_SPEC_INIT;
		s.rootfs = root;
		s.argv = argv_ok;
		const char *name = NULL, *msg = NULL;
		int want = -KILN_EINVAL;
		switch (i) {
		case 0:
			name = "no argv", msg = "no command";
			s.argv = argv_none;
			break;
		case 1:
			name = "empty argv[0]", msg = "no command";
			s.argv = argv_empty;
			break;
		case 2:
			name = "no rootfs", msg = "no root filesystem";
			s.rootfs = NULL;
			break;
		case 3:
			name = "relative cwd", msg = "must be an absolute path";
			s.cwd = "work";
			break;
		case 4:
			name = "bad network", msg = "network mode";
			s.network = (enum kiln_exec_network) 9;
			break;
		case 5:
			name = "unknown flags", msg = "unknown flags";
			s.flags = 1u << 20;
			break;
		case 6:
			name = "too many mounts", msg = "mounts", want = -KILN_ELIMIT;
			s.mounts = &rel;
			s.n_mounts = KILN_EXEC_MAX_MOUNTS + 1;
			break;
		case 7:
			name = "closed stdout fd", msg = "not open";
			s.stdout_fd = 987;
			break;
		case 8:
			name = "bad hostname", msg = "hostname";
			s.hostname = "a b";
			break;
		case 9:
			name = "long hostname", msg = "hostname";
			s.hostname = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaa";
			break;
		case 10:
			name = "relative mount target", msg = "must be absolute";
			s.mounts = &rel;
			s.n_mounts = 1;
			break;
		case 11:
			name = "mount over /", msg = "over /";
			s.mounts = &slash;
			s.n_mounts = 1;
			break;
		case 12:
			name = "bind without source", msg = "no source";
			s.mounts = &nosrc;
			s.n_mounts = 1;
			break;
		case 13:
			name = "unknown mount type", msg = "unknown type";
			s.mounts = &badtype;
			s.n_mounts = 1;
			break;
		case 14:
			name = "missing bind source", msg = "/nonexistent-kiln-src",
			want = -KILN_EIO;
			s.mounts = &missing;
			s.n_mounts = 1;
			break;
		case 15:
			name = "relative generated file", msg = "must be absolute";
			s.files = &relfile;
			s.n_files = 1;
			break;
		case 16:
			name = "oversized generated file", msg = "larger than", want = -KILN_ELIMIT;
			s.files = &bigfile;
			s.n_files = 1;
			break;
		case 17:
			name = "rootfs missing", msg = "opening the root filesystem",
			want = -KILN_EIO;
			s.rootfs = "/nonexistent-kiln-root";
			break;
		case 18:
			name = "unknown user", msg = "unable to find user", want = -KILN_ENOTFOUND;
			s.user = "nobody-here";
			break;
		default:
			break;
		}
		if (!name)
			break;
		struct kiln_exec_proc *p = NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_exec_start(NULL, &s, &p, &err);
		TAP_INT_EQ(r, want, "spec refused: %s", name);
		TAP_OK(r < 0 && err.msg && strstr(err.msg, msg), "message for %s: %s", name,
		       err.msg ? err.msg : "(none)");
		kiln_exec_proc_free(p);
		kiln_error_release(&err);
	}
	(void) rmdir(root);
}

int main(void)
{
	test_users();
	test_user_messages();
	test_files();
	test_caps();
	test_paths();
	test_seccomp_filters();
	if (geteuid() == 0) {
		test_seccomp();
		test_spec_validation();
	} else {
		tap_skip("needs root", "seccomp filter probes");
		tap_skip("needs root", "spec validation");
	}
	return tap_done();
}
