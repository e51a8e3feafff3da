/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's seccomp filter, modelled on Docker's default profile
 * (moby's profiles/seccomp/default.json): the syscalls below are allowed,
 * everything else fails with EPERM (ENOSYS for one newer than libseccomp
 * knows, as in runc). Some are allowed only when the process
 * holds a capability, a few only with certain arguments. The filter is built
 * with libseccomp in the parent and exported as classic BPF, so that the
 * sandbox child can load it with one prctl() and no allocation.
 */
#include "exec/exec.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* Allowed for every process. */
static const char allow_always[] =
	"accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 "
	"clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime "
	"clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect "
	"copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old "
	"epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit "
	"exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir "
	"fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr "
	"flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync "
	"ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd getdents "
	"getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 "
	"getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid "
	"getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname "
	"getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch "
	"inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents "
	"io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit "
	"io_uring_enter io_uring_register io_uring_setup ipc kill landlock_add_rule "
	"landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat "
	"listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise "
	"membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 "
	"mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive "
	"mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget "
	"msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat "
	"_newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc "
	"pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 "
	"process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead "
	"readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg "
	"remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq "
	"rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend "
	"rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr "
	"sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler "
	"sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr "
	"sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop "
	"semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid "
	"setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid "
	"setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid "
	"setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address "
	"setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd "
	"signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64 "
	"statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create "
	"timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64 "
	"timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times "
	"tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat "
	"utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev "
	/* kernels >= 4.8 check ptrace against seccomp, so Docker allows it */
	"process_vm_readv process_vm_writev ptrace "
	/* newer calls moby's profile allows too (glibc 2.39's fchmodat uses
	 * fchmodat2); those this libseccomp does not know fail with ENOSYS */
	"cachestat fchmodat2 futex_requeue futex_wait futex_wake map_shadow_stack listmount "
	"statmount mseal";

/* Allowed only when kiln runs on one of these (native) architectures; the
 * rule then covers the companion architectures too, as in runc. */
static const struct arch_rule {
	uint32_t arch;
	const char *names;
} arch_rules[] = {
	{ SCMP_ARCH_X86_64, "arch_prctl modify_ldt" },
	{ SCMP_ARCH_X32, "arch_prctl modify_ldt" },
	{ SCMP_ARCH_X86, "modify_ldt" },
	{ SCMP_ARCH_AARCH64, "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint "
			     "cacheflush set_tls" },
	{ SCMP_ARCH_ARM, "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint "
			 "cacheflush set_tls" },
	{ SCMP_ARCH_PPC64LE, "sync_file_range2 swapcontext" },
	{ SCMP_ARCH_S390X, "s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr" },
	{ SCMP_ARCH_RISCV64, "riscv_flush_icache" },
};

/* Allowed when the process holds the capability. */
static const struct cap_rule {
	int cap;
	const char *names;
} cap_rules[] = {
	{ CAP_DAC_READ_SEARCH, "open_by_handle_at" },
	{ CAP_SYS_ADMIN, "bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick "
			 "lookup_dcookie mount mount_setattr move_mount open_tree perf_event_open "
			 "quotactl quotactl_fd setdomainname sethostname setns syslog umount "
			 "umount2 unshare" },
	{ CAP_SYS_BOOT, "reboot" },
	{ CAP_SYS_CHROOT, "chroot" },
	{ CAP_SYS_MODULE, "delete_module init_module finit_module" },
	{ CAP_SYS_PACCT, "acct" },
	{ CAP_SYS_PTRACE, "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev "
			  "ptrace" },
	{ CAP_SYS_RAWIO, "iopl ioperm" },
	{ CAP_SYS_TIME, "settimeofday stime clock_settime clock_settime64" },
	{ CAP_SYS_TTY_CONFIG, "vhangup" },
	{ CAP_SYS_NICE, "get_mempolicy mbind set_mempolicy set_mempolicy_home_node" },
	{ CAP_SYSLOG, "syslog" },
	{ CAP_BPF, "bpf" },
	{ CAP_PERFMON, "perf_event_open" },
};

/* personality(2) values Docker allows: PER_LINUX, PER_LINUX32, UNAME26 and
 * their combination, and the query 0xffffffff. */
static const scmp_datum_t personalities[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };

/* The namespace flags clone() may not use without CAP_SYS_ADMIN. */
#define CLONE_NS_MASK 0x7E020000ULL

static struct scmp_arg_cmp arg_cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a,
				   scmp_datum_t b)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = op, .datum_a = a, .datum_b = b };
}

static int add_names(scmp_filter_ctx sc, const char *names, struct kiln_error *err)
{
	const char *p = names;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, " ");
		if (!len)
			break;
		char name[64];
		if (len >= sizeof(name))
			return kiln_fail(err, KILN_EINTERNAL, 0, "syscall name too long");
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		int nr = seccomp_syscall_resolve_name(name);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not a syscall libseccomp knows: nothing to allow */
		int r = seccomp_rule_add(sc, SCMP_ACT_ALLOW, nr, 0);
		if (r < 0 && r != -EEXIST)
			return kiln_fail(err, KILN_EINTERNAL, -r, "seccomp: allowing %s", name);
	}
	return 0;
}

static int export_bpf(scmp_filter_ctx sc, void **ret_prog, size_t *ret_len, struct kiln_error *err)
{
	cleanup_close int fd = memfd_create("kiln-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return kiln_fail_errno(err, "seccomp: memfd_create");
	int r = seccomp_export_bpf(sc, fd);
	if (r < 0)
		return kiln_fail(err, KILN_EINTERNAL, -r, "seccomp: exporting the filter");
	if (lseek(fd, 0, SEEK_SET) < 0)
		return kiln_fail_errno(err, "seccomp: lseek");
	char *data = NULL;
	size_t len = 0;
	/* a classic BPF program has at most 4096 instructions of 8 bytes */
	r = kiln_read_fd(fd, 4096 * 8, &data, &len, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "seccomp: reading the filter");
	if (len == 0 || len % 8 != 0) {
		free(data);
		return kiln_fail(err, KILN_EINTERNAL, 0, "seccomp: odd program size %zu", len);
	}
	*ret_prog = data;
	*ret_len = len / 8;
	return 0;
}

static int build(scmp_filter_ctx sc, uint64_t caps, struct kiln_error *err)
{
	int r;
	r = seccomp_attr_set(sc, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		return kiln_fail(err, KILN_EINTERNAL, -r, "seccomp: bad-arch action");
	/* loaded while the process holds CAP_SYS_ADMIN: no no_new_privs needed */
	r = seccomp_attr_set(sc, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return kiln_fail(err, KILN_EINTERNAL, -r, "seccomp: nnp attribute");
	/* syscalls found by a binary search, not one comparison after another:
	 * the kernel then loads the program in 0.2-0.3 ms instead of 0.85 ms (each
	 * RUN loads it), though it is longer (1,255 instructions against 1,006) */
	r = seccomp_attr_set(sc, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r < 0)
		return kiln_fail(err, KILN_EINTERNAL, -r, "seccomp: optimize attribute");

	uint32_t native = seccomp_arch_native();
	uint32_t extra[2] = { 0, 0 };
	if (native == SCMP_ARCH_X86_64) {
		extra[0] = SCMP_ARCH_X86;
		extra[1] = SCMP_ARCH_X32;
	} else if (native == SCMP_ARCH_AARCH64) {
		extra[0] = SCMP_ARCH_ARM;
	}
	for (size_t i = 0; i < KILN_ARRAY_SIZE(extra); i++) {
		if (!extra[i])
			continue;
		r = seccomp_arch_add(sc, extra[i]);
		if (r < 0 && r != -EEXIST)
			return kiln_fail(err, KILN_EINTERNAL, -r,
					 "seccomp: adding an architecture");
	}

	r = add_names(sc, allow_always, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < KILN_ARRAY_SIZE(arch_rules); i++) {
		const struct arch_rule *a = &arch_rules[i];
		if (a->arch != native)
			continue;
		r = add_names(sc, a->names, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cap_rules); i++) {
		if (!(caps & KILN_EXEC_CAP(cap_rules[i].cap)))
			continue;
		r = add_names(sc, cap_rules[i].names, err);
		if (r < 0)
			return r;
	}

	/* socket(): anything but AF_VSOCK */
	r = seccomp_rule_add(sc, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
			     arg_cmp(0, SCMP_CMP_NE, AF_VSOCK, 0));
	if (r < 0)
		return kiln_fail(err, KILN_EINTERNAL, -r, "seccomp: socket rule");
	for (size_t i = 0; i < KILN_ARRAY_SIZE(personalities); i++) {
		r = seccomp_rule_add(sc, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
				     arg_cmp(0, SCMP_CMP_EQ, personalities[i], 0));
		if (r < 0 && r != -EEXIST)
			return kiln_fail(err, KILN_EINTERNAL, -r, "seccomp: personality rule");
	}
	if (!(caps & KILN_EXEC_CAP(CAP_SYS_ADMIN))) {
		/* fork-like clone() only; clone3 says ENOSYS so libcs fall back to
		 * clone(), whose flags can be checked (clone3 passes a pointer) */
		int clone_arg = seccomp_arch_native() == SCMP_ARCH_S390X ? 1 : 0;
		r = seccomp_rule_add(
			sc, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			arg_cmp((unsigned) clone_arg, SCMP_CMP_MASKED_EQ, CLONE_NS_MASK, 0));
		if (r < 0)
			return kiln_fail(err, KILN_EINTERNAL, -r, "seccomp: clone rule");
		int nr = seccomp_syscall_resolve_name("clone3");
		if (nr != __NR_SCMP_ERROR) {
			r = seccomp_rule_add(sc, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
			if (r < 0)
				return kiln_fail(err, KILN_EINTERNAL, -r, "seccomp: clone3 rule");
		}
	}
	return 0;
}

/*
 * A syscall newer than every one libseccomp knows for the native
 * architecture fails with ENOSYS, not EPERM, as runc makes it: a program
 * then falls back to the older call (glibc's fchmodat2 to fchmodat), where
 * EPERM would be taken as the answer. Six instructions go in front of the
 * program (its jumps are relative, so they stay right).
 */
static int newer_enosys(uint32_t native, void **prog, size_t *len, struct kiln_error *err)
{
	long max = -1;
	for (int nr = 0; nr < 1024; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(native, nr);
		if (name)
			max = nr;
		free(name);
	}
	if (max < 0 || *len + 6 > 4096)
		return 0;
	const struct sock_filter head[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4), /* seccomp_data.arch */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, native, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0), /* seccomp_data.nr */
		/* x32's numbers carry bit 30: the program below judges them */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t) max, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	};
	struct sock_filter *n = kiln_reallocarray(NULL, *len + 6, sizeof(*n));
	if (!n)
		return kiln_fail(err, KILN_ENOMEM, 0, "seccomp: out of memory");
	memcpy(n, head, sizeof(head));
	memcpy(n + 6, *prog, *len * sizeof(*n));
	free(*prog);
	*prog = n;
	*len += 6;
	return 0;
}

int kiln_exec_seccomp_build(uint64_t caps, void **ret_prog, size_t *ret_len, struct kiln_error *err)
{
	scmp_filter_ctx sc = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!sc)
		return kiln_fail(err, KILN_ENOMEM, 0, "seccomp: out of memory");
	int r = build(sc, caps, err);
	if (r >= 0)
		r = export_bpf(sc, ret_prog, ret_len, err);
	if (r >= 0 && (r = newer_enosys(seccomp_arch_native(), ret_prog, ret_len, err)) < 0) {
		free(*ret_prog);
		*ret_prog = NULL;
	}
	seccomp_release(sc);
	return r;
}
