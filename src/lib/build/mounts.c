/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One RUN --mount resolved with BuildKit's defaults (its Dockerfile
 * frontend's dispatchRunMounts, dispatchSecret and dispatchSSH, and LLB's
 * defaults), and the text a mount contributes to the step's cache key.
 * Pure: no file system, no build state.
 */
#include <stdio.h>
#include <string.h>

#include "build/mounts.h"
#include "plan/path.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

static const char *type_name(enum kiln_df_mount_type t)
{
	static const char *const names[] = { "bind", "cache", "tmpfs", "secret", "ssh" };
	return t <= KILN_DF_MOUNT_SSH ? names[t] : "?";
}

static const char *sharing_name(enum kiln_cachemount_sharing s)
{
	return s == KILN_CACHEMOUNT_PRIVATE  ? "private"
	       : s == KILN_CACHEMOUNT_LOCKED ? "locked"
					     : "shared";
}

void bb_mount_spec_release(struct bb_mount_spec *s)
{
	if (!s)
		return;
	free(s->target);
	free(s->id);
	free(s->env);
	free(s->from);
	free(s->source);
	memset(s, 0, sizeof(*s));
}

/* A target as the sandbox gets it: absolute and clean; a relative one is
 * under `dir`, the step's WORKDIR (for a secret or an agent socket too: the
 * executor joins it with the working directory, as BuildKit's does) */
static int abs_target(const char *t, const char *dir, char **ret, struct kiln_error *err)
{
	char *p = t[0] == '/' ? kiln_plan_path_clean(t) : kiln_plan_path_join(dir ? dir : "/", t);
	if (!p)
		return oom(err);
	if (p[0] != '/') {
		/* a relative working directory cannot happen; keep it rooted anyway */
		char *q = kiln_plan_path_join("/", p);
		free(p);
		if (!(p = q))
			return oom(err);
	}
	if (!strcmp(p, "/")) {
		free(p);
		return kiln_fail(err, KILN_EINVAL, 0, "invalid mount target \"/\"");
	}
	*ret = p;
	return 0;
}

static int dup_opt(const char *s, char **ret, struct kiln_error *err)
{
	*ret = NULL;
	if (!s || !*s)
		return 0;
	*ret = kiln_strdup(s);
	return *ret ? 0 : oom(err);
}

static int resolve(const struct kiln_df_mount *m, const char *workdir, const char *cache_ns,
		   size_t ssh_index, struct bb_mount_spec *s, struct kiln_error *err)
{
	int r;
	s->type = m->type;
	s->readonly = m->readonly;
	s->required = m->required;
	s->has_perm = m->has_mode || m->has_uid || m->has_gid;
	s->uid = m->has_uid ? (uint32_t) m->uid : 0;
	s->gid = m->has_gid ? (uint32_t) m->gid : 0;
	const char *target = m->target ? m->target : "";
	switch (m->type) {
	case KILN_DF_MOUNT_SECRET: {
		/* the id is the source, else the id, else the target's base name */
		const char *id = m->source && *m->source ? m->source : m->id ? m->id : "";
		if (*id) {
			s->id = kiln_strdup(id);
		} else if (*target) {
			s->id = kiln_plan_path_base(target);
		} else {
			return kiln_fail(err, KILN_EINVAL, 0, "one of source, target required");
		}
		if (!s->id)
			return oom(err);
		if ((r = dup_opt(m->has_env ? m->env : NULL, &s->env, err)) < 0)
			return r;
		if (m->has_env && !s->env)
			return kiln_fail(err, KILN_EINVAL, 0,
					 "secret %s: env= needs a variable name", s->id);
		s->mode = m->has_mode ? (uint32_t) (m->mode & 07777) : 0400;
		if (*target) {
			r = abs_target(target, workdir, &s->target, err);
		} else if (!s->env) {
			cleanup_free char *base = kiln_plan_path_base(s->id);
			if (!base)
				return oom(err);
			r = abs_target(base, BB_SECRETS_DIR, &s->target, err);
		}
		return r < 0 ? r : 0;
	}
	case KILN_DF_MOUNT_SSH: {
		if (m->source && *m->source)
			return kiln_fail(err, KILN_EINVAL, 0, "ssh does not support source");
		s->id = kiln_strdup(m->id && *m->id ? m->id : BB_SSH_DEFAULT_ID);
		if (!s->id)
			return oom(err);
		s->mode = m->has_mode ? (uint32_t) (m->mode & 07777) : 0600;
		if (*target)
			return abs_target(target, workdir, &s->target, err);
		char def[64];
		(void) snprintf(def, sizeof(def), BB_SSH_TARGET_PREFIX "%zu", ssh_index);
		return abs_target(def, "/", &s->target, err);
	}
	case KILN_DF_MOUNT_CACHE: {
		s->sharing = m->sharing == KILN_DF_SHARING_PRIVATE  ? KILN_CACHEMOUNT_PRIVATE
			     : m->sharing == KILN_DF_SHARING_LOCKED ? KILN_CACHEMOUNT_LOCKED
								    : KILN_CACHEMOUNT_SHARED;
		s->mode = m->has_mode ? (uint32_t) (m->mode & 07777) : 0755;
		cleanup_free char *id =
			m->id && *m->id ? kiln_strdup(m->id) : kiln_plan_path_clean(target);
		if (!id)
			return oom(err);
		s->id = cache_ns && *cache_ns ? kiln_asprintf("%s/%s", cache_ns, id)
					      : steal_ptr(&id);
		if (!s->id)
			return oom(err);
		break;
	}
	case KILN_DF_MOUNT_TMPFS:
		s->size = m->size > 0 ? (uint64_t) m->size : 0;
		break;
	case KILN_DF_MOUNT_BIND:
		break;
	default:
		return kiln_fail(err, KILN_EINVAL, 0, "unknown mount type %d", (int) m->type);
	}
	/* bind, cache, tmpfs */
	if ((r = abs_target(target, workdir, &s->target, err)) < 0)
		return r;
	if (m->type == KILN_DF_MOUNT_TMPFS)
		return 0;
	if ((r = dup_opt(m->from, &s->from, err)) < 0)
		return r;
	s->source = kiln_plan_path_join("/", m->source ? m->source : "");
	return s->source ? 0 : oom(err);
}

int bb_mount_resolve(const struct kiln_df_mount *m, const char *workdir, const char *cache_ns,
		     size_t ssh_index, struct bb_mount_spec *ret, struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	int r = resolve(m, workdir, cache_ns, ssh_index, ret, err);
	if (r < 0)
		bb_mount_spec_release(ret);
	return r;
}

char *bb_cache_seed(const struct bb_mount_spec *s, const char *from_ref)
{
	int whole = !s->source || !strcmp(s->source, "/");
	if (from_ref && *from_ref) {
		if (whole && s->has_perm)
			return kiln_asprintf("%s:%s:perm=%o:%u:%u", from_ref, "/", s->mode, s->uid,
					     s->gid);
		return kiln_asprintf("%s:%s", from_ref, s->source ? s->source : "/");
	}
	if (whole && s->has_perm)
		return kiln_asprintf("perm=%o:%u:%u", s->mode, s->uid, s->gid);
	return kiln_strdup("");
}

char *bb_mount_key_text(const struct bb_mount_spec *s, const struct kiln_df_mount *m,
			const char *from_ref)
{
	switch (s->type) {
	case KILN_DF_MOUNT_SECRET:
		return kiln_asprintf("secret id=%s target=%s env=%s required=%d mode=%o uid=%u "
				     "gid=%u",
				     s->id, s->target ? s->target : "", s->env ? s->env : "",
				     s->required, s->mode, s->uid, s->gid);
	case KILN_DF_MOUNT_SSH:
		return kiln_asprintf("ssh id=%s target=%s required=%d mode=%o uid=%u gid=%u", s->id,
				     s->target, s->required, s->mode, s->uid, s->gid);
	case KILN_DF_MOUNT_CACHE:
		return kiln_asprintf("cache id=%s sharing=%s from=%s source=%s target=%s rw=%d "
				     "mode=%o uid=%u gid=%u",
				     s->id, sharing_name(s->sharing), from_ref ? from_ref : "",
				     s->source, s->target, !s->readonly, s->mode, s->uid, s->gid);
	default:
		/* bind and tmpfs: the form every earlier record has */
		return kiln_asprintf("%s from=%s source=%s target=%s rw=%d id=%s size=%lld",
				     type_name(s->type), from_ref ? from_ref : "tmpfs",
				     m->source ? m->source : "", s->target, !s->readonly,
				     m->id ? m->id : "", (long long) m->size);
	}
}
