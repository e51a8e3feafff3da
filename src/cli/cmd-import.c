/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "build/build.h"
#include "cli.h"
#include "ref/ref.h"
#include "store/store.h"

static const char *arg_message;
static const char *arg_platform;
static struct kiln_strv arg_change = KILN_STRV_INIT;

static const struct cli_spec spec = {
	.usage = "kiln import [-c INSTRUCTION]... [-m MESSAGE] [--platform OS/ARCH[/VARIANT]] "
		 "ROOTFS [NAME[:TAG]]",
	.summary = "Make a one-layer image from a root filesystem (like docker import).",
	.opts =
		(const struct cli_opt[]){
			{ "change", 'c', CLI_OPT_LIST, &arg_change, "INSTRUCTION",
			  "apply a Dockerfile instruction to the config (CMD, ENTRYPOINT, ENV, "
			  "EXPOSE, HEALTHCHECK, LABEL, ONBUILD, USER, VOLUME, WORKDIR); "
			  "repeatable" },
			{ "message", 'm', CLI_OPT_STRING, &arg_message, "MESSAGE",
			  "history comment (default: \"Imported from ROOTFS\")" },
			{ "platform", 0, CLI_OPT_STRING, &arg_platform, "PLATFORM",
			  "platform recorded in the config (default: this machine's)" },
			{ 0 },
		},
	.details = "ROOTFS is a directory or a tar file (plain, gzip, zstd, bzip2 or xz;\n"
		   "- reads stdin). The layer is stored gzip-compressed with OCI media types.\n"
		   "Prints the new image's id.",
};

int cmd_import(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	arg_message = arg_platform = NULL;
	kiln_strv_release(&arg_change);
	arg_change = (struct kiln_strv) KILN_STRV_INIT;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len < 1 || pos.len > 2)
		return cli_usage_error(&spec, "want a ROOTFS and an optional NAME");
	if (strcmp(pos.items[0], "-") == 0 && isatty(STDIN_FILENO))
		return cli_usage_error(&spec, "refusing to read a tar from a terminal");
	cleanup_free char *name = NULL;
	if (pos.len == 2) {
		cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
		if (kiln_ref_parse(pos.items[1], KILN_REF_DEFAULT_TAG_LATEST, &ref, &err) < 0) {
			(void)kiln_error_prefix(&err, -(int)err.code, "'%s'", pos.items[1]);
			return cli_report(env, &err);
		}
		if (ref->digest)
			return cli_usage_error(&spec, "'%s' has a digest; give a name and tag",
					       pos.items[1]);
		if (!(name = kiln_ref_string(ref)))
			return CLI_EXIT_FAIL;
	}
	struct kiln_oci_platform plat = { 0 };
	if (arg_platform && kiln_oci_platform_parse(arg_platform, &plat, &err) < 0)
		return cli_report(env, &err);
	/* the changes are checked before the root filesystem is read */
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *changed = NULL;
	if (arg_change.len &&
	    (kiln_oci_config_new(&changed, &err) < 0 ||
	     kiln_build_config_changes(changed, (const char *const *) arg_change.items,
				       arg_change.len, &err) < 0)) {
		kiln_oci_platform_release(&plat);
		kiln_strv_release(&arg_change);
		return cli_report(env, &err);
	}
	kiln_strv_release(&arg_change);
	struct kiln_store_import_opts opts = {
		.name = name,
		.created = -1,
		.comment = arg_message,
		.platform = arg_platform ? &plat : NULL,
		.config = changed ? &changed->config : NULL,
	};
	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	struct kiln_digest manifest;
	cleanup(kiln_store_image_freep) struct kiln_store_image *img = NULL;
	r = kiln_store_open(&env->ctx, env->root, 0, &st, &err);
	if (r == 0)
		r = kiln_store_import(st, pos.items[0], &opts, &manifest, &err);
	if (r == 0)
		r = kiln_store_image_get(st, &manifest, &img, &err);
	kiln_oci_platform_release(&plat);
	if (r < 0)
		return cli_report(env, &err);
	printf("%s\n", img->config.str);
	return CLI_EXIT_OK;
}
