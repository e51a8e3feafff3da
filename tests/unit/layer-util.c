/* SPDX-License-Identifier: Apache-2.0 */
#include "layer-util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/base.h"
#include "layer/layer.h"

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q) {
		fputs("out of memory\n", stderr);
		abort();
	}
	return q;
}

void tb_free(struct tb *t)
{
	free(t->data);
	t->data = NULL;
	t->len = t->cap = 0;
}

void tb_raw(struct tb *t, const void *p, size_t n)
{
	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2 + 4096;
		t->data = xrealloc(t->data, t->cap);
	}
	memcpy(t->data + t->len, p, n);
	t->len += n;
}

void tb_zeros(struct tb *t, size_t n)
{
	static const unsigned char z[512];
	while (n > 0) {
		size_t k = n < sizeof(z) ? n : sizeof(z);
		tb_raw(t, z, k);
		n -= k;
	}
}

void tb_pad(struct tb *t)
{
	tb_zeros(t, (512 - t->len % 512) % 512);
}

static void octal(unsigned char *f, size_t n, uint64_t v)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%0*llo", (int) (n - 1), (unsigned long long) v);
	memcpy(f, tmp, n - 1);
	f[n - 1] = 0;
}

void tb_header(struct tb *t, const struct tb_hdr *h)
{
	unsigned char b[512] = { 0 };
	strncpy((char *) b, h->name, 100);
	unsigned mode = h->set_mode || h->mode ? h->mode : 0644;
	octal(b + 100, 8, mode);
	if (h->base256_uid) {
		b[108] = 0x80;
		for (int i = 0; i < 4; i++)
			b[115 - i] = (unsigned char) (h->uid >> (8 * i));
	} else {
		octal(b + 108, 8, h->uid);
	}
	octal(b + 116, 8, h->gid);
	octal(b + 124, 12, h->size);
	octal(b + 136, 12, (uint64_t) h->mtime);
	b[156] = (unsigned char) h->type;
	if (h->link)
		strncpy((char *) b + 157, h->link, 100);
	if (h->gnu) {
		memcpy(b + 257, "ustar  ", 8);
	} else if (!h->v7) {
		memcpy(b + 257, "ustar", 6);
		memcpy(b + 263, "00", 2);
	}
	if (!h->v7) {
		octal(b + 329, 8, h->devmajor);
		octal(b + 337, 8, h->devminor);
		if (h->prefix)
			strncpy((char *) b + 345, h->prefix, 155);
	}
	memset(b + 148, ' ', 8);
	long sum = 0;
	for (int i = 0; i < 512; i++)
		sum += h->signed_checksum ? (signed char) b[i] : b[i];
	if (h->bad_checksum)
		sum += 1;
	char ck[8];
	snprintf(ck, sizeof(ck), "%06lo", sum);
	memcpy(b + 148, ck, 6);
	b[154] = 0;
	b[155] = ' ';
	tb_raw(t, b, 512);
}

void tb_file(struct tb *t, const struct tb_hdr *h, const void *data, size_t len)
{
	struct tb_hdr c = *h;
	c.size = len;
	tb_header(t, &c);
	if (len)
		tb_raw(t, data, len);
	tb_pad(t);
}

void tb_pax(struct tb *t, char type, const struct tb_rec *recs, size_t n)
{
	struct tb body = { 0 };
	for (size_t i = 0; i < n; i++) {
		size_t vlen = recs[i].len ? recs[i].len : strlen(recs[i].val);
		size_t base = strlen(recs[i].key) + vlen + 3;
		size_t total = base + 1;
		char digits[32];
		for (;;) {
			int d = snprintf(digits, sizeof(digits), "%zu", total);
			if (base + (size_t) d == total)
				break;
			total = base + (size_t) d;
		}
		tb_raw(&body, digits, strlen(digits));
		tb_raw(&body, " ", 1);
		tb_raw(&body, recs[i].key, strlen(recs[i].key));
		tb_raw(&body, "=", 1);
		tb_raw(&body, recs[i].val, vlen);
		tb_raw(&body, "\n", 1);
	}
	struct tb_hdr h = { .name = "PaxHeaders/x", .type = type };
	tb_file(t, &h, body.data, body.len);
	tb_free(&body);
}

void tb_gnu_long(struct tb *t, char type, const char *name)
{
	struct tb_hdr h = { .name = "././@LongLink", .type = type, .gnu = 1 };
	tb_file(t, &h, name, strlen(name) + 1);
}

void tb_end(struct tb *t)
{
	tb_zeros(t, 1024);
}

int mem_fd(const void *data, size_t len)
{
	int fd = memfd_create("layer-test", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (len && kiln_write_all(fd, data, len) < 0) {
		close(fd);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

unsigned char *fd_bytes(int fd, size_t *ret_len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return NULL;
	unsigned char *b = malloc((size_t) st.st_size + 1);
	if (!b)
		return NULL;
	ssize_t n = pread(fd, b, (size_t) st.st_size, 0);
	if (n != st.st_size) {
		free(b);
		return NULL;
	}
	*ret_len = (size_t) n;
	return b;
}

char *scratch_dir(const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	char *p = kiln_asprintf("%s/kiln-layer-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
	if (!p || !mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}

static int make_writable(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D || type == FTW_DNR)
		(void)chmod(p, (st->st_mode & 07777) | 0700);
	return 0;
}

void remove_tree(const char *path)
{
	struct kiln_error err = KILN_ERROR_INIT;
	/* read-only directories (a test's subject) must not keep their content */
	(void)nftw(path, make_writable, 32, FTW_PHYS);
	(void) kiln_rm_rf(path, &err);
	kiln_error_release(&err);
}

void put_file(const char *path, const char *content, unsigned mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return;
	(void) kiln_write_all(fd, content, strlen(content));
	(void) fchmod(fd, mode);
	close(fd);
}

int path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* ---------------------------------------------------------------------- */

struct walk_ctx {
	const char *ra, *rb;
	int times;
	char *why;
	size_t why_len;
	/* inode of a -> first relative path; checked against b's inode grouping */
	struct {
		ino_t ia, ib;
		char *path;
	} * links;
	size_t n_links;
};

static int differ(struct walk_ctx *c, const char *fmt, const char *rel, long long x, long long y)
{
	char m[256];
	snprintf(m, sizeof(m), fmt, x, y);
	snprintf(c->why, c->why_len, "%s: %s", rel, m);
	return 1;
}

static int cmp_content(const char *pa, const char *pb)
{
	FILE *fa = fopen(pa, "rb"), *fb = fopen(pb, "rb");
	int r = 0;
	if (!fa || !fb) {
		r = 1;
	} else {
		char ba[65536], bb[65536];
		for (;;) {
			size_t na = fread(ba, 1, sizeof(ba), fa), nb = fread(bb, 1, sizeof(bb), fb);
			if (na != nb || memcmp(ba, bb, na)) {
				r = 1;
				break;
			}
			if (na == 0)
				break;
		}
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return r;
}

static char *xattr_list_sorted(const char *p)
{
	char list[65536];
	ssize_t n = llistxattr(p, list, sizeof(list));
	if (n < 0)
		n = 0;
	char *names[512];
	size_t k = 0;
	for (char *q = list; q < list + n && k < 512; q += strlen(q) + 1)
		if (strcmp(q, "security.selinux") != 0)
			names[k++] = q;
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *tmp = names[j];
			names[j] = names[j - 1];
			names[j - 1] = tmp;
		}
	struct kiln_buf out = KILN_BUF_INIT;
	for (size_t i = 0; i < k; i++) {
		char v[65536];
		ssize_t vl = lgetxattr(p, names[i], v, sizeof(v));
		if (kiln_buf_addf(&out, "%s=", names[i]) < 0)
			break;
		for (ssize_t j = 0; j < vl; j++)
			if (kiln_buf_addf(&out, "%02x", (unsigned char) v[j]) < 0)
				break;
		if (kiln_buf_addch(&out, ';') < 0)
			break;
	}
	return kiln_buf_detach(&out, NULL);
}

static int walk_cmp(struct walk_ctx *c, const char *rel)
{
	char pa[8192], pb[8192];
	snprintf(pa, sizeof(pa), "%s%s%s", c->ra, *rel ? "/" : "", rel);
	snprintf(pb, sizeof(pb), "%s%s%s", c->rb, *rel ? "/" : "", rel);
	struct stat sa, sb;
	if (lstat(pa, &sa) < 0)
		return differ(c, "missing in a (%lld %lld)", rel, 0, 0);
	if (lstat(pb, &sb) < 0)
		return differ(c, "missing in b (%lld %lld)", rel, 0, 0);
	if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT))
		return differ(c, "type %llo vs %llo", rel, sa.st_mode & S_IFMT,
			      sb.st_mode & S_IFMT);
	if (*rel && (sa.st_mode & 07777) != (sb.st_mode & 07777) && !S_ISLNK(sa.st_mode))
		return differ(c, "mode %llo vs %llo", rel, sa.st_mode & 07777, sb.st_mode & 07777);
	if (*rel && (sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid))
		return differ(c, "owner %lld vs %lld", rel,
			      (long long) sa.st_uid * 100000 + sa.st_gid,
			      (long long) sb.st_uid * 100000 + sb.st_gid);
	if (*rel && c->times && !S_ISDIR(sa.st_mode) && sa.st_mtim.tv_sec != sb.st_mtim.tv_sec)
		return differ(c, "mtime %lld vs %lld", rel, sa.st_mtim.tv_sec, sb.st_mtim.tv_sec);
	if (*rel && c->times && S_ISDIR(sa.st_mode) && sa.st_mtim.tv_sec != sb.st_mtim.tv_sec)
		return differ(c, "dir mtime %lld vs %lld", rel, sa.st_mtim.tv_sec,
			      sb.st_mtim.tv_sec);
	if (*rel) {
		char *xa = xattr_list_sorted(pa), *xb = xattr_list_sorted(pb);
		int bad = !xa || !xb || strcmp(xa, xb) != 0;
		if (bad)
			snprintf(c->why, c->why_len, "%s: xattrs '%s' vs '%s'", rel, xa ? xa : "?",
				 xb ? xb : "?");
		free(xa);
		free(xb);
		if (bad)
			return 1;
	}
	if (S_ISREG(sa.st_mode)) {
		if (sa.st_size != sb.st_size)
			return differ(c, "size %lld vs %lld", rel, sa.st_size, sb.st_size);
		if (cmp_content(pa, pb))
			return differ(c, "content differs (%lld %lld)", rel, 0, 0);
		if (sa.st_nlink > 1 || sb.st_nlink > 1) {
			for (size_t i = 0; i < c->n_links; i++) {
				if (c->links[i].ia == sa.st_ino || c->links[i].ib == sb.st_ino) {
					if (c->links[i].ia != sa.st_ino ||
					    c->links[i].ib != sb.st_ino)
						return differ(
							c, "hardlink grouping differs (%lld %lld)",
							rel, 0, 0);
					goto linked;
				}
			}
			c->links = xrealloc(c->links, (c->n_links + 1) * sizeof(*c->links));
			c->links[c->n_links].ia = sa.st_ino;
			c->links[c->n_links].ib = sb.st_ino;
			c->links[c->n_links].path = strdup(rel);
			c->n_links++;
		}
	linked:;
	}
	if (S_ISLNK(sa.st_mode)) {
		char la[4097], lb[4097];
		ssize_t na = readlink(pa, la, sizeof(la) - 1),
			nb = readlink(pb, lb, sizeof(lb) - 1);
		if (na < 0 || nb < 0 || na != nb || memcmp(la, lb, (size_t) na))
			return differ(c, "link target differs (%lld %lld)", rel, na, nb);
	}
	if (S_ISCHR(sa.st_mode) || S_ISBLK(sa.st_mode)) {
		if (sa.st_rdev != sb.st_rdev)
			return differ(c, "rdev %lld vs %lld", rel, (long long) sa.st_rdev,
				      (long long) sb.st_rdev);
	}
	if (!S_ISDIR(sa.st_mode))
		return 0;
	/* children: same name sets */
	struct kiln_strv na = KILN_STRV_INIT, nb = KILN_STRV_INIT;
	DIR *d = opendir(pa);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			if (kiln_strv_push(&na, de->d_name) < 0)
				abort();
	if (d)
		closedir(d);
	d = opendir(pb);
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			if (kiln_strv_push(&nb, de->d_name) < 0)
				abort();
	if (d)
		closedir(d);
	int r = 0;
	for (size_t i = 0; i < nb.len && !r; i++)
		if (kiln_strv_find(&na, nb.items[i]) < 0) {
			snprintf(c->why, c->why_len, "%s/%s: only in b", rel, nb.items[i]);
			r = 1;
		}
	for (size_t i = 0; i < na.len && !r; i++) {
		char sub[8192];
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", na.items[i]);
		r = walk_cmp(c, sub);
	}
	kiln_strv_release(&na);
	kiln_strv_release(&nb);
	return r;
}

int tree_equal(const char *a, const char *b, int times, char *why, size_t why_len)
{
	struct walk_ctx c = { a, b, times, why, why_len, NULL, 0 };
	why[0] = '\0';
	int r = walk_cmp(&c, "");
	for (size_t i = 0; i < c.n_links; i++)
		free(c.links[i].path);
	free(c.links);
	return r;
}

static int line_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *) x, *(char *const *) y);
}

char *tar_listing(int fd, int sorted)
{
	struct kiln_layer_reader *r = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	if (kiln_layer_reader_new(fd, NULL, &r, &err) < 0) {
		kiln_error_release(&err);
		return NULL;
	}
	struct kiln_strv lines = KILN_STRV_INIT;
	int ok = 1;
	for (;;) {
		const struct kiln_tar_entry *e;
		int q = kiln_layer_reader_next(r, &e, &err);
		if (q < 0) {
			ok = 0;
			break;
		}
		if (q == 0)
			break;
		char *l = kiln_asprintf("%c %s%s%s", kiln_tar_type_char(e->type), e->path,
					e->link ? " -> " : "", e->link ? e->link : "");
		if (!l || kiln_strv_push_owned(&lines, l) < 0) {
			ok = 0;
			break;
		}
	}
	kiln_layer_reader_free(r);
	kiln_error_release(&err);
	if (!ok) {
		kiln_strv_release(&lines);
		return NULL;
	}
	if (sorted)
		qsort(lines.items, lines.len, sizeof(char *), line_cmp);
	struct kiln_buf out = KILN_BUF_INIT;
	for (size_t i = 0; i < lines.len; i++)
		if (kiln_buf_addf(&out, "%s\n", lines.items[i]) < 0)
			break;
	kiln_strv_release(&lines);
	return kiln_buf_detach(&out, NULL);
}

char *path_join(const char *a, const char *b)
{
	char *p = kiln_asprintf("%s/%s", a, b);
	if (!p)
		abort();
	return p;
}

int apply_fd(int fd, const char *dir, const struct kiln_layer_apply_opts *o,
	     struct kiln_layer_apply_result *res, struct kiln_error *err)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return kiln_fail_errno(err, "open %s", dir);
	int r = kiln_layer_apply(fd, dfd, o, res, err);
	close(dfd);
	return r;
}

int apply_tb(struct tb *t, const char *dir, const struct kiln_layer_apply_opts *o,
	     struct kiln_layer_apply_result *res, struct kiln_error *err)
{
	int fd = mem_fd(t->data, t->len);
	int r = apply_fd(fd, dir, o, res, err);
	close(fd);
	return r;
}

int copy_via_layer(const char *src, const char *dst, enum kiln_layer_tree_mode tm,
		   const struct kiln_layer_write_opts *wo, const struct kiln_layer_apply_opts *ao,
		   struct kiln_error *err)
{
	int out = mem_fd(NULL, 0);
	int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = kiln_layer_write_tree(sfd, tm, out, wo, NULL, err);
	close(sfd);
	if (r == 0) {
		lseek(out, 0, SEEK_SET);
		r = apply_fd(out, dst, ao, NULL, err);
	}
	close(out);
	return r;
}
