/* SPDX-License-Identifier: Apache-2.0 */
#include <archive.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <zstd.h>

#include "cli.h"

static const struct cli_spec spec = {
	.usage = "kiln version",
	.summary = "Print kiln's version and the versions of the libraries it uses.",
	.opts = (const struct cli_opt[]){ { 0 } },
};

int cmd_version(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len)
		return cli_usage_error(&spec, "unexpected argument '%s'", pos.items[0]);
	(void)env;
	printf("kiln %s\n", KILN_VERSION);
	printf("  %s, %s, jansson %s, sqlite %s, zstd %s, %s\n", archive_version_string(),
	       curl_version(), JANSSON_VERSION, sqlite3_libversion(), ZSTD_versionString(),
	       OpenSSL_version(OPENSSL_VERSION));
	return CLI_EXIT_OK;
}
