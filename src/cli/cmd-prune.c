/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "build/build.h"
#include "build/cachemount.h"
#include "cli.h"
#include "snapshot/snapshot.h"
#include "store/store.h"

static int arg_dry_run;
static int arg_dangling;
static int arg_cache_mounts;

static const struct cli_spec spec = {
	.usage = "kiln prune [--dry-run] [--dangling] [--cache-mounts]",
	.summary = "Delete blobs nothing references and files left by interrupted commands.",
	.opts =
		(const struct cli_opt[]){
			{ "dry-run", 'n', CLI_OPT_FLAG, &arg_dry_run, NULL,
			  "report what would be deleted" },
			{ "dangling", 0, CLI_OPT_FLAG, &arg_dangling, NULL,
			  "first remove images that have no name" },
			{ "cache-mounts", 0, CLI_OPT_FLAG, &arg_cache_mounts, NULL,
			  "also delete RUN --mount=type=cache directories no build is using" },
			{ 0 },
		},
	.details = "Images and pinned blobs are kept; the build cache is freed (kiln build\n"
		   "fills it again). Unpacked layers go with their blobs, except those of images\n"
		   "in the store and those a running kiln has mounted. Waits while other kiln\n"
		   "commands use the store. The contents of RUN --mount=type=cache stay unless\n"
		   "--cache-mounts is given.",
};

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

int cmd_prune(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	arg_dry_run = arg_dangling = arg_cache_mounts = 0;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len)
		return cli_usage_error(&spec, "unexpected argument '%s'", pos.items[0]);
	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	struct kiln_store_prune_report rep = { 0 };
	unsigned flags = (arg_dry_run ? KILN_STORE_PRUNE_DRY_RUN : 0) |
			 (arg_dangling ? KILN_STORE_PRUNE_DANGLING : 0);
	size_t dead_builds = 0;
	if (kiln_store_open(&env->ctx, env->root, 0, &st, &err) < 0 ||
	    kiln_store_prune(st, flags, &rep, &err) < 0 ||
	    kiln_build_tmp_prune(st, arg_dry_run, &dead_builds, &err) < 0)
		return cli_report(env, &err);
	rep.temp_removed += dead_builds; /* a killed build's scratch directory */
	/* Unpacked layers are derived from blobs: once the blobs and cache
	 * records that used them are gone, so are they (except those of images
	 * still in the store, and any a running kiln has mounted). */
	struct kiln_snapshot_prune_report snap = { 0 };
	if (!arg_dry_run) {
		cleanup(kiln_snapshotter_freep) struct kiln_snapshotter *sn = NULL;
		if (kiln_snapshotter_open(&env->ctx, kiln_store_root(st), &sn, &err) < 0 ||
		    kiln_snapshot_prune_store(sn, st, &snap, &err) < 0)
			return cli_report(env, &err);
	}
	/* cache mounts hold what builds chose to keep (package caches): only on request */
	struct kiln_cachemount_prune_report cmr = { 0 };
	if (arg_cache_mounts &&
	    kiln_cachemount_prune(st, NULL, arg_dry_run ? KILN_CACHEMOUNT_PRUNE_DRY_RUN : 0, &cmr,
				  &err) < 0)
		return cli_report(env, &err);
	char size[32];
	human_size(rep.bytes_freed + (int64_t)snap.bytes_freed + (int64_t)cmr.bytes, size,
		   sizeof(size));
	if (arg_dangling)
		printf("%s %zu image%s without a name\n", arg_dry_run ? "Would delete" : "Deleted",
		       rep.images_removed, rep.images_removed == 1 ? "" : "s");
	printf("%s %zu blob%s and %zu temp file%s\n", arg_dry_run ? "Would delete" : "Deleted",
	       rep.blobs_removed, rep.blobs_removed == 1 ? "" : "s", rep.temp_removed,
	       rep.temp_removed == 1 ? "" : "s");
	if (!arg_dry_run)
		printf("Deleted %zu unpacked layer%s (%zu in use, kept)\n", snap.removed,
		       snap.removed == 1 ? "" : "s", snap.busy);
	if (arg_cache_mounts)
		printf("%s %zu cache mount%s (%zu in use, kept)\n",
		       arg_dry_run ? "Would delete" : "Deleted", cmr.removed,
		       cmr.removed == 1 ? "" : "s", cmr.busy);
	printf("Total reclaimed space: %s\n", size);
	return CLI_EXIT_OK;
}
