/* SPDX-License-Identifier: Apache-2.0 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ref/ref.h"
#include "store/store.h"

static const char *arg_format;
static int arg_quiet;

static const struct cli_spec spec = {
	.usage = "kiln images [--format table|json] [-q] [REPOSITORY[:TAG]]",
	.summary = "List the images in the store.",
	.opts =
		(const struct cli_opt[]){
			{ "format", 0, CLI_OPT_STRING, &arg_format, "FORMAT",
			  "table (the default) or json" },
			{ "quiet", 'q', CLI_OPT_FLAG, &arg_quiet, NULL, "print image ids only" },
			{ 0 },
		},
	.details = "One table row per name (an image without a name shows the repository it was\n"
		   "pulled from by digest, else <none>). IMAGE ID is the config digest, as\n"
		   "docker and podman show it; SIZE counts the\n"
		   "image's blobs as stored (compressed layers plus config).\n"
		   "--format json prints one object per image.",
};

/* go-units HumanSizeWithPrecision(size, 3): decimal units, as docker images prints. */
static void human_size(int64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
	double v = (double)n;
	size_t i = 0;
	while (v >= 1000.0 && i + 1 < KILN_ARRAY_SIZE(units)) {
		v /= 1000.0;
		i++;
	}
	(void)snprintf(buf, len, "%.3g%s", v, units[i]);
}

/* go-units HumanDuration, as docker's CREATED column. */
static void human_ago(int64_t then, char *buf, size_t len)
{
	if (then <= 0) {
		(void)snprintf(buf, len, "N/A");
		return;
	}
	int64_t s = (int64_t)time(NULL) - then;
	int64_t m = s / 60, h = (s + 1800) / 3600;
	if (s < 1)
		(void)snprintf(buf, len, "Less than a second ago");
	else if (s == 1)
		(void)snprintf(buf, len, "1 second ago");
	else if (s < 60)
		(void)snprintf(buf, len, "%lld seconds ago", (long long)s);
	else if (m == 1)
		(void)snprintf(buf, len, "About a minute ago");
	else if (m < 60)
		(void)snprintf(buf, len, "%lld minutes ago", (long long)m);
	else if (h == 1)
		(void)snprintf(buf, len, "About an hour ago");
	else if (h < 48)
		(void)snprintf(buf, len, "%lld hours ago", (long long)h);
	else if (h < 24 * 7 * 2)
		(void)snprintf(buf, len, "%lld days ago", (long long)(h / 24));
	else if (h < 24 * 30 * 2)
		(void)snprintf(buf, len, "%lld weeks ago", (long long)(h / 24 / 7));
	else if (h < 24 * 365 * 2)
		(void)snprintf(buf, len, "%lld months ago", (long long)(h / 24 / 30));
	else
		(void)snprintf(buf, len, "%lld years ago", (long long)(s / 3600 / 24 / 365));
}

struct row {
	char *repo, *tag, *id, *created, *size;
};

static void row_release(struct row *r)
{
	free(r->repo);
	free(r->tag);
	free(r->id);
	free(r->created);
	free(r->size);
}

/* Repository and tag of a canonical name in their familiar spelling. */
static int split_name(const char *name, char **repo, char **tag)
{
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	if (kiln_ref_parse_canonical(name, &ref, NULL) < 0) {
		*repo = kiln_strdup(name);
		*tag = kiln_strdup("<none>");
	} else {
		*repo = kiln_ref_familiar_name(ref);
		*tag = kiln_strdup(ref->tag ? ref->tag : "<none>");
	}
	return *repo && *tag ? 0 : -1;
}

/* The filter argument: a repository, optionally with a tag. */
static int matches(const char *filter_repo, const char *filter_tag, const char *name)
{
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	if (kiln_ref_parse_canonical(name, &ref, NULL) < 0)
		return 0;
	cleanup_free char *repo = kiln_ref_name(ref);
	return repo && strcmp(repo, filter_repo) == 0 &&
	       (!filter_tag || (ref->tag && strcmp(ref->tag, filter_tag) == 0));
}

/* The repository of a "repo@digest" an image was pulled by, canonical; NULL if none. */
static char *digest_repo(const char *repo_digest)
{
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	if (kiln_ref_parse(repo_digest, 0, &ref, NULL) < 0)
		return NULL;
	return kiln_ref_name(ref);
}

/* An image with no name is listed under the repositories it was pulled from by digest, as
 * docker lists it: each once, with the tag <none>. */
static int digest_repos(const struct kiln_store_image *img, struct kiln_strv *ret)
{
	for (size_t j = 0; j < img->digests.len; j++) {
		char *repo = digest_repo(img->digests.items[j]);
		if (!repo || kiln_strv_find(ret, repo) >= 0) {
			free(repo);
			continue;
		}
		if (kiln_strv_push_owned(ret, repo) < 0)
			return -1;
	}
	return 0;
}

static int print_json(const struct kiln_store_image_list *l)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < l->len; i++) {
		const struct kiln_store_image *img = l->items[i];
		json_t *tags = json_array(), *digests = json_array();
		for (size_t j = 0; tags && j < img->names.len; j++) {
			cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
			cleanup_free char *f = NULL;
			if (kiln_ref_parse_canonical(img->names.items[j], &ref, NULL) == 0)
				f = kiln_ref_familiar_string(ref);
			json_array_append_new(tags, json_string(f ? f : img->names.items[j]));
		}
		for (size_t j = 0; digests && j < img->digests.len; j++)
			json_array_append_new(digests, json_string(img->digests.items[j]));
		cleanup_free char *plat = kiln_oci_platform_string(&img->platform);
		json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:s?, s:I, s:I, s:s}", "Id",
				      img->config.str, "Digest", img->manifest.str, "RepoTags",
				      tags, "RepoDigests", digests, "Created", img->created,
				      "CreatedUnix", (json_int_t)img->created_unix, "Size",
				      (json_int_t)img->size, "Platform", plat ? plat : "");
		if (!o || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return -1;
		}
	}
	if (!arr)
		return -1;
	int r = json_dumpf(arr, stdout, JSON_INDENT(2));
	json_decref(arr);
	return r < 0 || fputc('\n', stdout) == EOF ? -1 : 0;
}

int cmd_images(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	arg_format = NULL;
	arg_quiet = 0;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len > 1)
		return cli_usage_error(&spec, "unexpected argument '%s'", pos.items[1]);
	int json = arg_format && strcmp(arg_format, "json") == 0;
	if (arg_format && !json && strcmp(arg_format, "table") != 0)
		return cli_usage_error(&spec, "unknown format '%s': use table or json", arg_format);
	cleanup_free char *frepo = NULL;
	const char *ftag = NULL;
	cleanup(kiln_ref_freep) struct kiln_ref *fref = NULL;
	if (pos.len) {
		if (kiln_ref_parse(pos.items[0], 0, &fref, &err) < 0) {
			(void)kiln_error_prefix(&err, -(int)err.code, "'%s'", pos.items[0]);
			return cli_report(env, &err);
		}
		frepo = kiln_ref_name(fref);
		ftag = fref->tag;
		if (!frepo)
			return CLI_EXIT_FAIL;
	}

	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	struct kiln_store_image_list l = { 0 };
	if (kiln_store_open(&env->ctx, env->root, KILN_STORE_NO_GC_LOCK, &st, &err) < 0 ||
	    kiln_store_image_list(st, &l, &err) < 0)
		return cli_report(env, &err);
	/* keep only images with a matching name */
	size_t kept = 0;
	for (size_t i = 0; i < l.len; i++) {
		int keep = !frepo;
		for (size_t j = 0; !keep && j < l.items[i]->names.len; j++)
			keep = matches(frepo, ftag, l.items[i]->names.items[j]);
		for (size_t j = 0; !keep && !ftag && !l.items[i]->names.len &&
				   j < l.items[i]->digests.len;
		     j++) {
			cleanup_free char *repo = digest_repo(l.items[i]->digests.items[j]);
			keep = repo && !strcmp(repo, frepo);
		}
		if (keep)
			l.items[kept++] = l.items[i];
		else
			kiln_store_image_free(l.items[i]);
	}
	l.len = kept;

	int rc = CLI_EXIT_OK;
	if (json) {
		if (print_json(&l) < 0)
			rc = CLI_EXIT_FAIL;
	} else if (arg_quiet) {
		for (size_t i = 0; i < l.len; i++) {
			int dup = 0;
			for (size_t j = 0; j < i && !dup; j++)
				dup = kiln_digest_equal(&l.items[i]->config, &l.items[j]->config);
			if (!dup)
				printf("%.12s\n", l.items[i]->config.hex);
		}
	} else {
		struct row *rows = NULL;
		size_t n = 0, w[5] = { 10, 3, 8, 7, 4 };
		for (size_t i = 0; i < l.len; i++) {
			const struct kiln_store_image *img = l.items[i];
			cleanup(kiln_strv_release) struct kiln_strv repos = KILN_STRV_INIT;
			if (!img->names.len && digest_repos(img, &repos) < 0) {
				rc = CLI_EXIT_FAIL;
				break;
			}
			size_t k = img->names.len ? img->names.len : repos.len ? repos.len : 1;
			struct row *p = kiln_reallocarray(rows, n + k, sizeof(*p));
			if (!p) {
				rc = CLI_EXIT_FAIL;
				break;
			}
			rows = p;
			char created[64], size[32];
			human_ago(img->created_unix, created, sizeof(created));
			human_size(img->size, size, sizeof(size));
			for (size_t j = 0; j < k; j++) {
				struct row *row = &rows[n++];
				memset(row, 0, sizeof(*row));
				if (img->names.len) {
					if (split_name(img->names.items[j], &row->repo, &row->tag) < 0)
						rc = CLI_EXIT_FAIL;
					if (frepo && !matches(frepo, ftag, img->names.items[j])) {
						row_release(row);
						n--;
						continue;
					}
				} else if (repos.len) {
					cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
					row->repo = kiln_ref_parse(repos.items[j], 0, &ref, NULL) == 0
							    ? kiln_ref_familiar_name(ref)
							    : kiln_strdup(repos.items[j]);
					row->tag = kiln_strdup("<none>");
				} else {
					row->repo = kiln_strdup("<none>");
					row->tag = kiln_strdup("<none>");
				}
				row->id = kiln_strndup(img->config.hex, 12);
				row->created = kiln_strdup(created);
				row->size = kiln_strdup(size);
				if (!row->repo || !row->tag || !row->id || !row->created || !row->size)
					rc = CLI_EXIT_FAIL;
			}
		}
		for (size_t i = 0; rc == CLI_EXIT_OK && i < n; i++) {
			const char *f[] = { rows[i].repo, rows[i].tag, rows[i].id, rows[i].created,
					    rows[i].size };
			for (size_t c = 0; c < 5; c++)
				if (strlen(f[c]) > w[c])
					w[c] = strlen(f[c]);
		}
		if (rc == CLI_EXIT_OK) {
			printf("%-*s   %-*s   %-*s   %-*s   %s\n", (int)w[0], "REPOSITORY", (int)w[1],
			       "TAG", (int)w[2], "IMAGE ID", (int)w[3], "CREATED", "SIZE");
			for (size_t i = 0; i < n; i++)
				printf("%-*s   %-*s   %-*s   %-*s   %s\n", (int)w[0], rows[i].repo,
				       (int)w[1], rows[i].tag, (int)w[2], rows[i].id, (int)w[3],
				       rows[i].created, rows[i].size);
		}
		for (size_t i = 0; i < n; i++)
			row_release(&rows[i]);
		free(rows);
	}
	kiln_store_image_list_release(&l);
	if (rc != CLI_EXIT_OK)
		fprintf(stderr, "error: out of memory or output failed\n");
	return rc;
}
