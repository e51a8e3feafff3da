/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Why a step missed the cache: its key's ingredients compared with those of
 * the last build of the same step, each difference said the way a user
 * reads it. The step's own changes come first (sources, build args, the
 * instruction, ...), what it inherits last (the step before it, the base
 * image): a step whose file changed and whose parent was rebuilt is
 * explained by the file.
 *
 * Build arg values are shown only when the user typed them (or the
 * Dockerfile has them): a value taken from kiln's environment is named but
 * never printed; environment variables are named, never printed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gotext.h"
#include "build/explain.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

void bb_explain_state_release(struct bb_explain_state *s)
{
	kiln_plan_key_release(&s->key);
	free(s->text);
	free(s->files);
	free(s->hidden);
	free(s->remote);
	s->text = s->files = s->hidden = s->remote = NULL;
}

void bb_explain_miss_release(struct kiln_build_miss *m)
{
	free(m->step);
	free(m->reason);
	free(m->message);
	free(m->summary);
	for (size_t i = 0; i < m->n_details; i++) {
		free(m->details[i].kind);
		free(m->details[i].name);
		free(m->details[i].old_value);
		free(m->details[i].new_value);
	}
	free(m->details);
	memset(m, 0, sizeof(*m));
}

const char *bb_explain_text(const char *name)
{
	if (name && name[0] == '[') {
		const char *e = strstr(name, "] ");
		if (e)
			return e + 2;
	}
	return name ? name : "";
}

/* ---- the list of source files ------------------------------------------------- */

/*
 * `s` as text that prints on one line and is valid UTF-8: backslash, tab,
 * newline and other control characters escaped, a byte that is no UTF-8 as
 * \xNN; at most `max` characters (0: no limit), then "…".
 */
static int add_clean(struct kiln_buf *b, const char *s, size_t max)
{
	size_t len = strlen(s), shown = 0;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < len;) {
		if (max && shown >= max)
			return kiln_buf_addstr(b, "…");
		size_t w = 1;
		int32_t c = kiln_utf8_decode(s + i, len - i, &w);
		if (c == '\\')
			r = kiln_buf_addstr(b, "\\\\");
		else if (c == '\t')
			r = kiln_buf_addstr(b, "\\t");
		else if (c == '\n')
			r = kiln_buf_addstr(b, "\\n");
		else if ((c == KILN_RUNE_ERROR && w == 1) || c < 0x20 || c == 0x7f)
			r = kiln_buf_addf(b, "\\x%02x", (unsigned char) s[i]);
		else
			r = kiln_buf_add(b, s + i, w);
		i += w;
		shown++;
	}
	return r;
}

static int add_escaped(struct kiln_buf *b, const char *s)
{
	return add_clean(b, s, 0);
}

static char *clean(const char *s, size_t max)
{
	struct kiln_buf b = KILN_BUF_INIT;
	if (kiln_buf_addstr(&b, "") < 0 || add_clean(&b, s, max) < 0) {
		kiln_buf_release(&b);
		return NULL;
	}
	return kiln_buf_detach(&b, NULL);
}

/* One item's line, without its newline. */
static int file_line(struct kiln_buf *b, const struct kiln_plan_item *it)
{
	mode_t t = it->st.mode & S_IFMT;
	char type = t == S_IFREG ? 'f' : t == S_IFDIR ? 'd' : t == S_IFLNK ? 'l' : 'o';
	int r = add_escaped(b, *it->path ? it->path : ".");
	if (r >= 0)
		r = kiln_buf_addf(b, "\t%c %04o %u:%u ", type, (unsigned) (it->st.mode & 07777),
				  (unsigned) it->st.uid, (unsigned) it->st.gid);
	if (r >= 0 && type == 'f')
		r = it->hashed ? kiln_buf_addstr(b, "sha256:") : kiln_buf_addstr(b, "?");
	if (r >= 0 && type == 'f' && it->hashed)
		r = kiln_buf_add_hex(b, it->sum.raw, sizeof(it->sum.raw));
	else if (r >= 0 && type == 'l')
		r = add_escaped(b, it->link ? it->link : "");
	return r;
}

static int cmp_offset(const void *a, const void *b, void *text)
{
	return strcmp((const char *) text + *(const size_t *) a,
		      (const char *) text + *(const size_t *) b);
}

/*
 * The lines are sorted, so that two lists compare in one pass (and a name,
 * escaped, holds no byte below the tab that ends it: the order of the lines
 * is the order of their names). A large context's list is the biggest thing
 * a build holds while it runs: the lines are measured first, written once
 * into a buffer of that size and copied in order into another.
 */
int bb_explain_files(const struct kiln_plan_selection *sel, char **ret, struct kiln_error *err)
{
	*ret = NULL;
	if (!sel || !sel->hashed)
		return 0;
	cleanup(kiln_buf_release) struct kiln_buf line = KILN_BUF_INIT;
	size_t total = 0;
	for (size_t i = 0; i < sel->n_items; i++) {
		kiln_buf_reset(&line);
		if (file_line(&line, &sel->items[i]) < 0)
			return oom(err);
		total += line.len + 1;
		if (total > BB_EXPLAIN_MAX_FILES_BYTES)
			return 0;
	}
	cleanup_free char *text = kiln_malloc(total + 1);
	cleanup_free size_t *offs = kiln_calloc(sel->n_items + 1, sizeof(*offs));
	if (!text || !offs)
		return oom(err);
	size_t used = 0;
	for (size_t i = 0; i < sel->n_items; i++) {
		kiln_buf_reset(&line);
		if (file_line(&line, &sel->items[i]) < 0)
			return oom(err);
		if (used + line.len + 1 > total) /* cannot happen: the same lines */
			return kiln_fail(err, KILN_EINTERNAL, 0, "file list changed while written");
		offs[i] = used;
		memcpy(text + used, line.buf, line.len + 1);
		used += line.len + 1;
	}
	if (sel->n_items > 1)
		qsort_r(offs, sel->n_items, sizeof(*offs), cmp_offset, text);
	char *out = kiln_malloc(used + 1);
	if (!out)
		return oom(err);
	size_t o = 0;
	for (size_t i = 0; i < sel->n_items; i++) {
		size_t n = strlen(text + offs[i]);
		memcpy(out + o, text + offs[i], n);
		out[o + n] = '\n';
		o += n + 1;
	}
	out[o] = '\0';
	*ret = out;
	return 0;
}

/* ---- showing values ------------------------------------------------------------- */

/* One line of at most `max` characters, escaped. */
static char *show(const char *s, size_t max)
{
	return clean(s, max);
}

/* Two values that differ, their long common start elided: "…a && make" */
static int show_pair(const char *a, const char *b, char **ra, char **rb)
{
	size_t p = 0;
	while (a[p] && a[p] == b[p])
		p++;
	size_t la = strlen(a), lb = strlen(b);
	size_t keep = 16;
	const char *sa = a, *sb = b;
	int elided = 0;
	if ((la > BB_EXPLAIN_TEXT || lb > BB_EXPLAIN_TEXT) && p > keep + 8) {
		size_t cut = p - keep;
		/* on a character boundary */
		while (cut && ((unsigned char) a[cut] & 0xc0) == 0x80)
			cut--;
		sa = a + cut;
		sb = b + cut;
		elided = 1;
	}
	cleanup_free char *xa = show(sa, BB_EXPLAIN_TEXT);
	cleanup_free char *xb = show(sb, BB_EXPLAIN_TEXT);
	if (!xa || !xb)
		return -KILN_ENOMEM;
	*ra = kiln_asprintf("%s%s", elided ? "…" : "", xa);
	*rb = kiln_asprintf("%s%s", elided ? "…" : "", xb);
	if (!*ra || !*rb) {
		free(*ra);
		free(*rb);
		*ra = *rb = NULL;
		return -KILN_ENOMEM;
	}
	return 0;
}

/* "sha256:0123456789ab" from a digest string (anything else shown shortened) */
static char *short_digest(const char *d)
{
	if (!strncmp(d, "sha256:", 7) && strlen(d) >= 7 + 12)
		return kiln_asprintf("sha256:%.12s", d + 7);
	return show(d, BB_EXPLAIN_TEXT);
}

/* ---- building the answer ---------------------------------------------------------- */

struct answer {
	struct kiln_build_miss *m;
	struct kiln_buf msg;
	char *first_kind;
	char *summary;
	int failed;
};

static void say(struct answer *a, const char *kind, const char *summary, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void say(struct answer *a, const char *kind, const char *summary, const char *fmt, ...)
{
	if (a->failed)
		return;
	va_list ap;
	if (a->msg.len && kiln_buf_addstr(&a->msg, "\n") < 0) {
		a->failed = 1;
		return;
	}
	va_start(ap, fmt);
	int r = kiln_buf_vaddf(&a->msg, fmt, ap);
	va_end(ap);
	if (r < 0) {
		a->failed = 1;
		return;
	}
	if (!a->first_kind) {
		a->first_kind = kiln_strdup(kind);
		a->summary = kiln_strdup(summary);
		if (!a->first_kind || !a->summary)
			a->failed = 1;
	}
}

/* A detail; `escaped`: the values are escaped already (file lists). */
static void detail_as(struct answer *a, int escaped, const char *kind, const char *name,
		      const char *old_value, const char *new_value)
{
	if (a->failed)
		return;
	struct kiln_build_miss *m = a->m;
	struct kiln_build_miss_detail *n =
		kiln_reallocarray(m->details, m->n_details + 1, sizeof(*n));
	if (!n) {
		a->failed = 1;
		return;
	}
	m->details = n;
	struct kiln_build_miss_detail *d = &n[m->n_details];
	*d = (struct kiln_build_miss_detail){
		.kind = kiln_strdup(kind),
		.name = !name ? NULL : escaped ? kiln_strdup(name) : clean(name, 0),
		.old_value = !old_value ? NULL : escaped ? kiln_strdup(old_value) : clean(old_value, 0),
		.new_value = !new_value ? NULL : escaped ? kiln_strdup(new_value) : clean(new_value, 0),
	};
	m->n_details++;
	if (!d->kind || (name && !d->name) || (old_value && !d->old_value) ||
	    (new_value && !d->new_value))
		a->failed = 1;
}

static void detail(struct answer *a, const char *kind, const char *name, const char *old_value,
		   const char *new_value)
{
	detail_as(a, 0, kind, name, old_value, new_value);
}

/* ---- lines of "K=V" and of files -------------------------------------------------- */

static int split_lines(const char *s, struct kiln_strv *ret)
{
	for (const char *p = s ? s : ""; *p;) {
		size_t n = strcspn(p, "\n");
		if (n && kiln_strv_pushn(ret, p, n) < 0)
			return -KILN_ENOMEM;
		p += n + (p[n] == '\n');
	}
	return 0;
}

/* The line of `v` whose part before `sep` is `name`, or NULL. */
static const char *find_named(const struct kiln_strv *v, const char *name, size_t len, char sep)
{
	for (size_t i = 0; i < v->len; i++)
		if (!strncmp(v->items[i], name, len) && v->items[i][len] == sep)
			return v->items[i];
	return NULL;
}

static int hidden(const char *list, const char *name, size_t len)
{
	for (const char *p = list ? list : ""; *p;) {
		size_t n = strcspn(p, "\n");
		if (n == len && !strncmp(p, name, len))
			return 1;
		p += n + (p[n] == '\n');
	}
	return 0;
}

/* Every name (before `sep`) of a or b whose line differs, in a's order then b's. */
static int changed_names(const struct kiln_strv *a, const struct kiln_strv *b, char sep,
			 struct kiln_strv *ret)
{
	for (int pass = 0; pass < 2; pass++) {
		const struct kiln_strv *x = pass ? b : a, *y = pass ? a : b;
		for (size_t i = 0; i < x->len; i++) {
			size_t n = strcspn(x->items[i], sep == '\t' ? "\t" : "=");
			const char *o = find_named(y, x->items[i], n, sep);
			if (o && !strcmp(o, x->items[i]))
				continue;
			if (pass && o)
				continue; /* reported from a */
			if (kiln_strv_pushn(ret, x->items[i], n) < 0)
				return -KILN_ENOMEM;
		}
	}
	return 0;
}

static void explain_args(struct answer *a, const struct bb_explain_state *prev,
			 const struct bb_explain_state *now, struct kiln_strv *arg_names)
{
	cleanup(kiln_strv_release) struct kiln_strv pa = KILN_STRV_INIT, na = KILN_STRV_INIT;
	if (split_lines(kiln_plan_key_get(&prev->key, "args"), &pa) < 0 ||
	    split_lines(kiln_plan_key_get(&now->key, "args"), &na) < 0 ||
	    changed_names(&pa, &na, '=', arg_names) < 0) {
		a->failed = 1;
		return;
	}
	for (size_t i = 0; !a->failed && i < arg_names->len; i++) {
		const char *name = arg_names->items[i];
		size_t n = strlen(name);
		const char *o = find_named(&pa, name, n, '=');
		const char *w = find_named(&na, name, n, '=');
		const char *ov = o ? o + n + 1 : NULL, *nv = w ? w + n + 1 : NULL;
		int hide_o = hidden(prev->hidden, name, n), hide_n = hidden(now->hidden, name, n);
		cleanup_free char *so = NULL, *sn = NULL;
		if (ov && nv && show_pair(ov, nv, &so, &sn) < 0) {
			a->failed = 1;
			return;
		}
		if (ov && !so && !(so = show(ov, BB_EXPLAIN_TEXT)))
			a->failed = 1;
		if (nv && !sn && !(sn = show(nv, BB_EXPLAIN_TEXT)))
			a->failed = 1;
		cleanup_free char *sum = kiln_asprintf("arg %s changed", name);
		if (!sum)
			a->failed = 1;
		if (a->failed)
			return;
		const char *to = hide_o ? "(not shown)" : so, *tn = hide_n ? "(not shown)" : sn;
		if (ov && nv)
			say(a, "args", sum, "build arg %s changed: %s → %s", name, to, tn);
		else if (nv)
			say(a, "args", sum, "build arg %s is set now: %s", name, tn);
		else
			say(a, "args", sum, "build arg %s is not set any more (was %s)", name, to);
		detail(a, "arg", name, hide_o ? NULL : ov, hide_n ? NULL : nv);
	}
}

/* environment variables: names only (values may come from build args) */
static void explain_env(struct answer *a, const struct bb_explain_state *prev,
			const struct bb_explain_state *now, const struct kiln_strv *arg_names)
{
	cleanup(kiln_strv_release) struct kiln_strv pe = KILN_STRV_INIT, ne = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv names = KILN_STRV_INIT;
	if (split_lines(kiln_plan_key_get(&prev->key, "env"), &pe) < 0 ||
	    split_lines(kiln_plan_key_get(&now->key, "env"), &ne) < 0 ||
	    changed_names(&pe, &ne, '=', &names) < 0) {
		a->failed = 1;
		return;
	}
	struct kiln_buf list = KILN_BUF_INIT;
	size_t shown = 0;
	for (size_t i = 0; i < names.len; i++) {
		/* a build arg's variable changed with the arg, said already */
		if (kiln_strv_find(arg_names, names.items[i]) >= 0)
			continue;
		if (kiln_buf_addf(&list, "%s%s", shown ? ", " : "", names.items[i]) < 0)
			a->failed = 1;
		detail(a, "env", names.items[i], NULL, NULL);
		shown++;
	}
	if (shown)
		say(a, "env", "env changed", "environment changed: %s", list.buf);
	kiln_buf_release(&list);
}

/* "f 0644 0:0 sha256:..." -> what a user reads about the change */
static int file_change(const char *path, const char *o, const char *n, char **ret)
{
	if (!o) {
		*ret = kiln_asprintf("%s (added)", path);
		return *ret ? 0 : -KILN_ENOMEM;
	}
	if (!n) {
		*ret = kiln_asprintf("%s (removed)", path);
		return *ret ? 0 : -KILN_ENOMEM;
	}
	char ot = o[0], nt = n[0];
	const char *om = o + 2, *nm = n + 2;
	const char *oo = strchr(om, ' '), *no = strchr(nm, ' ');
	const char *oc = oo ? strchr(oo + 1, ' ') : NULL, *nc = no ? strchr(no + 1, ' ') : NULL;
	if (!oo || !no || !oc || !nc) {
		*ret = kiln_asprintf("%s (changed)", path);
		return *ret ? 0 : -KILN_ENOMEM;
	}
	static const char *const types[] = { "f", "file", "d", "directory", "l", "symlink" };
	const char *otn = "special file", *ntn = "special file";
	for (size_t i = 0; i < KILN_ARRAY_SIZE(types); i += 2) {
		if (ot == types[i][0])
			otn = types[i + 1];
		if (nt == types[i][0])
			ntn = types[i + 1];
	}
	if (ot != nt) {
		*ret = kiln_asprintf("%s (%s → %s)", path, otn, ntn);
	} else if (strcmp(oc + 1, nc + 1)) {
		cleanup_free char *x = NULL, *y = NULL;
		if (ot == 'f') {
			x = short_digest(oc + 1);
			y = short_digest(nc + 1);
		} else if (show_pair(oc + 1, nc + 1, &x, &y) < 0) {
			return -KILN_ENOMEM;
		}
		if (!x || !y)
			return -KILN_ENOMEM;
		*ret = kiln_asprintf("%s (%s%s → %s)", path, ot == 'l' ? "link to " : "", x, y);
	} else if (strncmp(om, nm, (size_t) (oo - om)) || (size_t) (oo - om) != (size_t) (no - nm)) {
		*ret = kiln_asprintf("%s (mode %.*s → %.*s)", path, (int) (oo - om), om,
				     (int) (no - nm), nm);
	} else {
		*ret = kiln_asprintf("%s (owner %.*s → %.*s)", path, (int) (oc - oo - 1), oo + 1,
				     (int) (nc - no - 1), no + 1);
	}
	return *ret ? 0 : -KILN_ENOMEM;
}

/* One line of a file list, in place: "name\trest". */
struct list_line {
	const char *s;
	size_t len, name_len;
};

/* The next non-empty line at *p; 0 at the end. */
static int next_line(const char **p, struct list_line *ret)
{
	for (;;) {
		const char *s = *p;
		if (!*s)
			return 0;
		size_t n = strcspn(s, "\n");
		*p = s + n + (s[n] == '\n');
		if (!n)
			continue;
		const char *tab = memchr(s, '\t', n);
		*ret = (struct list_line){ s, n, tab ? (size_t) (tab - s) : n };
		return 1;
	}
}

/* What follows the name's tab, as a string. */
static char *line_rest(const struct list_line *l)
{
	size_t skip = l->name_len < l->len ? l->name_len + 1 : l->len;
	return kiln_strndup(l->s + skip, l->len - skip);
}

struct file_diff {
	const char *name;
	size_t name_len;
	int old, new; /* which of the lines there are */
	struct list_line old_line, new_line;
};

static int push_diff(struct file_diff **v, size_t *n, size_t *cap, const struct file_diff *d)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct file_diff *x = kiln_reallocarray(*v, nc, sizeof(*x));
		if (!x)
			return -KILN_ENOMEM;
		*v = x;
		*cap = nc;
	}
	(*v)[(*n)++] = *d;
	return 0;
}

/*
 * The names whose lines differ between two sorted file lists, in one pass
 * over both: the changed and removed ones in the old list's order, then the
 * added ones in the new list's.
 */
static int diff_files(const char *old, const char *now, struct file_diff **ret, size_t *ret_n)
{
	struct file_diff *changed = NULL, *added = NULL;
	size_t nc = 0, cc = 0, na = 0, ca = 0;
	struct list_line o = { 0 }, w = { 0 };
	int ho = next_line(&old, &o), hw = next_line(&now, &w), r = 0;
	while (r >= 0 && (ho || hw)) {
		int cmp;
		if (!ho || !hw) {
			cmp = ho ? -1 : 1;
		} else {
			size_t m = o.name_len < w.name_len ? o.name_len : w.name_len;
			cmp = memcmp(o.s, w.s, m);
			if (!cmp)
				cmp = o.name_len < w.name_len ? -1 : o.name_len > w.name_len;
		}
		if (cmp == 0) {
			if (o.len != w.len || memcmp(o.s, w.s, o.len))
				r = push_diff(&changed, &nc, &cc,
					      &(struct file_diff){ o.s, o.name_len, 1, 1, o, w });
			ho = next_line(&old, &o);
			hw = next_line(&now, &w);
		} else if (cmp < 0) {
			r = push_diff(&changed, &nc, &cc,
				      &(struct file_diff){ o.s, o.name_len, 1, 0, o, { 0 } });
			ho = next_line(&old, &o);
		} else {
			r = push_diff(&added, &na, &ca,
				      &(struct file_diff){ w.s, w.name_len, 0, 1, { 0 }, w });
			hw = next_line(&now, &w);
		}
	}
	for (size_t i = 0; r >= 0 && i < na; i++)
		r = push_diff(&changed, &nc, &cc, &added[i]);
	free(added);
	if (r < 0) {
		free(changed);
		return r;
	}
	*ret = changed;
	*ret_n = nc;
	return 0;
}

static void explain_sources(struct answer *a, const struct bb_explain_state *prev,
			    const struct bb_explain_state *now)
{
	if (!prev->files || !now->files) {
		const char *o = kiln_plan_key_get(&prev->key, "sources");
		const char *n = kiln_plan_key_get(&now->key, "sources");
		cleanup_free char *so = short_digest(o && *o ? o : "nothing");
		cleanup_free char *sn = short_digest(n && *n ? n : "nothing");
		if (!so || !sn) {
			a->failed = 1;
			return;
		}
		say(a, "sources", "sources changed", "the sources changed: %s → %s", so, sn);
		detail(a, "sources", NULL, o, n);
		return;
	}
	cleanup_free struct file_diff *diffs = NULL;
	size_t n_diffs = 0;
	if (diff_files(prev->files, now->files, &diffs, &n_diffs) < 0) {
		a->failed = 1;
		return;
	}
	struct kiln_buf list = KILN_BUF_INIT;
	cleanup_free char *first = NULL;
	const char *first_how = "changed";
	for (size_t i = 0; !a->failed && i < n_diffs && i < BB_EXPLAIN_DETAIL_FILES; i++) {
		const struct file_diff *d = &diffs[i];
		cleanup_free char *p = kiln_strndup(d->name, d->name_len);
		cleanup_free char *o = d->old ? line_rest(&d->old_line) : NULL;
		cleanup_free char *w = d->new ? line_rest(&d->new_line) : NULL;
		if (!p || (d->old && !o) || (d->new && !w)) {
			a->failed = 1;
			break;
		}
		if (i < BB_EXPLAIN_MESSAGE_FILES) {
			cleanup_free char *c = NULL;
			if (file_change(p, o, w, &c) < 0 ||
			    kiln_buf_addf(&list, "%s%s", i ? ", " : "", c) < 0)
				a->failed = 1;
		}
		detail_as(a, 1, "file", p, o, w);
		if (i == 0) {
			first = steal_ptr(&p);
			first_how = !d->new ? "removed" : !d->old ? "added" : "changed";
		}
	}
	a->m->files_changed = n_diffs;
	if (!a->failed && !n_diffs) {
		/* same files, another digest: what the list does not cover */
		say(a, "sources", "sources changed", "the sources changed");
	} else if (!a->failed) {
		cleanup_free char *sum =
			n_diffs == 1 ? kiln_asprintf("%s %s", first, first_how)
				     : kiln_asprintf("%zu source files changed", n_diffs);
		cleanup_free char *more =
			n_diffs > BB_EXPLAIN_MESSAGE_FILES
				? kiln_asprintf(", and %zu more",
						n_diffs - BB_EXPLAIN_MESSAGE_FILES)
				: kiln_strdup("");
		if (!sum || !more)
			a->failed = 1;
		else
			say(a, "sources", sum, "%zu source file%s changed: %s%s", n_diffs,
			    n_diffs == 1 ? "" : "s", list.buf, more);
	}
	kiln_buf_release(&list);
}

/* What names a mount of a key's "mounts" line: its target, else what comes before it (its type
 * and id: "secret id=tok"); heap, NULL out of memory. */
static char *mount_name(const char *mount)
{
	const char *t = strstr(mount, " target=");
	size_t tl = t ? strcspn(t + 8, " ") : 0;
	if (t && tl)
		return kiln_strndup(t + 8, tl);
	return kiln_strndup(mount, t ? (size_t) (t - mount) : strcspn(mount, " "));
}

static void explain_mounts(struct answer *a, const struct bb_explain_state *prev,
			   const struct bb_explain_state *now)
{
	cleanup(kiln_strv_release) struct kiln_strv pm = KILN_STRV_INIT, nm = KILN_STRV_INIT;
	if (split_lines(kiln_plan_key_get(&prev->key, "mounts"), &pm) < 0 ||
	    split_lines(kiln_plan_key_get(&now->key, "mounts"), &nm) < 0) {
		a->failed = 1;
		return;
	}
	for (int pass = 0; pass < 2 && !a->failed; pass++) {
		const struct kiln_strv *x = pass ? &pm : &nm, *y = pass ? &nm : &pm;
		for (size_t i = 0; i < x->len && !a->failed; i++) {
			if (kiln_strv_find(y, x->items[i]) >= 0)
				continue;
			/* a mount is its target; one without (a secret for a variable
			 * only) is its type and id */
			cleanup_free char *target = mount_name(x->items[i]);
			cleanup_free char *where =
				target && target[0] == '/' ? kiln_asprintf("at %s", target)
				: target		   ? kiln_asprintf("(%s)", target)
							   : NULL;
			if (!where) {
				a->failed = 1;
				return;
			}
			/* the same mount in the other list: its source changed */
			const char *other = NULL;
			for (size_t k = 0; k < y->len && !other; k++) {
				cleanup_free char *on = mount_name(y->items[k]);
				if (!on) {
					a->failed = 1;
					return;
				}
				if (!strcmp(on, target))
					other = y->items[k];
			}
			if (pass && other)
				continue; /* said in the first pass */
			if (other)
				say(a, "mounts", "a mount changed", "what RUN mounts %s changed",
				    where);
			else if (!pass)
				say(a, "mounts", "a mount was added", "a mount %s was added", where);
			else
				say(a, "mounts", "a mount was removed", "the mount %s was removed",
				    where);
			detail(a, "mount", target, pass ? x->items[i] : other,
			       pass ? NULL : x->items[i]);
		}
	}
}

/* The ingredients with a sentence of their own; anything else is generic. */
static const struct {
	const char *name, *label;
} generic[] = {
	{ "platform", "the platform" },	  { "user", "USER" },	      { "workdir", "WORKDIR" },
	{ "shell", "SHELL" },		  { "network", "the network" }, { "from", "the source" },
	{ "owner", "--chown" },		  { "dest", "the destination" }, { "link", "--link" },
	{ "epoch", "SOURCE_DATE_EPOCH" }, { "sandbox", "--add-host, --ulimit or --shm-size" },
};

static void explain_generic(struct answer *a, const char *name, const char *o, const char *n)
{
	const char *label = name;
	for (size_t i = 0; i < KILN_ARRAY_SIZE(generic); i++)
		if (!strcmp(generic[i].name, name))
			label = generic[i].label;
	cleanup_free char *so = NULL, *sn = NULL;
	int digests = (o && !strncmp(o, "sha256:", 7)) || (n && !strncmp(n, "sha256:", 7)) ||
		      (o && strstr(o, ":sha256:")) || (n && strstr(n, ":sha256:"));
	if (digests) {
		so = short_digest(o ? o : "(none)");
		sn = short_digest(n ? n : "(none)");
		if (so && o && strstr(o, ":sha256:")) {
			/* "stage:sha256:..." / "image:sha256:..." */
			const char *d = strstr(o, ":sha256:") + 1;
			free(so);
			so = kiln_asprintf("%.*s%.19s", (int) (d - o), o, d);
		}
		if (sn && n && strstr(n, ":sha256:")) {
			const char *d = strstr(n, ":sha256:") + 1;
			free(sn);
			sn = kiln_asprintf("%.*s%.19s", (int) (d - n), n, d);
		}
	} else if (o && n) {
		if (show_pair(o, n, &so, &sn) < 0)
			a->failed = 1;
	} else {
		so = show(o ? o : "(none)", BB_EXPLAIN_TEXT);
		sn = show(n ? n : "(none)", BB_EXPLAIN_TEXT);
	}
	cleanup_free char *sum = kiln_asprintf("%s changed", label);
	if (!so || !sn || !sum) {
		a->failed = 1;
		return;
	}
	for (char *p = so; *p; p++)
		if (*p == '\n')
			*p = ' ';
	for (char *p = sn; *p; p++)
		if (*p == '\n')
			*p = ' ';
	say(a, name, sum, "%s changed: %s → %s", label, so, sn);
	detail(a, name, NULL, o, n);
}

static void explain_parent(struct answer *a, const struct bb_explain_state *prev,
			   const struct bb_explain_state *now, const char *first_miss,
			   const char *base)
{
	const char *o = kiln_plan_key_get(&prev->key, "parent");
	const char *n = kiln_plan_key_get(&now->key, "parent");
	if (o && n && !strncmp(o, "base:", 5) && !strncmp(n, "base:", 5)) {
		cleanup_free char *so = short_digest(o + 5), *sn = short_digest(n + 5);
		if (!so || !sn) {
			a->failed = 1;
			return;
		}
		say(a, "base", "base image changed", "the base image%s%s changed: %s → %s",
		    base ? " " : "", base ? base : "", so, sn);
		detail(a, "base", base, o + 5, n + 5);
		return;
	}
	if (first_miss) {
		say(a, "parent", "step before rebuilt",
		    "the step before it was rebuilt (the first miss: %s)", first_miss);
		detail(a, "parent", first_miss, o, n);
		return;
	}
	cleanup_free char *so = short_digest(o ? o : "(none)"), *sn = short_digest(n ? n : "(none)");
	if (!so || !sn) {
		a->failed = 1;
		return;
	}
	say(a, "parent", "layers below changed", "the layers below it changed: %s → %s", so,
	    sn);
	detail(a, "parent", NULL, o, n);
}

int bb_explain_compute(const struct bb_explain_state *prev, const struct bb_explain_state *now,
		       const char *first_miss, const char *base, int no_cache,
		       struct kiln_build_miss *ret, struct kiln_error *err)
{
	struct kiln_build_miss m = { 0 };
	struct answer a = { .m = &m, .msg = KILN_BUF_INIT };
	if (no_cache) {
		const char *why = no_cache == 2 ? "--no-cache-filter" : "--no-cache";
		say(&a, "no-cache", why, "%s", why);
	} else if (!prev) {
		say(&a, "new", "first build",
		    "no earlier build of this step (the Dockerfile, context or store is new "
		    "to it)");
	} else if (kiln_digest_equal(&prev->key.digest, &now->key.digest) && prev->remote) {
		say(&a, "remote", "layer not fetched",
		    "an earlier build took this step from the cache %s without fetching its "
		    "layer: give --cache-from %s again to use it",
		    prev->remote, prev->remote);
	} else if (kiln_digest_equal(&prev->key.digest, &now->key.digest)) {
		say(&a, "pruned", "layer pruned",
		    "the cache had this step, but its layer was removed (kiln prune)");
	} else {
		cleanup(kiln_strv_release) struct kiln_strv diff = KILN_STRV_INIT;
		cleanup(kiln_strv_release) struct kiln_strv arg_names = KILN_STRV_INIT;
		int r = kiln_plan_key_diff(&prev->key, &now->key, &diff, err);
		if (r < 0) {
			kiln_buf_release(&a.msg);
			return r;
		}
		/* the step's own changes first, what it inherits last */
		if (kiln_strv_find(&diff, "sources") >= 0)
			explain_sources(&a, prev, now);
		if (kiln_strv_find(&diff, "args") >= 0)
			explain_args(&a, prev, now, &arg_names);
		if (kiln_strv_find(&diff, "instruction") >= 0) {
			const char *ot = prev->text ? prev->text : "", *nt = now->text;
			if (strcmp(ot, nt)) {
				cleanup_free char *so = NULL, *sn = NULL;
				if (show_pair(ot, nt, &so, &sn) < 0)
					a.failed = 1;
				else
					say(&a, "instruction", "instruction changed",
					    "the instruction changed: %s → %s", so, sn);
				detail(&a, "instruction", NULL, ot, nt);
			} else if (!arg_names.len) {
				/* flags or here-documents: not in the progress text (and not
				 * a build arg, which changes the expanded text) */
				cleanup_free char *s = show(nt, BB_EXPLAIN_TEXT);
				if (!s)
					a.failed = 1;
				else
					say(&a, "instruction", "instruction changed",
					    "the instruction changed (its variables, flags or "
					    "here-documents): %s",
					    s);
				detail(&a, "instruction", NULL, NULL, NULL);
			}
		}
		if (kiln_strv_find(&diff, "env") >= 0)
			explain_env(&a, prev, now, &arg_names);
		if (kiln_strv_find(&diff, "mounts") >= 0)
			explain_mounts(&a, prev, now);
		for (size_t i = 0; i < diff.len && !a.failed; i++) {
			const char *n = diff.items[i];
			if (!strcmp(n, "sources") || !strcmp(n, "args") || !strcmp(n, "instruction") ||
			    !strcmp(n, "env") || !strcmp(n, "mounts") || !strcmp(n, "parent"))
				continue;
			explain_generic(&a, n, kiln_plan_key_get(&prev->key, n),
					kiln_plan_key_get(&now->key, n));
		}
		if (kiln_strv_find(&diff, "parent") >= 0)
			explain_parent(&a, prev, now, first_miss, base);
		if (!a.msg.len && !a.failed)
			say(&a, "other", "the key changed", "the step's cache key changed");
	}
	if (a.failed) {
		kiln_buf_release(&a.msg);
		free(a.first_kind);
		free(a.summary);
		bb_explain_miss_release(&m);
		return oom(err);
	}
	m.reason = steal_ptr(&a.first_kind);
	m.summary = steal_ptr(&a.summary);
	m.message = kiln_buf_detach(&a.msg, NULL);
	if (!m.message) {
		bb_explain_miss_release(&m);
		return oom(err);
	}
	*ret = m;
	return 0;
}
