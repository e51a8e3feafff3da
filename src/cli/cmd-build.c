/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln build: flags in, one kiln_build() call, progress rendered, the image
 * id, --iidfile and --metadata-file written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/gotext.h"
#include "base/output.h"
#include "build/build.h"
#include "exec/exec.h"
#include "cli.h"
#include "cmd-build-report.h"
#include "cmd-pull.h"
#include "dockerfile/ast.h"
#include "dockerfile/platform.h"
#include "progress-build.h"
#include "ref/ref.h"
#include "registry/registry.h"
#include "store/store.h"

static const char *arg_file;
static const char *arg_target;
static struct kiln_strv arg_platforms = KILN_STRV_INIT; /* as typed: "a,b" */
static const char *arg_network;
static const char *arg_progress;
static const char *arg_iidfile;
static const char *arg_metadata;
static const char *arg_epoch;
static int arg_no_cache;
static int arg_pull;
static int arg_push;
static int arg_load;
static int arg_check;
static const char *arg_call;
static int arg_quiet;
static long arg_jobs;
static struct kiln_strv arg_tags = KILN_STRV_INIT;
static struct kiln_strv arg_build_args = KILN_STRV_INIT;
static struct kiln_strv arg_labels = KILN_STRV_INIT;
static struct kiln_strv arg_outputs = KILN_STRV_INIT;
static struct kiln_strv arg_secrets = KILN_STRV_INIT;
static struct kiln_strv arg_ssh = KILN_STRV_INIT;
static struct kiln_strv arg_allow = KILN_STRV_INIT;
static struct kiln_strv arg_cache_from = KILN_STRV_INIT;
static struct kiln_strv arg_cache_to = KILN_STRV_INIT;
static struct kiln_strv arg_contexts = KILN_STRV_INIT;
static struct kiln_strv arg_annotations = KILN_STRV_INIT;
static struct kiln_strv arg_no_cache_filter = KILN_STRV_INIT;
static struct kiln_strv arg_add_hosts = KILN_STRV_INIT;
static struct kiln_strv arg_ulimits = KILN_STRV_INIT;
static const char *arg_shm_size;
/* -o annotation[-TYPE][[PLATFORM]].KEY=VALUE: key, value, key, value, ... */
static struct kiln_strv arg_out_annotations = KILN_STRV_INIT;
static struct cli_registry_args arg_reg = { .retries = -1 };

static const struct cli_spec spec = {
	.usage = "kiln build [-f FILE] [-t NAME[:TAG]]... [--target STAGE] [--build-arg K=V]... "
		 "[--label K=V]... [--annotation [TYPE:]K=V]... [--no-cache] "
		 "[--no-cache-filter STAGE]... [--pull] "
		 "[--platform P]... [--add-host NAME:IP]... [--ulimit L]... [--shm-size S] "
		 "[--network MODE] "
		 "[--secret SPEC]... [--ssh SPEC]... [--allow ENTITLEMENT]... "
		 "[--cache-from SPEC]... [--cache-to SPEC]... "
		 "[--progress MODE] [-o SPEC]... [--push] [--load] [--call METHOD] [--iidfile F] "
		 "[--metadata-file F] [--build-context NAME=VALUE]... [-j N] CONTEXT|URL|-",
	.summary = "Build an image from a Dockerfile and a context, the way BuildKit does.",
	.opts =
		(const struct cli_opt[]){
			{ "file", 'f', CLI_OPT_STRING, &arg_file, "FILE",
			  "the Dockerfile (default: CONTEXT/Dockerfile; - reads it from stdin)" },
			{ "tag", 't', CLI_OPT_LIST, &arg_tags, "NAME[:TAG]",
			  "name the image (repeatable)" },
			{ "target", 0, CLI_OPT_STRING, &arg_target, "STAGE",
			  "the stage to build (default: the last one)" },
			{ "build-arg", 0, CLI_OPT_LIST, &arg_build_args, "K=V",
			  "a build argument; K alone takes its value from the environment" },
			{ "label", 0, CLI_OPT_LIST, &arg_labels, "K=V", "a label on the image" },
			{ "annotation", 0, CLI_OPT_LIST, &arg_annotations, "[TYPE:]K=V",
			  "an OCI annotation (TYPE: manifest, the default, index-descriptor; "
			  "TYPE[OS/ARCH] for one platform)" },
			{ "no-cache", 0, CLI_OPT_FLAG, &arg_no_cache, NULL,
			  "run every step (the results still fill the cache)" },
			{ "no-cache-filter", 0, CLI_OPT_LIST, &arg_no_cache_filter, "STAGE",
			  "run every step of this stage (repeatable)" },
			{ "pull", 0, CLI_OPT_FLAG, &arg_pull, NULL,
			  "pull the base images even when the store has them" },
			{ "platform", 0, CLI_OPT_LIST, &arg_platforms, "OS/ARCH[/VARIANT][,...]",
			  "the target platform, or several: an image index (RUN executes "
			  "only in stages for this machine's)" },
			{ "add-host", 0, CLI_OPT_LIST, &arg_add_hosts, "NAME:IP",
			  "an /etc/hosts entry for every RUN (IP may be host-gateway)" },
			{ "ulimit", 0, CLI_OPT_LIST, &arg_ulimits, "NAME=SOFT[:HARD]",
			  "a resource limit for every RUN (nofile=1024:2048)" },
			{ "shm-size", 0, CLI_OPT_STRING, &arg_shm_size, "SIZE",
			  "the size of every RUN's /dev/shm (default 64m)" },
			{ "network", 0, CLI_OPT_STRING, &arg_network, "MODE",
			  "RUN's network: default (= host: kiln has no bridge), host or none" },
			{ "secret", 0, CLI_OPT_LIST, &arg_secrets, "id=ID[,src=PATH|,env=VAR]",
			  "a secret for RUN --mount=type=secret (buildx's form; repeatable)" },
			{ "ssh", 0, CLI_OPT_LIST, &arg_ssh, "ID[=SOCKET|KEY[,KEY]...]",
			  "an SSH agent for RUN --mount=type=ssh (default: $SSH_AUTH_SOCK)" },
			{ "allow", 0, CLI_OPT_LIST, &arg_allow, "ENTITLEMENT",
			  "security.insecure: let RUN --security=insecure run (network.host is "
			  "granted anyway)" },
			{ "cache-from", 0, CLI_OPT_LIST, &arg_cache_from, "SPEC",
			  "read a shared cache first: type=registry,ref=REF (also an image with "
			  "an inline cache; a bare REF is the same) or type=local,src=DIR[,tag=T]"
			  "[,digest=D]; a missing one is a warning" },
			{ "cache-to", 0, CLI_OPT_LIST, &arg_cache_to, "SPEC",
			  "write the cache: type=registry,ref=REF, type=local,dest=DIR[,tag=T] or "
			  "type=inline; [,mode=min|max][,cache-mounts=BOOL][,ignore-error=BOOL]"
			  "[,image-manifest=BOOL]" },
			{ "progress", 0, CLI_OPT_STRING, &arg_progress, "MODE",
			  "auto (tty on a terminal, else plain), tty, plain or quiet" },
			{ "quiet", 'q', CLI_OPT_FLAG, &arg_quiet, NULL,
			  "no progress; print the image id" },
			{ "output", 'o', CLI_OPT_LIST, &arg_outputs, "SPEC",
			  "type=image|oci|docker|local|tar|registry[,dest=PATH][,tar=BOOL]"
			  "[,compression=gzip|zstd|uncompressed][,compression-level=N][,force-"
			  "compression=BOOL][,push=BOOL][,rewrite-timestamp=BOOL]"
			  "[,annotation[-TYPE].K=V]; "
			  "a bare DIR means type=local,dest=DIR and - means type=tar,dest=-" },
			{ "push", 0, CLI_OPT_FLAG, &arg_push, NULL,
			  "push the image to its registry (-t)" },
			{ "call", 0, CLI_OPT_STRING, &arg_call, "METHOD",
			  "build (the default), check (as --check), targets (list the "
			  "stages) or outline (the args and secrets the target takes)" },
			{ "check", 0, CLI_OPT_FLAG, &arg_check, NULL,
			  "run BuildKit's build checks and build nothing (exit 1 on a warning)" },
			{ "load", 0, CLI_OPT_FLAG, &arg_load, NULL,
			  "keep the image in the store (-o type=image) beside other outputs" },
			{ "iidfile", 0, CLI_OPT_STRING, &arg_iidfile, "FILE",
			  "write the image id to FILE" },
			{ "metadata-file", 0, CLI_OPT_STRING, &arg_metadata, "FILE",
			  "write the build's result as JSON to FILE" },
			{ "jobs", 'j', CLI_OPT_INT, &arg_jobs, "N",
			  "stages built at the same time (default: the number of CPUs)" },
			{ "source-date-epoch", 0, CLI_OPT_STRING, &arg_epoch, "SECONDS",
			  "date the image (config and history) at SECONDS since 1970, and set "
			  "the SOURCE_DATE_EPOCH build arg (default: $SOURCE_DATE_EPOCH)" },
			{ "build-context", 0, CLI_OPT_LIST, &arg_contexts, "NAME=VALUE",
			  "the image or stage NAME is VALUE instead: a directory, "
			  "docker-image://REF, oci-layout://DIR[:TAG][@DIGEST], a git or https "
			  "URL (repeatable)" },
			CLI_REGISTRY_TLS_OPTS(arg_reg),
			{ "creds", 0, CLI_OPT_STRING, &arg_reg.creds, "USER[:PASSWORD]",
			  "credentials for pulls and pushes (instead of the credentials file)" },
			{ 0 } },
	.details =
		"The image lands in the store under every -t; --output writes it elsewhere too:\n"
		"an OCI layout (type=oci: a tar, or a directory with tar=false), a docker\n"
		"archive (type=docker), the root filesystem as a directory (type=local) or a\n"
		"tar (type=tar), or a registry (type=registry, or --push). dest=- writes a tar\n"
		"to stdout. CONTEXT - reads a tar context, or a lone Dockerfile, from stdin;\n"
		"a git URL (https://host/repo.git#ref:dir, ...repo.git?tag=T&subdir=D,\n"
		"git@host:repo) or an https URL of a tar is fetched as the context.\n"
		"Every step is cached by a key of what it is made of (parent, instruction,\n"
		"the build args it uses, the sources' contents); the cache lives in the store\n"
		"until kiln prune. Base images come from the store, or are pulled when missing.\n"
		"Exits 0 on success, 1 when the build failed, 2 on usage errors.\n"
		"See docs/build.md.",
};

static void reset_args(void)
{
	arg_file = arg_target = arg_network = arg_progress = NULL;
	arg_iidfile = arg_metadata = arg_epoch = arg_shm_size = arg_call = NULL;
	arg_no_cache = arg_pull = arg_push = arg_load = arg_check = arg_quiet = 0;
	arg_jobs = 0;
	memset(&arg_reg, 0, sizeof(arg_reg));
	arg_reg.retries = -1;
}

static void release_args(void)
{
	kiln_strv_release(&arg_tags);
	kiln_strv_release(&arg_build_args);
	kiln_strv_release(&arg_labels);
	kiln_strv_release(&arg_outputs);
	kiln_strv_release(&arg_secrets);
	kiln_strv_release(&arg_ssh);
	kiln_strv_release(&arg_allow);
	kiln_strv_release(&arg_cache_from);
	kiln_strv_release(&arg_cache_to);
	kiln_strv_release(&arg_contexts);
	kiln_strv_release(&arg_annotations);
	kiln_strv_release(&arg_no_cache_filter);
	kiln_strv_release(&arg_platforms);
	kiln_strv_release(&arg_add_hosts);
	kiln_strv_release(&arg_ulimits);
	kiln_strv_release(&arg_out_annotations);
}

/* One --output value in buildx's CSV form. */
static int parse_output(const char *s, struct kiln_build_output *out, struct kiln_build_opts *o,
			struct kiln_strv *own, struct kiln_strv *names, int *oci_mediatypes)
{
	*out = (struct kiln_build_output){ 0 };
	if (!strchr(s, '=')) {
		/* -o DIR / -o - */
		out->type = strcmp(s, "-") ? KILN_BUILD_OUTPUT_LOCAL : KILN_BUILD_OUTPUT_TAR;
		out->dest = s;
		return 0;
	}
	int have_type = 0;
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, ",");
		cleanup_free char *kv = kiln_strndup(p, n);
		if (!kv)
			return cli_usage_error(&spec, "out of memory");
		char *eq = strchr(kv, '=');
		if (!eq)
			return cli_usage_error(&spec, "--output: '%s' is not KEY=VALUE", kv);
		*eq = '\0';
		const char *k = kv, *v = eq + 1;
		struct kiln_error err = KILN_ERROR_INIT;
		if (!strcmp(k, "type")) {
			if (kiln_build_output_type_parse(v, &out->type, &err) < 0) {
				int r = cli_usage_error(&spec, "--output: %s", err.msg);
				kiln_error_release(&err);
				return r;
			}
			have_type = 1;
		} else if (!strcmp(k, "dest")) {
			if (kiln_strv_push(own, v) < 0)
				return cli_usage_error(&spec, "out of memory");
			out->dest = own->items[own->len - 1];
		} else if (!strcmp(k, "tar")) {
			int b;
			if (kiln_go_parse_bool(v, &b) < 0)
				return cli_usage_error(&spec, "--output: tar wants true or false");
			out->oci_dir = !b;
		} else if (!strcmp(k, "push")) {
			if (kiln_go_parse_bool(v, &out->push) < 0)
				return cli_usage_error(&spec, "--output: push wants true or false");
		} else if (!strcmp(k, "compression")) {
			if (!strcmp(v, "uncompressed"))
				v = "none";
			if (kiln_compression_parse(v, &o->compression, &err) < 0 ||
			    o->compression == KILN_COMPRESSION_BZIP2 ||
			    o->compression == KILN_COMPRESSION_XZ) {
				kiln_error_release(&err);
				return cli_usage_error(&spec,
						       "--output: compression is gzip, zstd or "
						       "uncompressed, not '%s'",
						       v);
			}
			o->compression_set = 1;
		} else if (!strcmp(k, "compression-level")) {
			char *end = NULL;
			long lv = strtol(v, &end, 10);
			if (!*v || *end || lv < 0 || lv > 22)
				return cli_usage_error(&spec,
						       "--output: compression-level is 0 to 22");
			o->compression_level = (int) lv;
		} else if (!strcmp(k, "name")) {
			/* this output's names, instead of -t's, as buildx's exporters
			 * take them (several: name=a;b) */
			for (const char *q = v; *q;) {
				size_t m = strcspn(q, ";");
				if (m && kiln_strv_pushn(names, q, m) < 0)
					return cli_usage_error(&spec, "out of memory");
				q += m + (q[m] == ';');
			}
		} else if (!strcmp(k, "force-compression")) {
			if (kiln_go_parse_bool(v, &o->force_compression) < 0)
				return cli_usage_error(
					&spec, "--output: force-compression wants true or false");
		} else if (!strcmp(k, "rewrite-timestamp")) {
			if (kiln_go_parse_bool(v, &o->rewrite_timestamp) < 0)
				return cli_usage_error(
					&spec, "--output: rewrite-timestamp wants true or false");
		} else if (!strncmp(k, "annotation", 10)) {
			/* for the image, whichever output asks (kiln writes one manifest) */
			if (kiln_strv_push(&arg_out_annotations, k) < 0 ||
			    kiln_strv_push(&arg_out_annotations, v) < 0)
				return cli_usage_error(&spec, "out of memory");
		} else if (!strcmp(k, "oci-mediatypes")) {
			int b;
			if (kiln_go_parse_bool(v, &b) < 0)
				return cli_usage_error(
					&spec, "--output: oci-mediatypes wants true or false");
			/* one manifest for every output: they must agree */
			if (*oci_mediatypes >= 0 && *oci_mediatypes != b)
				return cli_usage_error(&spec,
						       "--output: the outputs disagree on "
						       "oci-mediatypes (kiln writes one manifest)");
			*oci_mediatypes = b;
			o->docker_media_types = !b;
		} else {
			return cli_usage_error(&spec, "--output: unknown key '%s'", k);
		}
		p += n + (p[n] == ',');
	}
	if (!have_type)
		return cli_usage_error(&spec, "--output needs type=...");
	if (names->len && out->type != KILN_BUILD_OUTPUT_IMAGE &&
	    out->type != KILN_BUILD_OUTPUT_REGISTRY && out->type != KILN_BUILD_OUTPUT_OCI &&
	    out->type != KILN_BUILD_OUTPUT_DOCKER)
		return cli_usage_error(&spec, "--output: name= names an image, not a %s output",
				       out->type == KILN_BUILD_OUTPUT_LOCAL ? "local" : "tar");
	out->names = (const char *const *) names->items;
	out->n_names = names->len;
	int needs_dest = out->type == KILN_BUILD_OUTPUT_OCI ||
			 out->type == KILN_BUILD_OUTPUT_DOCKER ||
			 out->type == KILN_BUILD_OUTPUT_LOCAL || out->type == KILN_BUILD_OUTPUT_TAR;
	if (needs_dest && (!out->dest || !*out->dest))
		return cli_usage_error(&spec, "--output type=%s needs dest=PATH",
				       out->type == KILN_BUILD_OUTPUT_OCI      ? "oci"
				       : out->type == KILN_BUILD_OUTPUT_DOCKER ? "docker"
				       : out->type == KILN_BUILD_OUTPUT_LOCAL  ? "local"
									       : "tar");
	if (out->oci_dir && !strcmp(out->dest ? out->dest : "", "-"))
		return cli_usage_error(&spec, "--output: an OCI layout directory cannot be -");
	return 0;
}

/* stdin: a tar context, or a Dockerfile alone */
static int read_stdin(int *ret_tar_fd, char **ret_df, size_t *ret_len, struct kiln_error *err)
{
	const char *tmp = getenv("TMPDIR");
	int fd = open(tmp && *tmp ? tmp : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return kiln_fail_errno(err, "creating a temporary file for stdin");
	char buf[65536];
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = kiln_fail_errno(err, "reading stdin");
			(void) close(fd);
			return r;
		}
		if (n == 0)
			break;
		if (kiln_write_all(fd, buf, (size_t) n) < 0) {
			int r = kiln_fail_errno(err, "buffering stdin");
			(void) close(fd);
			return r;
		}
	}
	int r = lseek(fd, 0, SEEK_SET) < 0 ? kiln_fail_errno(err, "rewinding stdin")
					   : kiln_layer_is_archive(fd, err);
	if (r >= 0 && lseek(fd, 0, SEEK_SET) < 0)
		r = kiln_fail_errno(err, "rewinding stdin");
	if (r < 0) {
		(void) close(fd);
		return r;
	}
	if (r == 1) {
		*ret_tar_fd = fd;
		return 0;
	}
	r = kiln_read_fd(fd, KILN_DF_MAX_FILE, ret_df, ret_len, err);
	(void) close(fd);
	return r;
}

static int write_text(const char *path, const char *s, struct kiln_error *err)
{
	return kiln_output_write(path, s, strlen(s), 0644, err);
}

/* Everything cmd_build() owns while it runs. */
struct build_args {
	struct kiln_build_opts o;
	struct kiln_build_output outputs[KILN_BUILD_MAX_OUTPUTS + 1];
	struct kiln_build_cache cache_from[KILN_BUILD_MAX_CACHES + 1];
	struct kiln_build_cache cache_to[KILN_BUILD_MAX_CACHES + 1];
	struct kiln_registry_opts ro;
	struct kiln_strv build_args;
	struct kiln_strv hidden_args;
	struct kiln_build_secret *secrets;
	struct kiln_build_ssh *ssh;
	struct kiln_build_context *contexts;
	struct kiln_build_annotation *annotations;
	struct kiln_exec_host *hosts;
	struct kiln_exec_rlimit ulimits[KILN_EXEC_MAX_RLIMITS];
	struct kiln_strv own;
	struct kiln_strv out_names[KILN_BUILD_MAX_OUTPUTS + 1]; /* each --output's name= */
	struct kiln_strv platforms; /* --platform's, split at commas */
	struct kiln_strv distinct_platforms; /* those, normalized, each once */
	char *df_data;
	size_t df_len;
	char *df_default;
	enum cli_build_progress_mode mode;
	int list_targets; /* --call=targets */
	int outline;	  /* --call=outline */
};

static void build_args_release(struct build_args *a)
{
	for (size_t i = 0; a->secrets && i < a->o.n_secrets; i++)
		kiln_build_secret_release(&a->secrets[i]);
	free(a->secrets);
	for (size_t i = 0; a->ssh && i < a->o.n_ssh; i++)
		kiln_build_ssh_release(&a->ssh[i]);
	free(a->ssh);
	for (size_t i = 0; a->contexts && i < a->o.n_contexts; i++)
		kiln_build_context_release(&a->contexts[i]);
	free(a->contexts);
	for (size_t i = 0; a->annotations && i < a->o.n_annotations; i++)
		kiln_build_annotation_release(&a->annotations[i]);
	free(a->annotations);
	for (size_t i = 0; a->hosts && i < a->o.n_add_hosts; i++)
		kiln_exec_host_release(&a->hosts[i]);
	free(a->hosts);
	kiln_strv_release(&a->build_args);
	kiln_strv_release(&a->hidden_args);
	kiln_strv_release(&a->own);
	for (size_t i = 0; i <= KILN_BUILD_MAX_OUTPUTS; i++)
		kiln_strv_release(&a->out_names[i]);
	kiln_strv_release(&a->platforms);
	kiln_strv_release(&a->distinct_platforms);
	free(a->df_data);
	free(a->df_default);
	if (a->o.context_tar_fd >= 0)
		(void) close(a->o.context_tar_fd);
}

static int oom_report(struct cli_env *env)
{
	struct kiln_error err = KILN_ERROR_INIT;
	(void) kiln_fail(&err, KILN_ENOMEM, 0, "out of memory");
	return cli_report(env, &err);
}

/* What docker takes for a remote context: a git repository or a URL. */
static int is_url_context(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8) ||
	       !strncmp(s, "git://", 6) || !strncmp(s, "ssh://", 6) ||
	       (!strncmp(s, "git@", 4) && strchr(s, ':'));
}

/* --build-context NAME=VALUE..., checked. */
static int parse_contexts(struct build_args *a)
{
	if (arg_contexts.len > KILN_BUILD_MAX_CONTEXTS)
		return cli_usage_error(&spec, "at most %d --build-context", KILN_BUILD_MAX_CONTEXTS);
	if (!arg_contexts.len)
		return CLI_EXIT_OK;
	a->contexts = kiln_calloc(arg_contexts.len, sizeof(*a->contexts));
	if (!a->contexts)
		return cli_usage_error(&spec, "out of memory");
	for (size_t i = 0; i < arg_contexts.len; i++) {
		struct kiln_error err = KILN_ERROR_INIT;
		if (kiln_build_context_parse(arg_contexts.items[i], &a->contexts[i], &err) < 0) {
			int r = cli_usage_error(&spec, "%s", err.msg ? err.msg : "bad --build-context");
			kiln_error_release(&err);
			return r;
		}
		a->o.n_contexts++;
	}
	a->o.contexts = a->contexts;
	return CLI_EXIT_OK;
}

/* Seconds since 1970 as SOURCE_DATE_EPOCH has them: digits only. */
static int parse_epoch(const char *s, int64_t *ret)
{
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 12)
		return -1;
	*ret = (int64_t) strtoll(s, NULL, 10);
	return 0;
}

/*
 * SOURCE_DATE_EPOCH, as buildx and BuildKit take it: --source-date-epoch,
 * else the build arg, else kiln's environment. Whichever gives it, the
 * Dockerfile sees it as the SOURCE_DATE_EPOCH build arg.
 */
static int source_date_epoch(struct cli_env *env, struct build_args *a)
{
	const char *arg = NULL;
	for (size_t i = 0; i < a->build_args.len; i++)
		if (!strncmp(a->build_args.items[i], "SOURCE_DATE_EPOCH=", 18))
			arg = a->build_args.items[i] + 18;
	const char *from_env = getenv("SOURCE_DATE_EPOCH");
	const char *v = arg_epoch ? arg_epoch : arg ? arg : from_env && *from_env ? from_env : NULL;
	if (!v)
		return CLI_EXIT_OK;
	if (parse_epoch(v, &a->o.source_date_epoch) < 0)
		return cli_usage_error(&spec, "%s is seconds since 1970, not '%s'",
				       arg_epoch ? "--source-date-epoch"
				       : arg	 ? "the build arg SOURCE_DATE_EPOCH"
						 : "SOURCE_DATE_EPOCH in the environment",
				       v);
	if (v == arg)
		return CLI_EXIT_OK;
	/* a later build arg of a name replaces an earlier one */
	char *kv = kiln_asprintf("SOURCE_DATE_EPOCH=%s", v);
	if (!kv || kiln_strv_push_owned(&a->build_args, kv) < 0)
		return oom_report(env);
	return CLI_EXIT_OK;
}

/* --secret, --ssh and --allow into options */
static int parse_secrets(struct cli_env *env, struct build_args *a)
{
	struct kiln_build_opts *o = &a->o;
	struct kiln_error err = KILN_ERROR_INIT;
	if (arg_secrets.len > KILN_BUILD_MAX_SECRETS)
		return cli_usage_error(&spec, "at most %d --secret", KILN_BUILD_MAX_SECRETS);
	if (arg_ssh.len > KILN_BUILD_MAX_SSH)
		return cli_usage_error(&spec, "at most %d --ssh", KILN_BUILD_MAX_SSH);
	a->secrets = kiln_calloc(arg_secrets.len + 1, sizeof(*a->secrets));
	a->ssh = kiln_calloc(arg_ssh.len + 1, sizeof(*a->ssh));
	if (!a->secrets || !a->ssh)
		return oom_report(env);
	for (size_t i = 0; i < arg_secrets.len; i++) {
		if (kiln_build_secret_parse(arg_secrets.items[i], &a->secrets[i], &err) < 0)
			return cli_flag_error(env, &spec, "--secret", &err);
		o->n_secrets = i + 1;
	}
	for (size_t i = 0; i < arg_ssh.len; i++) {
		if (kiln_build_ssh_parse(arg_ssh.items[i], &a->ssh[i], &err) < 0)
			return cli_report(env, &err);
		o->n_ssh = i + 1;
	}
	for (size_t i = 0; i < arg_allow.len; i++)
		if (kiln_build_allow_parse(arg_allow.items[i], &o->allow, &err) < 0)
			return cli_flag_error(env, &spec, "--allow", &err);
	o->secrets = a->secrets;
	o->ssh = a->ssh;
	return CLI_EXIT_OK;
}

/* --annotation and -o annotation.* into options */
static int parse_annotations(struct cli_env *env, struct build_args *a)
{
	size_t n = arg_annotations.len + arg_out_annotations.len / 2;
	if (n > KILN_BUILD_MAX_ANNOTATIONS)
		return cli_usage_error(&spec, "at most %d annotations", KILN_BUILD_MAX_ANNOTATIONS);
	a->annotations = kiln_calloc(n + 1, sizeof(*a->annotations));
	if (!a->annotations)
		return oom_report(env);
	for (size_t i = 0; i < n; i++) {
		struct kiln_error err = KILN_ERROR_INIT;
		int out = i >= arg_annotations.len;
		char *const *kv = out ? &arg_out_annotations.items[2 * (i - arg_annotations.len)]
				      : NULL;
		int r = out ? kiln_build_annotation_parse_output(kv[0], kv[1], &a->annotations[i],
								 &err)
			    : kiln_build_annotation_parse(arg_annotations.items[i],
							  &a->annotations[i], &err);
		if (r < 0)
			return cli_flag_error(env, &spec, out ? "--output" : "--annotation", &err);
		a->o.n_annotations = i + 1;
	}
	a->o.annotations = a->annotations;
	return CLI_EXIT_OK;
}

/* --add-host, --ulimit and --shm-size into options */
static int parse_hosts(struct cli_env *env, struct build_args *a)
{
	if (arg_add_hosts.len > KILN_EXEC_MAX_HOSTS)
		return cli_usage_error(&spec, "at most %d --add-host", KILN_EXEC_MAX_HOSTS);
	a->hosts = kiln_calloc(arg_add_hosts.len + 1, sizeof(*a->hosts));
	if (!a->hosts)
		return oom_report(env);
	for (size_t i = 0; i < arg_add_hosts.len; i++) {
		struct kiln_error err = KILN_ERROR_INIT;
		if (kiln_exec_host_parse(arg_add_hosts.items[i], &a->hosts[i], &err) < 0)
			return cli_flag_error(env, &spec, "--add-host", &err);
		a->o.n_add_hosts = i + 1;
	}
	a->o.add_hosts = a->hosts;
	if (arg_ulimits.len > KILN_EXEC_MAX_RLIMITS)
		return cli_usage_error(&spec, "at most %d --ulimit", KILN_EXEC_MAX_RLIMITS);
	for (size_t i = 0; i < arg_ulimits.len; i++) {
		struct kiln_error err = KILN_ERROR_INIT;
		if (kiln_exec_rlimit_parse(arg_ulimits.items[i], &a->ulimits[i], &err) < 0)
			return cli_flag_error(env, &spec, "--ulimit", &err);
	}
	a->o.ulimits = a->ulimits;
	a->o.n_ulimits = arg_ulimits.len;
	struct kiln_error err = KILN_ERROR_INIT;
	if (arg_shm_size && kiln_exec_size_parse(arg_shm_size, &a->o.shm_size, &err) < 0)
		return cli_flag_error(env, &spec, "--shm-size", &err);
	return CLI_EXIT_OK;
}

/* --cache-from and --cache-to */
static int parse_caches(struct cli_env *env, struct build_args *a)
{
	const struct kiln_strv *lists[2] = { &arg_cache_from, &arg_cache_to };
	struct kiln_build_cache *dst[2] = { a->cache_from, a->cache_to };
	for (int to = 0; to < 2; to++) {
		if (lists[to]->len > KILN_BUILD_MAX_CACHES)
			return cli_usage_error(&spec, "at most %d --cache-%s", KILN_BUILD_MAX_CACHES,
					       to ? "to" : "from");
		for (size_t i = 0; i < lists[to]->len; i++) {
			struct kiln_error err = KILN_ERROR_INIT;
			if (kiln_build_cache_parse(lists[to]->items[i], to, &dst[to][i], &a->own,
						   &err) < 0) {
				if (err.code == KILN_ENOMEM)
					return cli_report(env, &err);
				int r = cli_usage_error(&spec, "%s", err.msg);
				kiln_error_release(&err);
				return r;
			}
		}
	}
	a->o.cache_from = a->cache_from;
	a->o.n_cache_from = arg_cache_from.len;
	a->o.cache_to = a->cache_to;
	a->o.n_cache_to = arg_cache_to.len;
	/* --build-arg BUILDKIT_INLINE_CACHE=1: docker build's way to ask for
	 * --cache-to type=inline */
	int want_inline = 0;
	for (size_t i = 0; i < a->build_args.len; i++) {
		const char *kv = a->build_args.items[i];
		if (!strncmp(kv, "BUILDKIT_INLINE_CACHE=", 22) &&
		    kiln_go_parse_bool(kv + 22, &want_inline) < 0)
			want_inline = 0;
	}
	for (size_t i = 0; want_inline && i < a->o.n_cache_to; i++)
		want_inline = a->cache_to[i].type != KILN_BUILD_CACHE_INLINE;
	if (want_inline) {
		struct kiln_error err = KILN_ERROR_INIT;
		if (kiln_build_cache_parse("type=inline", 1, &a->cache_to[a->o.n_cache_to], &a->own,
					   &err) < 0)
			return cli_report(env, &err);
		a->o.n_cache_to++;
	}
	return CLI_EXIT_OK;
}

/* Flags into options; CLI_EXIT_OK or the exit status of a usage error. */
static int parse_flags(struct cli_env *env, const struct kiln_strv *pos, struct build_args *a)
{
	struct kiln_build_opts *o = &a->o;
	struct kiln_error err = KILN_ERROR_INIT;
	int rc;
	if (pos->len != 1)
		return cli_usage_error(&spec,
				       pos->len ? "one CONTEXT only, not '%s'"
						: "missing CONTEXT (a directory, or -)%s",
				       pos->len ? pos->items[1] : "");
	const char *context = pos->items[0];
	a->mode = env->stderr_tty ? CLI_BUILD_PROGRESS_TTY : CLI_BUILD_PROGRESS_PLAIN;
	if (arg_progress) {
		if (!strcmp(arg_progress, "plain"))
			a->mode = CLI_BUILD_PROGRESS_PLAIN;
		else if (!strcmp(arg_progress, "tty"))
			a->mode = CLI_BUILD_PROGRESS_TTY;
		else if (!strcmp(arg_progress, "quiet"))
			a->mode = CLI_BUILD_PROGRESS_QUIET;
		else if (strcmp(arg_progress, "auto") != 0)
			return cli_usage_error(&spec,
					       "--progress is auto, tty, plain or quiet, not '%s'",
					       arg_progress);
	}
	/* as buildx: -q is --progress=quiet that also prints the image id */
	if (arg_quiet && arg_progress && strcmp(arg_progress, "auto") != 0 &&
	    strcmp(arg_progress, "quiet") != 0)
		return cli_usage_error(&spec, "--progress=%s and --quiet cannot be used together",
				       arg_progress);
	if (arg_quiet)
		a->mode = CLI_BUILD_PROGRESS_QUIET;
	if (!arg_network || !strcmp(arg_network, "default"))
		o->network = KILN_BUILD_NET_DEFAULT;
	else if (!strcmp(arg_network, "host"))
		o->network = KILN_BUILD_NET_HOST;
	else if (!strcmp(arg_network, "none"))
		o->network = KILN_BUILD_NET_NONE;
	else
		return cli_usage_error(&spec, "--network is default, host or none, not '%s'",
				       arg_network);
	if (arg_jobs < 0 || arg_jobs > KILN_BUILD_MAX_JOBS)
		return cli_usage_error(&spec, "--jobs is 1 to %d", KILN_BUILD_MAX_JOBS);
	if (arg_outputs.len > KILN_BUILD_MAX_OUTPUTS)
		return cli_usage_error(&spec, "at most %d --output", KILN_BUILD_MAX_OUTPUTS);
	size_t n_out = 0;
	int oci_mediatypes = -1; /* what an -o said: -1 nothing, else true or false */
	for (size_t i = 0; i < arg_outputs.len; i++) {
		if ((rc = parse_output(arg_outputs.items[i], &a->outputs[n_out], o, &a->own,
				       &a->out_names[n_out], &oci_mediatypes)) != 0)
			return rc;
		n_out++;
	}
	/* --push and --load (buildx's -o type=docker; the store is kiln's
	 * image store) each add one image output if there is none yet */
	int any_image = 0;
	for (size_t i = 0; i < n_out; i++)
		if (a->outputs[i].type == KILN_BUILD_OUTPUT_IMAGE) {
			a->outputs[i].push |= arg_push;
			any_image = 1;
		}
	if (!any_image && (arg_push || arg_load))
		a->outputs[n_out++] = (struct kiln_build_output){
			.type = KILN_BUILD_OUTPUT_IMAGE, .push = arg_push };
	for (size_t i = 0; i < n_out; i++) {
		int to_stdout = a->outputs[i].dest && !strcmp(a->outputs[i].dest, "-");
		if (to_stdout && env->stdout_tty)
			return cli_usage_error(&spec,
					       "refusing to write a tar to a terminal (dest=-)");
		if (to_stdout && arg_quiet)
			return cli_usage_error(&spec,
					       "--quiet prints the image id on stdout, where "
					       "dest=- writes a tar");
	}
	for (size_t i = 0; i < arg_build_args.len; i++) {
		const char *kv = arg_build_args.items[i];
		if (!*kv || *kv == '=')
			return cli_usage_error(&spec, "--build-arg needs K=V or K, not '%s'", kv);
		if (strchr(kv, '=')) {
			if (kiln_strv_push(&a->build_args, kv) < 0)
				return oom_report(env);
			continue;
		}
		const char *v = getenv(kv);
		if (v) {
			char *e = kiln_asprintf("%s=%s", kv, v);
			if (!e || kiln_strv_push_owned(&a->build_args, e) < 0)
				return oom_report(env);
			/* a value from the environment may be a credential: never shown */
			if (kiln_strv_push(&a->hidden_args, kv) < 0)
				return oom_report(env);
		}
	}
	if ((rc = source_date_epoch(env, a)) != CLI_EXIT_OK)
		return rc;
	if ((rc = parse_contexts(a)) != CLI_EXIT_OK)
		return rc;
	if (o->rewrite_timestamp && o->source_date_epoch < 0)
		cli_warn(env, "rewrite-timestamp=true has no effect without SOURCE_DATE_EPOCH "
			      "(--source-date-epoch)");
	for (size_t i = 0; i < arg_labels.len; i++) {
		char *l = arg_labels.items[i];
		if (l[0] == '=' || !l[0])
			return cli_usage_error(&spec, "--label needs K=V or K, not '%s'", l);
		if (!strchr(l, '=')) { /* K alone is K="", as buildx has it */
			char *kv = kiln_asprintf("%s=", l);
			if (!kv)
				return oom_report(env);
			free(l);
			arg_labels.items[i] = kv;
		}
	}
	if ((rc = cli_registry_opts(&spec, &arg_reg, &a->ro)) != 0)
		return rc;
	if ((rc = parse_secrets(env, a)) != CLI_EXIT_OK)
		return rc;
	if ((rc = parse_annotations(env, a)) != CLI_EXIT_OK)
		return rc;
	if ((rc = parse_hosts(env, a)) != CLI_EXIT_OK)
		return rc;

	/* the Dockerfile and the context */
	int stdin_context = !strcmp(context, "-");
	if (stdin_context && arg_file && !strcmp(arg_file, "-"))
		return cli_usage_error(&spec,
				       "the context and the Dockerfile cannot both be stdin");
	if (is_url_context(context)) {
		/* fetched by the build; -f names a file in it, or - stdin */
		o->context_url = context;
		if (arg_file && !strcmp(arg_file, "-")) {
			if (kiln_read_fd(STDIN_FILENO, KILN_DF_MAX_FILE, &a->df_data, &a->df_len,
					 &err) < 0)
				return cli_report(env, &err);
			o->dockerfile = a->df_data;
			o->dockerfile_len = a->df_len;
			o->dockerfile_name = "Dockerfile";
		} else {
			o->dockerfile_path = arg_file ? arg_file : "Dockerfile";
			o->dockerfile_name = o->dockerfile_path;
		}
	} else if (stdin_context) {
		if (read_stdin(&o->context_tar_fd, &a->df_data, &a->df_len, &err) < 0)
			return cli_report(env, &err);
		if (o->context_tar_fd >= 0) {
			/* -f names a file inside the tar context */
			o->dockerfile_path = arg_file ? arg_file : "Dockerfile";
			o->dockerfile_name = o->dockerfile_path;
		} else {
			o->dockerfile = a->df_data;
			o->dockerfile_len = a->df_len;
			o->dockerfile_name = "Dockerfile";
			if (arg_file)
				cli_warn(env, "-f %s is ignored: the Dockerfile came on stdin",
					 arg_file);
		}
	} else {
		o->context_dir = context;
		const char *path = arg_file;
		if (!path) {
			a->df_default = kiln_asprintf("%s/Dockerfile", context);
			if (!a->df_default)
				return oom_report(env);
			path = a->df_default;
		}
		int from_stdin = !strcmp(path, "-");
		int r = from_stdin ? kiln_read_fd(STDIN_FILENO, KILN_DF_MAX_FILE, &a->df_data,
						  &a->df_len, &err)
				   : kiln_read_file(path, KILN_DF_MAX_FILE, &a->df_data, &a->df_len,
						    &err);
		if (r < 0)
			return cli_report(env, &err);
		o->dockerfile = a->df_data;
		o->dockerfile_len = a->df_len;
		o->dockerfile_name = from_stdin || !arg_file ? "Dockerfile" : arg_file;
		o->dockerfile_path = from_stdin ? NULL : path;
	}
	o->target = arg_target;
	o->build_args = (const char *const *) a->build_args.items;
	o->n_build_args = a->build_args.len;
	o->hidden_args = (const char *const *) a->hidden_args.items;
	o->n_hidden_args = a->hidden_args.len;
	o->labels = (const char *const *) arg_labels.items;
	o->n_labels = arg_labels.len;
	o->no_cache_stages = (const char *const *) arg_no_cache_filter.items;
	o->n_no_cache_stages = arg_no_cache_filter.len;
	/* a bad -t or name= is a usage error, before anything is built */
	for (size_t k = 0; k <= n_out; k++) {
		const struct kiln_strv *list = k < n_out ? &a->out_names[k] : &arg_tags;
		for (size_t i = 0; i < list->len; i++) {
			struct kiln_ref *ref = NULL;
			struct kiln_error terr = KILN_ERROR_INIT;
			int tr = kiln_ref_parse(list->items[i], KILN_REF_DEFAULT_TAG_LATEST, &ref,
						&terr);
			int digest = tr >= 0 && ref->digest;
			kiln_ref_free(ref);
			if (tr < 0 && terr.code == KILN_ENOMEM)
				return cli_report(env, &terr);
			if (tr < 0 || digest) {
				int urc = cli_usage_error(
					&spec, "%s \"%s\": %s", k < n_out ? "name=" : "-t",
					list->items[i],
					tr < 0 ? terr.msg : "a tag cannot hold a digest");
				kiln_error_release(&terr);
				return urc;
			}
		}
	}
	o->tags = (const char *const *) arg_tags.items;
	o->n_tags = arg_tags.len;
	/* buildx's --platform: repeatable, each a comma-separated list; each
	 * platform checked here, so that a bad one is a usage error */
	for (size_t i = 0; i < arg_platforms.len; i++) {
		const char *p = arg_platforms.items[i];
		for (;;) {
			size_t len = strcspn(p, ",");
			size_t lead = 0;
			while (lead < len && p[lead] == ' ')
				lead++;
			while (len > lead && p[len - 1] == ' ')
				len--;
			if (len == lead)
				return cli_usage_error(&spec,
						       "--platform \"%s\": an empty platform",
						       arg_platforms.items[i]);
			cleanup_free char *one = kiln_strndup(p + lead, len - lead);
			struct kiln_df_platform parsed = { 0 };
			if (!one)
				return oom_report(env);
			if (kiln_df_platform_parse(one, &parsed, &err) < 0)
				return cli_flag_error(env, &spec, "--platform", &err);
			/* linux/arm64 and linux/arm64/v8 are one platform */
			cleanup_free char *norm = kiln_df_platform_normalize(&parsed) < 0
							  ? NULL
							  : kiln_df_platform_format(&parsed);
			kiln_df_platform_release(&parsed);
			if (!norm || kiln_strv_push(&a->platforms, one) < 0)
				return oom_report(env);
			if (kiln_strv_find(&a->distinct_platforms, norm) < 0 &&
			    kiln_strv_push(&a->distinct_platforms, norm) < 0)
				return oom_report(env);
			p += strcspn(p, ",");
			if (!*p++)
				break;
		}
	}
	for (size_t i = 0; a->distinct_platforms.len > 1 && i < n_out; i++)
		if (a->outputs[i].type == KILN_BUILD_OUTPUT_DOCKER)
			return cli_usage_error(&spec, "-o type=docker holds one platform's image, "
						      "not %zu: use -o type=oci",
					       a->distinct_platforms.len);
	o->platform = a->platforms.len ? a->platforms.items[0] : NULL;
	o->platforms = (const char *const *) a->platforms.items;
	o->n_platforms = a->platforms.len;
	/* buildx's --call: build, check, targets, outline */
	int targets = 0, outline = 0;
	if (arg_call && !strcmp(arg_call, "check"))
		arg_check = 1;
	else if (arg_call && !strcmp(arg_call, "targets"))
		targets = 1;
	else if (arg_call && !strcmp(arg_call, "outline"))
		outline = 1;
	else if (arg_call && strcmp(arg_call, "build") != 0)
		return cli_usage_error(&spec,
				       "--call is build, check, outline or targets, not '%s'",
				       arg_call);
	if ((targets || outline) && arg_check)
		return cli_usage_error(&spec, "--call=%s and --check are two requests", arg_call);
	a->list_targets = targets;
	a->outline = outline;
	o->flags = (arg_no_cache ? KILN_BUILD_NO_CACHE : 0) | (arg_pull ? KILN_BUILD_PULL : 0) |
		   (arg_check ? KILN_BUILD_CHECK_ONLY : 0) |
		   (targets ? KILN_BUILD_LIST_TARGETS : 0) | (outline ? KILN_BUILD_OUTLINE : 0);
	o->jobs = (unsigned) arg_jobs;
	o->outputs = a->outputs;
	o->n_outputs = n_out;
	a->ro.platform = o->platform;
	if ((rc = parse_caches(env, a)) != CLI_EXIT_OK)
		return rc;
	o->registry = &a->ro;
	return CLI_EXIT_OK;
}

/* as BuildKit: the checks' warnings after the progress, not with -q */
static void print_warnings(const struct build_args *a, const struct kiln_build_result *res)
{
	if (a->mode == CLI_BUILD_PROGRESS_QUIET || !res->n_warnings)
		return;
	fprintf(stderr, "\n %zu warning%s found (kiln build --check shows more):\n",
		res->n_warnings, res->n_warnings == 1 ? "" : "s");
	for (size_t i = 0; i < res->n_warnings; i++)
		build_print_warning(&res->warnings[i]);
}

static int run_build(struct cli_env *env, struct build_args *a)
{
	struct kiln_error err = KILN_ERROR_INIT;
	cleanup(cli_build_progress_freep) struct cli_build_progress *prog =
		cli_build_progress_new(a->mode, stderr);
	if (!prog)
		return oom_report(env);
	a->o.on_event = cli_build_progress_event;
	a->o.event_userdata = prog;
	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	/* the store is synced after the build, in the background (main.c) */
	if (kiln_store_open(&env->ctx, env->root, KILN_STORE_SYNC_LATER, &st, &err) < 0)
		return cli_report(env, &err);
	struct kiln_build_result res;
	int r = kiln_build(st, &env->ctx, &a->o, &res, &err);
	cli_build_progress_finish(prog);
	if (r < 0) {
		print_warnings(a, &res); /* those found before the error */
		kiln_build_result_release(&res);
		return cli_report(env, &err);
	}
	if (arg_check) {
		int rc = build_print_check(&res, a->o.dockerfile_name, a->o.dockerfile,
				     a->o.dockerfile_len);
		kiln_build_result_release(&res);
		return rc;
	}
	if (a->list_targets || a->outline) {
		if (a->list_targets)
			build_print_targets(&res);
		else
			build_print_outline(&res.outline);
		kiln_build_result_release(&res);
		if (fflush(stdout) == EOF) {
			(void) kiln_fail_errno(&err, "writing the output");
			return cli_report(env, &err);
		}
		return CLI_EXIT_OK;
	}
	print_warnings(a, &res);
	int rc = CLI_EXIT_OK;
	if (arg_quiet)
		printf("%s\n", res.config.str);
	if (arg_iidfile && write_text(arg_iidfile, res.config.str, &err) < 0)
		rc = cli_report(env, &err);
	if (rc == CLI_EXIT_OK && arg_metadata && build_write_metadata(arg_metadata, &res, &err) < 0)
		rc = cli_report(env, &err);
	kiln_build_result_release(&res);
	if (rc == CLI_EXIT_OK && fflush(stdout) == EOF) {
		(void) kiln_fail_errno(&err, "writing the output");
		rc = cli_report(env, &err);
	}
	return rc;
}

int cmd_build(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	reset_args();
	release_args();
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r) {
		release_args();
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	struct build_args a = {
		.o = { .context_tar_fd = -1, .out_fd = STDOUT_FILENO, .source_date_epoch = -1 },
		.build_args = KILN_STRV_INIT,
		.hidden_args = KILN_STRV_INIT,
		.own = KILN_STRV_INIT,
		.platforms = KILN_STRV_INIT,
		.distinct_platforms = KILN_STRV_INIT,
	};
	int rc = parse_flags(env, &pos, &a);
	if (rc == CLI_EXIT_OK)
		rc = run_build(env, &a);
	build_args_release(&a);
	release_args();
	return rc;
}
