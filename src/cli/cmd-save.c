/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "base/output.h"
#include "ref/ref.h"
#include "store/store.h"

static const char *arg_output;
static const char *arg_format;

static const struct cli_spec spec = {
	.usage = "kiln save [-o FILE] [--format docker-archive|oci-archive|oci] IMAGE...",
	.summary = "Write images to a tar archive.",
	.opts =
		(const struct cli_opt[]){
			{ "output", 'o', CLI_OPT_STRING, &arg_output, "FILE",
			  "write to FILE (default: stdout, unless it is a terminal)" },
			{ "format", 0, CLI_OPT_STRING, &arg_format, "FORMAT",
			  "docker-archive (the default; docker load and podman load read it), "
			  "oci-archive, or oci (an OCI layout directory, added to if it exists)" },
			{ 0 },
		},
	.details = "An image given by name is saved under that name; one given by id or\n"
		   "digest is saved without a name. An archive file appears only when\n"
		   "complete; a layout's index.json is replaced last. Layouts and\n"
		   "oci-archives use OCI media types (docker manifests are rewritten, as\n"
		   "skopeo does) and name images by their tag in\n"
		   "org.opencontainers.image.ref.name (skopeo copy oci:DIR:TAG reads it).",
};

/* The name to save an image under: the argument when it names one. */
static char *name_of(struct kiln_store *st, const char *arg)
{
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	if (kiln_ref_parse(arg, KILN_REF_DEFAULT_TAG_LATEST, &ref, NULL) < 0 || ref->digest)
		return NULL;
	char *name = kiln_ref_string(ref);
	struct kiln_digest d;
	if (name && kiln_store_name_get(st, name, &d, NULL) == 0)
		return name;
	free(name);
	return NULL;
}

int cmd_save(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv names = KILN_STRV_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	arg_output = arg_format = NULL;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len == 0)
		return cli_usage_error(&spec, "name at least one image");
	enum kiln_archive_format format = KILN_ARCHIVE_DOCKER;
	int layout = arg_format && strcmp(arg_format, "oci") == 0;
	if (arg_format && strcmp(arg_format, "oci-archive") == 0)
		format = KILN_ARCHIVE_OCI;
	else if (arg_format && !layout && strcmp(arg_format, "docker-archive") != 0)
		return cli_usage_error(&spec, "unknown format '%s'", arg_format);
	if (layout && (!arg_output || strcmp(arg_output, "-") == 0))
		return cli_usage_error(&spec, "--format oci writes a directory: give -o DIR");
	if ((!arg_output || strcmp(arg_output, "-") == 0) && env->stdout_tty)
		return cli_usage_error(&spec,
				       "refusing to write an archive to a terminal; use -o FILE");

	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	if (kiln_store_open(&env->ctx, env->root, 0, &st, &err) < 0)
		return cli_report(env, &err);
	cleanup_free struct kiln_store_save_item *items = kiln_calloc(pos.len, sizeof(*items));
	if (!items)
		return CLI_EXIT_FAIL;
	for (size_t i = 0; i < pos.len; i++) {
		if (kiln_store_resolve(st, pos.items[i], &items[i].manifest, &err) < 0)
			return cli_report(env, &err);
		char *name = name_of(st, pos.items[i]);
		if (name && kiln_strv_push_owned(&names, name) < 0)
			return CLI_EXIT_FAIL;
		items[i].name = name ? names.items[names.len - 1] : NULL;
	}

	if (layout) {
		if (kiln_store_layout_write(st, arg_output, items, pos.len, &err) < 0)
			return cli_report(env, &err);
		return CLI_EXIT_OK;
	}
	if (!arg_output || strcmp(arg_output, "-") == 0) {
		if (kiln_store_save(st, items, pos.len, format, STDOUT_FILENO, &err) < 0)
			return cli_report(env, &err);
		return CLI_EXIT_OK;
	}
	/* a temp file beside the target, renamed once complete (a device or a
	 * fifo is written in place) */
	struct kiln_output_file f;
	if (kiln_output_open(arg_output, 0644, &f, &err) < 0)
		return cli_report(env, &err);
	r = kiln_store_save(st, items, pos.len, format, f.fd, &err);
	if (r < 0)
		r = kiln_error_prefix(&err, r, "writing %s", arg_output);
	if (r == 0)
		r = kiln_output_commit(&f, &err);
	kiln_output_abort(&f);
	return r < 0 ? cli_report(env, &err) : CLI_EXIT_OK;
}
