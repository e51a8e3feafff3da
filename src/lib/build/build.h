/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "layer/layer.h"

/*
 * build: `kiln build`, the driver. A Dockerfile and a context become an
 * image in the store, the way BuildKit builds it:
 *
 *   parse -> typed model -> stage graph (errors located at their line,
 *   before any work) -> bases resolved from the store or pulled -> the
 *   needed stages run on threads (--jobs at a time), each step asking the
 *   cache first -> RUN in the sandbox over an overlay of the parent layers,
 *   COPY/ADD into the same overlay, metadata into the config -> layers
 *   committed from the overlay's upper directory -> config, manifest, names
 *   -> outputs (store, OCI layout or tar, docker archive, local directory,
 *   tar, registry).
 *
 * Progress is a stream of events the caller renders. docs/build.md is the
 * user guide, docs/internals/build.md the design.
 */

struct kiln_store;
struct kiln_registry_opts;

/* ---- progress ------------------------------------------------------------ */

enum kiln_build_event_kind {
	KILN_BUILD_EV_START,   /* a vertex (step or internal action) started: id, name */
	KILN_BUILD_EV_CACHED,  /* a vertex was satisfied from the cache */
	KILN_BUILD_EV_DONE,    /* a vertex finished: duration */
	KILN_BUILD_EV_ERROR,   /* a vertex failed: msg; data = the tail of its output */
	KILN_BUILD_EV_LOG,     /* output of a RUN: data/len (stream 1 or 2) */
	KILN_BUILD_EV_STATUS,  /* a detail of a running vertex: msg ("transferring 12 files") */
	KILN_BUILD_EV_WARNING, /* a warning not tied to a vertex: msg */
	/* a step the cache did not have, right after its START: msg = why, one
	 * line per reason; data/len = a short form for one line */
	KILN_BUILD_EV_MISS,
};

struct kiln_build_event {
	enum kiln_build_event_kind kind;
	int id;		     /* vertex number, from 1, in start order (BuildKit's #N) */
	const char *name;    /* "[build 2/5] RUN make", "[internal] load build context" */
	int64_t time_ns;     /* since the build started */
	int64_t duration_ns; /* DONE, ERROR, CACHED: since START */
	const char *data;    /* LOG, ERROR */
	size_t len;
	int stream;
	const char *msg;
};

/**
 * Called for every event, from any of the build's threads but never
 * concurrently (the build serializes the calls). Must not call back into
 * the build.
 */
typedef void (*kiln_build_event_fn)(void *userdata, const struct kiln_build_event *ev);

/* ---- options ----------------------------------------------------------- */

struct kiln_exec_host;
struct kiln_exec_rlimit;

enum kiln_build_output_type {
	KILN_BUILD_OUTPUT_IMAGE = 0, /* the store, named by the tags */
	KILN_BUILD_OUTPUT_OCI,	     /* OCI layout: a tar (default) or a directory */
	KILN_BUILD_OUTPUT_DOCKER,    /* docker-archive tar (docker load, podman load) */
	KILN_BUILD_OUTPUT_LOCAL,     /* the root filesystem as a directory */
	KILN_BUILD_OUTPUT_TAR,	     /* the root filesystem as a tar */
	KILN_BUILD_OUTPUT_REGISTRY,  /* pushed under every tag */
};

struct kiln_build_output {
	enum kiln_build_output_type type;
	const char *dest; /* a path; "-" = `out_fd` (a tar written to it) */
	int oci_dir;	  /* OCI: a layout directory instead of a tar (tar=false) */
	int push;	  /* IMAGE: also push (push=true) */
	/* name=: the names this output gives the image (IMAGE: in the store and
	 * where it pushes; DOCKER, OCI: in the archive), instead of the build's
	 * tags, as buildx's exporters take it; none: the tags */
	const char *const *names;
	size_t n_names;
};

enum kiln_build_flags {
	KILN_BUILD_NO_CACHE = 1 << 0, /* run every step; the cache is still written */
	KILN_BUILD_PULL = 1 << 1,     /* pull every base image even when the store has it */
	/* --check: BuildKit's build checks over every stage (the target's when
	 * one is named), and nothing built */
	KILN_BUILD_CHECK_ONLY = 1 << 2,
	/* --call=targets: the Dockerfile's stages with their descriptions, into
	 * the result, and nothing built (no base image pulled either) */
	KILN_BUILD_LIST_TARGETS = 1 << 3,
	/* --call=outline: what the target takes (build args, secrets, SSH
	 * agents), into the result, and nothing built */
	KILN_BUILD_OUTLINE = 1 << 4,
};

enum kiln_build_network {
	KILN_BUILD_NET_DEFAULT = 0, /* the host's network (kiln has no bridge) */
	KILN_BUILD_NET_NONE,
	KILN_BUILD_NET_HOST,
};

/* ---- annotations (--annotation, -o annotation.*) ------------------------ */

/** Where an annotation goes: BuildKit's annotation types. */
enum kiln_build_annotation_type {
	KILN_BUILD_ANNOTATION_MANIFEST = 0,	   /* the image manifest (the default) */
	KILN_BUILD_ANNOTATION_MANIFEST_DESCRIPTOR, /* the manifest's entry in an image index */
	KILN_BUILD_ANNOTATION_INDEX,		   /* an image index */
	KILN_BUILD_ANNOTATION_INDEX_DESCRIPTOR,	   /* the OCI layout's entry (index.json) */
};

struct kiln_build_annotation {
	enum kiln_build_annotation_type type;
	char *platform; /* normalized ("linux/arm64"), or NULL: every platform */
	char *key;
	char *value;
};

#define KILN_BUILD_MAX_ANNOTATIONS 256

/** buildx's --annotation: `[TYPE[PLATFORM]:]KEY=VALUE`; -KILN_EINVAL saying what is wrong. */
int kiln_build_annotation_parse(const char *spec, struct kiln_build_annotation *ret,
				struct kiln_error *err) __attribute__((warn_unused_result));
/** An exporter key `annotation[-TYPE][[PLATFORM]].KEY` and its value. */
int kiln_build_annotation_parse_output(const char *key, const char *value,
				       struct kiln_build_annotation *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
const char *kiln_build_annotation_type_name(enum kiln_build_annotation_type t);
void kiln_build_annotation_release(struct kiln_build_annotation *a);

/* ---- secrets, SSH agents and entitlements (RUN --mount=type=secret|ssh) ---- */

/**
 * One --secret: the value of `id` comes from the file `src` or from kiln's
 * environment variable `env` (one of them; see kiln_build_secret_parse()).
 * Values are read when the build starts and never written anywhere but
 * the private tmpfs of the RUNs that mount them.
 */
struct kiln_build_secret {
	char *id;
	char *src;
	char *env;
};

/** One --ssh: an agent for `id` ("default"): its socket, or private key files. */
struct kiln_build_ssh {
	char *id;
	struct kiln_strv paths; /* empty: $SSH_AUTH_SOCK */
};

enum kiln_build_allow {
	/* granted anyway: RUN's default network is the host's (kiln has no bridge) */
	KILN_BUILD_ALLOW_NETWORK_HOST = 1 << 0,
	KILN_BUILD_ALLOW_SECURITY_INSECURE = 1 << 1, /* RUN --security=insecure */
};

/** Limits: a secret's size (BuildKit's), the number of --secret and --ssh. */
#define KILN_BUILD_MAX_SECRET_SIZE ((size_t) 500 * 1024)
#define KILN_BUILD_MAX_SECRETS 256
#define KILN_BUILD_MAX_SSH 64

/**
 * Parse a --secret value as buildx does: CSV of `id=`, `src=`/`source=`,
 * `env=`, `type=file|env` (`type=env,src=VAR` names a variable). With
 * neither src nor env, an environment variable named like the id is used
 * when kiln has one, else the file named like the id. -KILN_EINVAL with
 * buildx's message.
 */
int kiln_build_secret_parse(const char *spec, struct kiln_build_secret *ret,
			    struct kiln_error *err) __attribute__((warn_unused_result));
void kiln_build_secret_release(struct kiln_build_secret *s);
/** Parse a --ssh value: `ID[=PATH[,PATH...]]` (`default` alone = $SSH_AUTH_SOCK). */
int kiln_build_ssh_parse(const char *spec, struct kiln_build_ssh *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
void kiln_build_ssh_release(struct kiln_build_ssh *s);
/** Add one --allow value (`security.insecure`, `network.host`) to `allow`. */
int kiln_build_allow_parse(const char *s, unsigned *allow, struct kiln_error *err)
	__attribute__((warn_unused_result));

/* ---- caches shared between machines (--cache-from, --cache-to) -------- */

enum kiln_build_cache_type {
	KILN_BUILD_CACHE_REGISTRY = 0, /* ref=: a repository of a registry */
	KILN_BUILD_CACHE_LOCAL,	       /* dest= / src=: an OCI image layout directory */
	KILN_BUILD_CACHE_INLINE,       /* export only: the records in the image's config */
};

/**
 * One --cache-to or --cache-from (docs/build.md, docs/internals/remote-cache.md).
 * The cache is BuildKit's cache manifest format with kiln's keys.
 */
struct kiln_build_cache {
	enum kiln_build_cache_type type;
	const char *ref;    /* registry: "host:5000/cache:main" (an image with an inline cache too) */
	const char *dir;    /* local: dest= (export) or src= (import) */
	const char *tag;    /* local: the name in index.json; NULL = "latest" */
	const char *digest; /* local import: the cache's manifest by digest instead */
	int mode_max;	    /* export: every step of every stage built (mode=max), not only the
			     * image's layers (mode=min) */
	int ignore_error;   /* export: a failure is a warning (ignore-error=true) */
	int cache_mounts;   /* export: the RUN --mount=type=cache directories too */
	int image_manifest; /* export: 1 an image manifest, 0 an index, -1 the default
			     * (registry: manifest, local: index, as BuildKit) */
};

#define KILN_BUILD_MAX_CACHES 16

/**
 * Parse one --cache-to (`to`) or --cache-from value, buildx's CSV
 * ("type=registry,ref=R,mode=max"; a value without '=' is a registry
 * reference). The strings of `ret` are copies kept in `own`. -KILN_EINVAL
 * naming what is wrong.
 */
int kiln_build_cache_parse(const char *spec, int to, struct kiln_build_cache *ret,
			   struct kiln_strv *own, struct kiln_error *err)
	__attribute__((warn_unused_result));

/* ---- named build contexts (--build-context) -------------------------------- */

/**
 * One --build-context NAME=VALUE, as buildx takes it. The VALUE is a
 * directory, `docker-image://REF` (a tag or `@sha256:` pinned),
 * `oci-layout://DIR[:TAG][@sha256:...]`, a git repository URL or an
 * https URL. A Dockerfile's `FROM NAME`, `COPY --from=NAME`,
 * `RUN --mount=from=NAME` then read it instead of the image NAME, and a
 * stage named NAME is replaced by it. NAME may end in `::OS/ARCH` to apply
 * to that platform only.
 */
struct kiln_build_context {
	char *name;
	char *value;
};

#define KILN_BUILD_MAX_CONTEXTS 128

/**
 * Parse NAME=VALUE: NAME a valid image name (lower case), VALUE of a kind
 * above (a directory is only checked when the build starts). -KILN_EINVAL
 * with the reason.
 */
int kiln_build_context_parse(const char *spec, struct kiln_build_context *ret,
			     struct kiln_error *err) __attribute__((warn_unused_result));
void kiln_build_context_release(struct kiln_build_context *c);

/* Limits. */
#define KILN_BUILD_MAX_JOBS 64
#define KILN_BUILD_MAX_OUTPUTS 16
#define KILN_BUILD_MAX_PLATFORMS 32
#define KILN_BUILD_LOG_TAIL 16384 /* bytes of a failed RUN's output kept for the error */

/** The default layer compression: gzip at level 1 (fast; what every registry and runtime reads). */
#define KILN_BUILD_COMPRESSION_DEFAULT KILN_COMPRESSION_GZIP
#define KILN_BUILD_COMPRESSION_LEVEL_DEFAULT 1

struct kiln_build_opts {
	/* The context directory; NULL for none (a Dockerfile alone). */
	const char *context_dir;
	/* >= 0: the context is this tar stream (plain or compressed), extracted
	 * into the build's scratch space; context_dir is then ignored. */
	int context_tar_fd;
	/* A git repository (`https://host/repo.git#ref:subdir`, `git@host:repo`)
	 * or an https URL of a tar: fetched into the build's scratch space as
	 * the context (a URL that is no archive is the Dockerfile itself);
	 * context_dir is then ignored. */
	const char *context_url;
	/* --build-context */
	const struct kiln_build_context *contexts;
	size_t n_contexts;
	/* The Dockerfile's text (read by the caller: a file or stdin); NULL with
	 * a tar context: `dockerfile_path` (default "Dockerfile") inside it. */
	const char *dockerfile;
	size_t dockerfile_len;
	/* Its name for messages ("Dockerfile", "build/app.Dockerfile") and for
	 * finding Dockerfile.dockerignore; NULL = "Dockerfile". */
	const char *dockerfile_name;
	/* Its path, to find <path>.dockerignore (NULL: only <context>/.dockerignore). */
	const char *dockerfile_path;
	const char *target;	       /* NULL: the last stage */
	const char *const *build_args; /* "K=V" */
	size_t n_build_args;
	const char *const *labels; /* "K=V", on the final image */
	size_t n_labels;
	const struct kiln_build_annotation *annotations;
	size_t n_annotations;
	/* --add-host, --ulimit, --shm-size: every RUN's sandbox (exec.h) */
	const struct kiln_exec_host *add_hosts;
	size_t n_add_hosts;
	const struct kiln_exec_rlimit *ulimits;
	size_t n_ulimits;
	uint64_t shm_size; /* 0: the default, 64 MiB */
	/* --no-cache-filter: stages (by name) whose steps all run, as under --no-cache */
	const char *const *no_cache_stages;
	size_t n_no_cache_stages;
	const char *const *tags; /* as typed: "app", "reg:5000/x:1" */
	size_t n_tags;
	const char *platform; /* "linux/amd64"; NULL = this machine's */
	/* --platform a,b: several target platforms, built one after the other
	 * into one OCI image index (platform is then unused); one is the same
	 * as `platform` */
	const char *const *platforms;
	size_t n_platforms;
	enum kiln_build_network network;
	/* --secret, --ssh and --allow (enum kiln_build_allow) */
	const struct kiln_build_secret *secrets;
	size_t n_secrets;
	const struct kiln_build_ssh *ssh;
	size_t n_ssh;
	unsigned allow;
	unsigned flags;				 /* enum kiln_build_flags */
	unsigned jobs;				 /* stages at a time; 0 = the number of CPUs */
	const struct kiln_build_output *outputs; /* none: one IMAGE output */
	size_t n_outputs;
	int out_fd; /* where dest "-" writes (the CLI's stdout) */
	enum kiln_compression
		compression; /* of new layers; 0 with compression_set unset = default */
	int compression_set;
	int compression_level; /* 0 = the default for the compression */
	int force_compression; /* also recompress the base image's layers */
	/* oci-mediatypes=false: docker's schema 2 media types (manifest, config,
	 * layers, manifest list), unless the image needs OCI's (zstd layers,
	 * annotations), as BuildKit's exporters turn them on then */
	int docker_media_types;
	/* >= 0: SOURCE_DATE_EPOCH: the times of the config and of every history
	 * entry (clamped to it, as BuildKit does), of WORKDIR's directory and of
	 * heredoc files, and of the files a local or tar output writes. -1 = none. */
	int64_t source_date_epoch;
	/* With source_date_epoch: new layers get every mtime newer than the epoch
	 * clamped to it (BuildKit's rewrite-timestamp=true); base image layers
	 * are kept as they are. */
	int rewrite_timestamp;
	/* Build args whose values explanations of cache misses never show (taken
	 * from kiln's environment rather than typed). */
	const char *const *hidden_args;
	size_t n_hidden_args;
	/* Caches read before the build (a missing or unusable one is a warning)
	 * and written after it. */
	const struct kiln_build_cache *cache_from;
	size_t n_cache_from;
	const struct kiln_build_cache *cache_to;
	size_t n_cache_to;
	const struct kiln_registry_opts *registry; /* pulls and pushes; NULL = defaults */
	kiln_build_event_fn on_event;
	void *event_userdata;
};

/** One layer step of the target's history, for --metadata-file. */
struct kiln_build_step_record {
	char *name; /* the progress name */
	char *key;  /* "sha256:..." */
	int cached;
	int64_t duration_ns;
};

/** One thing that made a step miss the cache. */
struct kiln_build_miss_detail {
	/* "file", "arg", "env", "instruction", "parent", "base", "mount", or the
	 * name of another key ingredient ("platform", "user", "workdir", ...) */
	char *kind;
	char *name;	 /* the file's path, the arg's name, the step that missed first, ... */
	char *old_value; /* NULL: absent before, unknown, or not shown */
	char *new_value; /* NULL: absent now, unknown, or not shown */
};

/** Why a layer step was not taken from the cache. */
struct kiln_build_miss {
	char *step; /* its progress name */
	/* the main reason: "no-cache", "new" (no earlier build of the step),
	 * "pruned" (its layer is gone), "sources", "args", "instruction", "env",
	 * "parent" (the step before was rebuilt), "base" (the base image
	 * changed), or another ingredient's name */
	char *reason;
	char *message; /* as progress shows it, one line per reason */
	char *summary; /* a few words for one line */
	struct kiln_build_miss_detail *details;
	size_t n_details;
	size_t files_changed; /* source files that differ (details hold the first ones) */
};

/** A warning of BuildKit's build checks (docs/lint-rules.md has the rules). */
struct kiln_build_warning {
	char *rule;	 /* "JSONArgsRecommended" */
	const char *url; /* its documentation; static, may be NULL */
	char *message;	 /* BuildKit's text */
	int line, end_line; /* in the Dockerfile; 0: none */
};

/** A stage, as --call=targets lists it (BuildKit's targets subrequest). */
struct kiln_build_target {
	char *name;	   /* NULL for an unnamed stage */
	char *description; /* its `# NAME description` comment, or NULL */
	int is_default;	   /* the last stage, built without --target */
	int line;
};

/** A build arg, secret or SSH agent the target uses (--call=outline). */
struct kiln_build_outline_item {
	char *name;
	char *value;	   /* build args: the value the build would use */
	char *description; /* build args: the `# NAME description` comment, or NULL */
	int required;	   /* secrets and SSH agents: required=true */
	int line;
};

struct kiln_build_outline {
	char *target;	   /* the target stage's name, NULL when unnamed */
	char *description; /* its description comment, or NULL */
	struct kiln_build_outline_item *args, *secrets, *ssh; /* each in line order */
	size_t n_args, n_secrets, n_ssh;
};

struct kiln_build_result {
	/* BuildKit's build checks: what a build prints, or --check reports */
	struct kiln_build_warning *warnings;
	size_t n_warnings;
	/* KILN_BUILD_CHECK_ONLY: the Dockerfile's error as BuildKit words it
	 * (a `# check=error=true` violation included), NULL if none */
	char *check_error;
	int check_error_line;
	struct kiln_digest manifest;
	struct kiln_digest config; /* the image id */
	int64_t manifest_size;
	/* a build of several platforms: manifest (and config, the id the CLI
	 * prints) is the image index's digest */
	int is_index;
	int docker_media_types; /* the manifest (or index) has docker's media types */
	struct kiln_strv names; /* canonical names given to the image */
	size_t steps, cached;	/* layer steps run and satisfied from the cache */
	struct kiln_build_step_record *records;
	size_t n_records;
	struct kiln_strv pushed; /* "name@digest" per pushed name */
	struct kiln_build_miss *misses; /* every layer step that ran, in plan order */
	size_t n_misses;
	struct kiln_build_target *targets; /* KILN_BUILD_LIST_TARGETS: every stage, in order */
	size_t n_targets;
	struct kiln_build_outline outline; /* KILN_BUILD_OUTLINE */
};

void kiln_build_result_release(struct kiln_build_result *r);

/**
 * The scratch directories of builds that died (killed: a build removes its
 * own): removed, or only counted with `dry_run`. A running build's are
 * kept. The next build removes them too.
 */
int kiln_build_tmp_prune(struct kiln_store *st, int dry_run, size_t *ret_removed,
			 struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Build. `st` is an open store (it is used from several threads, under a
 * lock the build holds). Errors: a bad Dockerfile or arguments
 * (-KILN_EPARSE / -KILN_EINVAL, located at Dockerfile:LINE), a failed RUN
 * (-KILN_ECHILD; its event carries the output's tail), a missing source
 * (-KILN_ENOTFOUND, naming the ignore rule that excluded it), pull and push
 * failures, -KILN_ECANCEL when ctx->cancel was set. A failed or interrupted
 * build leaves no image record and no name; what it committed (layers and
 * their cache records) stays for the next build. On failure `ret` holds only
 * the build checks' warnings found before the error (as BuildKit shows
 * them with it); release it either way.
 */
int kiln_build(struct kiln_store *st, const struct kiln_ctx *ctx, const struct kiln_build_opts *o,
	       struct kiln_build_result *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** "image", "oci", "docker", "local", "tar", "registry"; -KILN_EINVAL otherwise. */
int kiln_build_output_type_parse(const char *s, enum kiln_build_output_type *ret,
				 struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Apply Dockerfile instructions to an image config, as `docker import
 * --change` does: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD,
 * USER, VOLUME and WORKDIR, in order (an ENV is seen by the changes after
 * it). A parse error is located at the change's number ("--change:2").
 */
struct kiln_oci_config;
int kiln_build_config_changes(struct kiln_oci_config *c, const char *const *changes, size_t n,
			      struct kiln_error *err) __attribute__((warn_unused_result));
