/* SPDX-License-Identifier: Apache-2.0 */
#include <archive.h>
#include <jansson.h>
#include <nettle/version.h>
#include <openssl/opensslv.h>
#include <sqlite3.h>
#include <stdio.h>
#include <zstd.h>

#include "cli.h"
#include "http/http.h"

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
	/*
	 * libcurl is not linked: kiln loads it the first time a command needs
	 * HTTP (http/http.h). This command loads it on purpose, to name the one
	 * kiln would use, and says why when it cannot.
	 */
	const struct kiln_http_curl *curl = NULL;
	struct kiln_error e = KILN_ERROR_INIT;
	cleanup_free char *curl_str = NULL;
	if (kiln_http_load(&curl, &e) < 0) {
		curl_str = kiln_asprintf("libcurl: not loaded (%s)", e.msg ? e.msg : "?");
		kiln_error_release(&e);
	} else {
		curl_str = kiln_strdup(curl->version());
	}
	printf("kiln %s\n", KILN_VERSION);
	printf("  %s, %s, jansson %s, sqlite %s, zstd %s, nettle %d.%d, OpenSSL %s (SHA-256)\n",
	       archive_version_string(), curl_str ? curl_str : "libcurl: ?", JANSSON_VERSION,
	       sqlite3_libversion(), ZSTD_versionString(), nettle_version_major(),
	       nettle_version_minor(), OPENSSL_FULL_VERSION_STR);
	return CLI_EXIT_OK;
}
