/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RUN --mount and RUN --device values (BuildKit's parseMount and
 * ParseDevice): one CSV record of key=value fields. At parse time BuildKit
 * only checks the CSV and that from= names no variable; the full check runs
 * on the expanded values, field by field, with the same messages.
 */
#include <string.h>

#include "base/gotext.h"
#include "goconv.h"
#include "model-internal.h"

static const char *const mount_types[] = { "bind", "cache", "tmpfs", "secret", "ssh" };
static const char *const sharing_modes[] = { "shared", "private", "locked" };
static const char *const mount_keys[] = {
	"type",	       "from", "source", "target",    "readonly", "id",	 "sharing",
	"required",    "size", "mode",	 "uid",	      "gid",	  "src", "dst",
	"destination", "ro",   "rw",	 "readwrite", "env",
};

/* what a (lower-cased) key names; the spellings of one field share a kind */
enum mount_key {
	MK_UNKNOWN,
	MK_TYPE,
	MK_FROM,
	MK_SOURCE,
	MK_TARGET,
	MK_RO,
	MK_RW,
	MK_REQUIRED,
	MK_SIZE,
	MK_ID,
	MK_SHARING,
	MK_MODE,
	MK_UID,
	MK_GID,
	MK_ENV,
};

/* by length, then a compare of that fixed size (inlined): not a memcmp call per known key */
static enum mount_key mount_key_kind(const char *key, size_t len)
{
#define IS(s) (!memcmp(key, s, sizeof(s) - 1))
	switch (len) {
	case 2:
		return IS("ro") ? MK_RO : IS("rw") ? MK_RW : IS("id") ? MK_ID : MK_UNKNOWN;
	case 3:
		return IS("src")   ? MK_SOURCE
		       : IS("dst") ? MK_TARGET
		       : IS("uid") ? MK_UID
		       : IS("gid") ? MK_GID
		       : IS("env") ? MK_ENV
				   : MK_UNKNOWN;
	case 4:
		return IS("type")   ? MK_TYPE
		       : IS("from") ? MK_FROM
		       : IS("size") ? MK_SIZE
		       : IS("mode") ? MK_MODE
				    : MK_UNKNOWN;
	case 6:
		return IS("source") ? MK_SOURCE : IS("target") ? MK_TARGET : MK_UNKNOWN;
	case 7:
		return IS("sharing") ? MK_SHARING : MK_UNKNOWN;
	case 8:
		return IS("readonly") ? MK_RO : IS("required") ? MK_REQUIRED : MK_UNKNOWN;
	case 9:
		return IS("readwrite") ? MK_RW : MK_UNKNOWN;
	case 11:
		return IS("destination") ? MK_TARGET : MK_UNKNOWN;
	default:
		return MK_UNKNOWN;
	}
#undef IS
}

/*
 * The CSV record's fields: a spec without a quote is split at its commas
 * in a copy in `a`, without an allocation per field (what encoding/csv
 * makes of it, as df_go_csv_fields would); others go to df_go_csv_fields.
 */
static int mount_fields(struct kiln_arena *a, const char *spec, const char **small,
			size_t n_small, struct kiln_strv *csv, const char *const **ret,
			size_t *ret_n, struct kiln_error *err)
{
	/* libc's vector scans, not a loop per byte: length, quote, then commas */
	size_t len = strlen(spec);
	if (!memchr(spec, '"', len)) {
		char *copy = df_astrndup(a, spec, len);
		if (!copy)
			return df_oom(err);
		size_t n = 1;
		small[0] = copy;
		char *end = copy + len;
		for (char *c = copy; n <= n_small && (c = memchr(c, ',', (size_t) (end - c)));) {
			*c++ = '\0';
			if (n < n_small)
				small[n] = c;
			n++;
		}
		if (n <= n_small) {
			*ret = small;
			*ret_n = n;
			return 0;
		}
		/* more fields than small holds: the copy stays in the arena unused */
	}
	int r = df_go_csv_fields(spec, csv, err);
	if (r < 0)
		return r == -KILN_ENOMEM ? r
					 : kiln_error_prefix(err, r, "failed to parse csv mounts");
	*ret = (const char *const *) csv->items;
	*ret_n = csv->len;
	return 0;
}

static void ascii_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char) (*s + 32);
}

/* strcmp(ascii_lower(copy of s), lower) == 0, without the copy */
static int ascii_eq_lower(const char *s, const char *lower)
{
	for (; *s && *lower; s++, lower++)
		if (((*s >= 'A' && *s <= 'Z') ? *s + 32 : *s) != *lower)
			return 0;
	return *s == *lower;
}

static int bool_field(const char *key, const char *value, int *ret, struct kiln_error *err)
{
	if (kiln_go_parse_bool(value, ret) < 0)
		return kiln_fail(err, KILN_EPARSE, 0, "invalid value for %s: %s", key, value);
	return 0;
}

static const char *type_name(enum kiln_df_mount_type t)
{
	return mount_types[t];
}

/*
 * Whether s has a quote or a field whose key is "from" in any ASCII case:
 * without a quote, fields are split at commas exactly, so only a field's
 * first bytes can name it (one pass, not a test at every byte).
 */
static int quote_or_from(const char *s)
{
	for (const char *f = s;; f++) {
		if ((f[0] | 0x20) == 'f' && (f[1] | 0x20) == 'r' && (f[2] | 0x20) == 'o' &&
		    (f[3] | 0x20) == 'm' && f[4] == '=')
			return 1;
		f += strcspn(f, ",\"");
		if (*f != ',')
			return *f == '"';
	}
}

int df_mount_parse(struct kiln_arena *a, const char *spec, df_expand_fn expand, void *ud,
		   struct kiln_df_mount *m, struct kiln_error *err)
{
	/*
	 * The pass without an expander reads only from= and can fail only on a
	 * quote (CSV) or there: a spec without either is a read-only bind mount
	 * from nowhere, as the loop below would find.
	 */
	if (!expand && !quote_or_from(spec)) {
		memset(m, 0, sizeof(*m));
		m->type = KILN_DF_MOUNT_BIND;
		m->readonly = 1;
		return 0;
	}
	cleanup(kiln_strv_release) struct kiln_strv csv = KILN_STRV_INIT;
	const char *small[16];
	const char *const *fields = NULL;
	size_t n_fields = 0;
	int r = mount_fields(a, spec, small, KILN_ARRAY_SIZE(small), &csv, &fields, &n_fields, err);
	if (r < 0)
		return r;
	memset(m, 0, sizeof(*m));
	m->type = KILN_DF_MOUNT_BIND;
	int ro_auto = 1;
	for (size_t i = 0; i < n_fields; i++) {
		const char *field = fields[i];
		/* the lower-cased key: on the stack, copied and lowered in the pass that
		 * finds its end, unless it is too long to be a known one */
		char kshort[16];
		cleanup_free char *klong = NULL;
		char *key = kshort;
		size_t klen = 0;
		for (char c; klen < sizeof(kshort) - 1 && (c = field[klen]) && c != '='; klen++)
			kshort[klen] = c >= 'A' && c <= 'Z' ? (char) (c + 32) : c;
		kshort[klen] = '\0';
		const char *eq = field[klen] == '=' ? field + klen : NULL;
		if (field[klen] && !eq) {
			eq = strchr(field + klen, '=');
			klen = eq ? (size_t) (eq - field) : strlen(field);
			if (!(key = klong = kiln_strndup(field, klen)))
				return df_oom(err);
			ascii_lower(key);
		}
		enum mount_key kind = mount_key_kind(key, klen);
		if (!eq) {
			if (!expand)
				continue; /* evaluated on expansion */
			if (kind == MK_RO) {
				m->readonly = 1;
				ro_auto = 0;
				continue;
			}
			if (kind == MK_RW) {
				m->readonly = 0;
				ro_auto = 0;
				continue;
			}
			if (kind == MK_REQUIRED) {
				if (m->type == KILN_DF_MOUNT_SECRET ||
				    m->type == KILN_DF_MOUNT_SSH) {
					m->required = 1;
					continue;
				}
				return kiln_fail(err, KILN_EPARSE, 0,
						 "unexpected key '%s' for mount type '%s'", key,
						 type_name(m->type));
			}
			return kiln_fail(err, KILN_EPARSE, 0,
					 "invalid field '%s' must be a key=value pair", field);
		}
		const char *value = NULL;
		if (expand) {
			r = expand(ud, eq + 1, &value, err);
			if (r < 0)
				return r;
		} else if (kind == MK_FROM) {
			const char *d = strchr(eq + 1, '$');
			if (d && d[1])
				return kiln_fail(err, KILN_EPARSE, 0,
						 "'%s' doesn't support variable expansion, define "
						 "alias stage instead",
						 key);
			value = eq + 1;
		} else {
			continue;
		}

		if (kind == MK_TYPE) {
			size_t t;
			for (t = 0; t < KILN_ARRAY_SIZE(mount_types); t++)
				if (ascii_eq_lower(value, mount_types[t]))
					break;
			if (t == KILN_ARRAY_SIZE(mount_types)) {
				r = kiln_fail(err, KILN_EPARSE, 0, "unsupported mount type \"%s\"",
					      value);
				return df_error_suggest(err, r, value, mount_types,
							KILN_ARRAY_SIZE(mount_types), 1);
			}
			m->type = (enum kiln_df_mount_type) t;
		} else if (kind == MK_FROM) {
			m->from = df_astrdup(a, value);
		} else if (kind == MK_SOURCE) {
			m->source = df_astrdup(a, value);
		} else if (kind == MK_TARGET) {
			m->target = df_astrdup(a, value);
		} else if (kind == MK_RO) {
			if ((r = bool_field(key, value, &m->readonly, err)) < 0)
				return r;
			ro_auto = 0;
		} else if (kind == MK_RW) {
			int rw;
			if ((r = bool_field(key, value, &rw, err)) < 0)
				return r;
			m->readonly = !rw;
			ro_auto = 0;
		} else if (kind == MK_REQUIRED) {
			if (m->type != KILN_DF_MOUNT_SECRET && m->type != KILN_DF_MOUNT_SSH)
				return kiln_fail(err, KILN_EPARSE, 0,
						 "unexpected key '%s' for mount type '%s'", key,
						 type_name(m->type));
			if ((r = bool_field(key, value, &m->required, err)) < 0)
				return r;
		} else if (kind == MK_SIZE) {
			if (m->type != KILN_DF_MOUNT_TMPFS)
				return kiln_fail(err, KILN_EPARSE, 0,
						 "unexpected key '%s' for mount type '%s'", key,
						 type_name(m->type));
			if (df_go_ram_in_bytes(value, &m->size) < 0)
				return kiln_fail(err, KILN_EPARSE, 0, "invalid value for %s: %s",
						 key, value);
		} else if (kind == MK_ID) {
			m->id = df_astrdup(a, value);
		} else if (kind == MK_SHARING) {
			size_t s;
			for (s = 0; s < KILN_ARRAY_SIZE(sharing_modes); s++)
				if (ascii_eq_lower(value, sharing_modes[s]))
					break;
			if (s == KILN_ARRAY_SIZE(sharing_modes)) {
				r = kiln_fail(err, KILN_EPARSE, 0,
					      "unsupported sharing value \"%s\"", value);
				return df_error_suggest(err, r, value, sharing_modes,
							KILN_ARRAY_SIZE(sharing_modes), 1);
			}
			m->sharing = (enum kiln_df_sharing)(s + 1);
		} else if (kind == MK_MODE) {
			if (df_go_parse_uint(value, 8, 32, &m->mode) != DF_GO_NUM_OK)
				return kiln_fail(err, KILN_EPARSE, 0, "invalid value %s for mode",
						 value);
			m->has_mode = 1;
		} else if (kind == MK_UID) {
			if (df_go_parse_uint(value, 10, 32, &m->uid) != DF_GO_NUM_OK)
				return kiln_fail(err, KILN_EPARSE, 0, "invalid value %s for uid",
						 value);
			m->has_uid = 1;
		} else if (kind == MK_GID) {
			if (df_go_parse_uint(value, 10, 32, &m->gid) != DF_GO_NUM_OK)
				return kiln_fail(err, KILN_EPARSE, 0, "invalid value %s for gid",
						 value);
			m->has_gid = 1;
		} else if (kind == MK_ENV) {
			m->env = df_astrdup(a, value);
			m->has_env = 1;
		} else {
			r = kiln_fail(err, KILN_EPARSE, 0, "unexpected key '%s' in '%s'", key,
				      field);
			return df_error_suggest(err, r, key, mount_keys,
						KILN_ARRAY_SIZE(mount_keys), 1);
		}
		if ((kind == MK_FROM && !m->from) || (kind == MK_SOURCE && !m->source) ||
		    (kind == MK_TARGET && !m->target) || (kind == MK_ID && !m->id) ||
		    (kind == MK_ENV && !m->env))
			return df_oom(err);
	}

	int file_info = m->type == KILN_DF_MOUNT_SECRET || m->type == KILN_DF_MOUNT_SSH ||
			m->type == KILN_DF_MOUNT_CACHE;
	if (!file_info) {
		if (m->has_mode)
			return kiln_fail(err, KILN_EPARSE, 0,
					 "mode not allowed for \"%s\" type mounts",
					 type_name(m->type));
		if (m->has_uid)
			return kiln_fail(err, KILN_EPARSE, 0,
					 "uid not allowed for \"%s\" type mounts",
					 type_name(m->type));
		if (m->has_gid)
			return kiln_fail(err, KILN_EPARSE, 0,
					 "gid not allowed for \"%s\" type mounts",
					 type_name(m->type));
	}
	if (ro_auto)
		m->readonly = !(m->type == KILN_DF_MOUNT_CACHE || m->type == KILN_DF_MOUNT_TMPFS);
	if (m->type == KILN_DF_MOUNT_SECRET) {
		if (m->from && *m->from)
			return kiln_fail(err, KILN_EPARSE, 0,
					 "secret mount should not have a from");
		if (m->sharing)
			return kiln_fail(err, KILN_EPARSE, 0,
					 "secret mount should not define sharing");
		if ((!m->source || !*m->source) && (!m->target || !*m->target) &&
		    (!m->id || !*m->id))
			return kiln_fail(err, KILN_EPARSE, 0,
					 "invalid secret mount. one of source, target required");
		if (m->source && *m->source && m->id && *m->id)
			return kiln_fail(err, KILN_EPARSE, 0, "both source and id can't be set");
	}
	if (m->sharing && m->type != KILN_DF_MOUNT_CACHE)
		return kiln_fail(err, KILN_EPARSE, 0, "invalid cache sharing set for %s mount",
				 type_name(m->type));
	return 0;
}

int df_device_parse(struct kiln_arena *a, const char *spec, struct kiln_df_device *d,
		    struct kiln_error *err)
{
	static const char *const keys[] = { "name", "required" };
	cleanup(kiln_strv_release) struct kiln_strv fields = KILN_STRV_INIT;
	int r = df_go_csv_fields(spec, &fields, err);
	if (r < 0)
		return r == -KILN_ENOMEM ? r
					 : kiln_error_prefix(err, r, "failed to parse csv devices");
	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < fields.len; i++) {
		const char *field = fields.items[i];
		const char *eq = strchr(field, '=');
		cleanup_free char *key =
			eq ? kiln_strndup(field, (size_t) (eq - field)) : kiln_strdup(field);
		if (!key)
			return df_oom(err);
		ascii_lower(key);
		if (!eq) {
			if (!strcmp(key, "required")) {
				d->required = 1;
				continue;
			}
			if (!d->name) {
				if (!(d->name = df_astrdup(a, field)))
					return df_oom(err);
				continue;
			}
			return kiln_fail(err, KILN_EPARSE, 0,
					 "invalid field '%s' must be a key=value pair", field);
		}
		const char *value = eq + 1;
		if (!strcmp(key, "name")) {
			if (d->name && *d->name)
				return kiln_fail(err, KILN_EPARSE, 0,
						 "device name already set to %s", d->name);
			if (!(d->name = df_astrdup(a, value)))
				return df_oom(err);
		} else if (!strcmp(key, "required")) {
			if ((r = bool_field(key, value, &d->required, err)) < 0)
				return r;
		} else if (!d->name || !*d->name) {
			if (!(d->name = df_astrdup(a, field)))
				return df_oom(err);
		} else {
			r = kiln_fail(err, KILN_EPARSE, 0, "unexpected key '%s' in '%s'", key,
				      field);
			return df_error_suggest(err, r, key, keys, KILN_ARRAY_SIZE(keys), 1);
		}
	}
	return 0;
}

static int identity_expand(void *ud, const char *word, const char **ret, struct kiln_error *err)
{
	(void) ud;
	(void) err;
	*ret = word;
	return 0;
}

int kiln_df_mount_parse(struct kiln_df_model *m, const char *spec, struct kiln_df_mount *ret,
			struct kiln_error *err)
{
	return df_mount_parse(df_model_arena(m), spec, identity_expand, NULL, ret, err);
}

int kiln_df_device_parse(struct kiln_df_model *m, const char *spec, struct kiln_df_device *ret,
			 struct kiln_error *err)
{
	return df_device_parse(df_model_arena(m), spec, ret, err);
}
