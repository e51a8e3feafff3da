/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "cli.h"
#include "ref/ref.h"
#include "store/store.h"

static const struct cli_spec spec = {
	.usage = "kiln tag SOURCE TARGET",
	.summary = "Give an image another name.",
	.opts = (const struct cli_opt[]){ { 0 } },
	.details = "SOURCE is a name, an image id (or a prefix of one) or a digest; TARGET\n"
		   "a name, normalized as docker does (busybox -> docker.io/library/busybox:latest).\n"
		   "A TARGET that already names another image is moved.",
};

int cmd_tag(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len != 2)
		return cli_usage_error(&spec, "want a SOURCE image and a TARGET name");
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	if (kiln_ref_parse(pos.items[1], KILN_REF_DEFAULT_TAG_LATEST, &ref, &err) < 0) {
		if (err.code == KILN_ENOMEM)
			return cli_report(env, &err);
		int rc = cli_usage_error(&spec, "target '%s': %s", pos.items[1], err.msg);
		kiln_error_release(&err);
		return rc;
	}
	if (ref->digest)
		return cli_usage_error(&spec, "target '%s' has a digest; a tag names an image",
				       pos.items[1]);
	cleanup_free char *name = kiln_ref_string(ref);
	if (!name)
		return cli_report(env, &err);

	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	struct kiln_digest manifest;
	if (kiln_store_open(&env->ctx, env->root, KILN_STORE_NO_GC_LOCK, &st, &err) < 0 ||
	    kiln_store_resolve(st, pos.items[0], &manifest, &err) < 0 ||
	    kiln_store_tag(st, &manifest, name, &err) < 0)
		return cli_report(env, &err);
	return CLI_EXIT_OK;
}
