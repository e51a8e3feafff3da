/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Run a command and record the peak resident set size of every process of
 * its tree, from the kernel's own per-task accounting: the taskstats
 * netlink family sends, for each task that exits, its high-water RSS
 * (CONFIG_TASK_XACCT) together with its pid, parent and name. Nothing is
 * sampled, so a short-lived process's peak is not missed, and a process
 * that exec'd reports the peak of its last program.
 *
 * Why not /usr/bin/time alone: its figure is the largest process of the
 * tree, whatever it runs. A build's tree includes the RUN steps' commands
 * (cc1, sh), which are the same work for every builder; the file this
 * writes names each process, so the builder's own processes can be told
 * from the commands it ran for the Dockerfile.
 *
 *   peak-rss OUT -- COMMAND [ARG...]
 *
 * OUT gets one line per process of the tree: "pid ppid peak_kib comm"
 * (comm: the kernel's 15-character name, spaces replaced by '_'). The
 * command's exit status is peak-rss's. Registering for the records needs
 * CAP_NET_ADMIN (the benchmark runs as root). Not a test: used by
 * bench/peers/run.sh.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NLA_DATA(na) ((char *) (na) + NLA_HDRLEN)
#define GENL_DATA(nh) ((char *) NLMSG_DATA(nh) + GENL_HDRLEN)

struct task {
	uint32_t pid, ppid;
	uint64_t peak_kib;
	char comm[TS_COMM_LEN];
};

struct tasks {
	struct task *v;
	size_t n, cap;
};

static void die(const char *what)
{
	fprintf(stderr, "peak-rss: %s: %s\n", what, strerror(errno));
	exit(125);
}

/* one generic netlink request with a single attribute */
static void send_request(int fd, uint16_t type, uint16_t flags, uint8_t cmd, uint16_t attr,
			 const void *data, size_t len)
{
	char buf[256] = { 0 };
	struct nlmsghdr *nh = (struct nlmsghdr *) buf;
	struct genlmsghdr *gh = NLMSG_DATA(nh);
	struct nlattr *na = (struct nlattr *) GENL_DATA(nh);
	if (NLMSG_LENGTH(GENL_HDRLEN) + NLA_HDRLEN + NLA_ALIGN(len) > sizeof(buf)) {
		errno = EMSGSIZE;
		die("request");
	}
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | flags;
	nh->nlmsg_pid = (uint32_t) getpid();
	gh->cmd = cmd;
	gh->version = 1;
	na->nla_type = attr;
	na->nla_len = (uint16_t) (NLA_HDRLEN + len);
	memcpy(NLA_DATA(na), data, len);
	nh->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(na->nla_len);
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(fd, buf, nh->nlmsg_len, 0, (struct sockaddr *) &kernel, sizeof(kernel)) < 0)
		die("netlink send");
}

static uint16_t taskstats_family(int fd)
{
	send_request(fd, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME,
		     TASKSTATS_GENL_NAME, sizeof(TASKSTATS_GENL_NAME));
	char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		die("netlink receive");
	struct nlmsghdr *nh = (struct nlmsghdr *) buf;
	if (!NLMSG_OK(nh, (size_t) n) || nh->nlmsg_type == NLMSG_ERROR) {
		errno = ENOENT;
		die("the kernel has no taskstats family");
	}
	char *p = GENL_DATA(nh), *end = (char *) nh + nh->nlmsg_len;
	while (p + NLA_HDRLEN <= end) {
		struct nlattr *na = (struct nlattr *) p;
		if (na->nla_len < NLA_HDRLEN)
			break;
		if (na->nla_type == CTRL_ATTR_FAMILY_ID)
			return *(uint16_t *) NLA_DATA(na);
		p += NLA_ALIGN(na->nla_len);
	}
	errno = ENOENT;
	die("no family id in the reply");
	return 0;
}

/* the registration's answer; exit records of other tasks may come first */
static void wait_ack(int fd)
{
	for (;;) {
		char buf[16384];
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			die("netlink receive");
		}
		for (struct nlmsghdr *nh = (struct nlmsghdr *) buf; NLMSG_OK(nh, (size_t) n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = NLMSG_DATA(nh);
			if (e->error == 0)
				return;
			errno = -e->error;
			die("registering for exit records");
		}
	}
}

static void add_task(struct tasks *t, const struct taskstats *ts)
{
	/* a thread's exit reports its process's memory again: keep the largest */
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].pid == ts->ac_pid) {
			if (ts->hiwater_rss > t->v[i].peak_kib)
				t->v[i].peak_kib = ts->hiwater_rss;
			return;
		}
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->v = realloc(t->v, t->cap * sizeof(*t->v));
		if (!t->v)
			die("memory");
	}
	struct task *k = &t->v[t->n++];
	k->pid = ts->ac_pid;
	k->ppid = ts->ac_ppid;
	k->peak_kib = ts->hiwater_rss;
	memcpy(k->comm, ts->ac_comm, sizeof(k->comm));
	k->comm[sizeof(k->comm) - 1] = 0;
	for (char *c = k->comm; *c; c++)
		if (*c == ' ' || *c == '\n')
			*c = '_';
}

/* the stats of one TASKSTATS_TYPE_AGGR_PID attribute */
static void parse_aggr(struct tasks *t, char *p, char *end)
{
	while (p + NLA_HDRLEN <= end) {
		struct nlattr *na = (struct nlattr *) p;
		if (na->nla_len < NLA_HDRLEN || p + na->nla_len > end)
			return;
		if (na->nla_type == TASKSTATS_TYPE_STATS) {
			struct taskstats ts = { 0 };
			size_t len = na->nla_len - NLA_HDRLEN;
			memcpy(&ts, NLA_DATA(na), len < sizeof(ts) ? len : sizeof(ts));
			add_task(t, &ts);
		}
		p += NLA_ALIGN(na->nla_len);
	}
}

/* read what is queued; returns -1 if the kernel dropped messages */
static int drain(int fd, uint16_t family, struct tasks *t)
{
	int lost = 0;
	for (;;) {
		char buf[16384];
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				lost = 1;
				continue;
			}
			if (errno == EAGAIN)
				return lost ? -1 : 0;
			die("netlink receive");
		}
		for (struct nlmsghdr *nh = (struct nlmsghdr *) buf; NLMSG_OK(nh, (size_t) n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type != family)
				continue;
			char *p = GENL_DATA(nh), *end = (char *) nh + nh->nlmsg_len;
			while (p + NLA_HDRLEN <= end) {
				struct nlattr *na = (struct nlattr *) p;
				if (na->nla_len < NLA_HDRLEN || p + na->nla_len > end)
					break;
				if (na->nla_type == TASKSTATS_TYPE_AGGR_PID)
					parse_aggr(t, NLA_DATA(na), p + na->nla_len);
				p += NLA_ALIGN(na->nla_len);
			}
		}
	}
}

static int in_tree(const struct tasks *t, uint32_t pid, uint32_t root)
{
	/* parents exit after their children, so the chain is in the table;
	 * the bound stops a cycle of reused pids */
	for (size_t hops = 0; hops <= t->n; hops++) {
		if (pid == root)
			return 1;
		size_t i = 0;
		while (i < t->n && t->v[i].pid != pid)
			i++;
		if (i == t->n)
			return 0;
		pid = t->v[i].ppid;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[2], "--") != 0) {
		fprintf(stderr, "usage: peak-rss OUT -- COMMAND [ARG...]\n");
		return 125;
	}
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		die("netlink socket");
	int rcvbuf = 16 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		(void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	struct sockaddr_nl self = { .nl_family = AF_NETLINK };
	if (bind(fd, (struct sockaddr *) &self, sizeof(self)) < 0)
		die("netlink bind");
	uint16_t family = taskstats_family(fd);
	char cpus[32];
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	snprintf(cpus, sizeof(cpus), "0-%ld", ncpu > 0 ? ncpu - 1 : 0);
	send_request(fd, family, NLM_F_ACK, TASKSTATS_CMD_GET, TASKSTATS_CMD_ATTR_REGISTER_CPUMASK,
		     cpus, strlen(cpus) + 1);
	wait_ack(fd);

	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		execvp(argv[3], argv + 3);
		fprintf(stderr, "peak-rss: %s: %s\n", argv[3], strerror(errno));
		_exit(127);
	}
	/* the pidfd wakes the loop when the command exits, so no time is added
	 * to the command's own */
	int pidfd = (int) syscall(SYS_pidfd_open, child, 0);
	if (pidfd < 0)
		die("pidfd_open");
	struct tasks t = { 0 };
	int status = 0, lost = 0;
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = pidfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			die("poll");
		lost |= drain(fd, family, &t) < 0;
		pid_t w = waitpid(child, &status, WNOHANG);
		if (w == child)
			break;
		if (w < 0 && errno != EINTR)
			die("waitpid");
	}
	/* the child's own record was queued before it became waitable */
	lost |= drain(fd, family, &t) < 0;

	FILE *out = fopen(argv[1], "w");
	if (!out)
		die(argv[1]);
	for (size_t i = 0; i < t.n; i++)
		if (in_tree(&t, t.v[i].pid, (uint32_t) child))
			fprintf(out, "%u %u %llu %s\n", t.v[i].pid, t.v[i].ppid,
				(unsigned long long) t.v[i].peak_kib, t.v[i].comm);
	if (lost)
		fprintf(out, "# the kernel dropped exit records: the list is incomplete\n");
	if (fclose(out) != 0)
		die(argv[1]);
	free(t.v);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
