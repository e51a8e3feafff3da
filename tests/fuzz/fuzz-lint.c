/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln lint on arbitrary bytes: every rule, pragmas and all output formats
 * (no context, no shellcheck). The first byte picks a configuration with
 * label schema and strict labels so that the label rules run too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/lint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	struct kiln_lint_config cfg;
	kiln_lint_config_init(&cfg);
	if (size && (data[0] & 1)) {
		static const char y[] = "label-schema:\n  maintainer: email\n  created: rfc3339\n"
					"  version: semver\n  license: spdx\n  rev: hash\n  url: url\n"
					"strict-labels: true\ntrustedRegistries: [docker.io]\n"
					"override:\n  info: [DL3057, DL1001]\n";
		if (kiln_lint_config_load_yaml(&cfg, y, sizeof(y) - 1, "fuzz.yaml", NULL, NULL) < 0)
			__builtin_trap();
	}
	struct kiln_lint_opts o = { .config = &cfg };
	struct kiln_lint_report *rep = NULL;
	if (kiln_lint_run((const char *)data, size, "Dockerfile", &o, &rep, NULL) == 0) {
		const struct kiln_lint_report *rv[] = { rep };
		for (int fmt = KILN_LINT_FORMAT_TTY; fmt <= KILN_LINT_FORMAT_CODECLIMATE; fmt++) {
			struct kiln_buf out = KILN_BUF_INIT;
			if (kiln_lint_render(rv, 1, (enum kiln_lint_format)fmt, KILN_LINT_RENDER_COLOR,
					     "0", &out, NULL) == 0 && !out.buf)
				__builtin_trap();
			kiln_buf_release(&out);
		}
		for (size_t i = 0; i < rep->n_findings; i++)
			if (!rep->findings[i].rule || !rep->findings[i].message || rep->findings[i].col < 1)
				__builtin_trap();
		kiln_lint_report_free(rep);
	}
	/* the configuration parser on the same bytes */
	struct kiln_lint_config c2;
	kiln_lint_config_init(&c2);
	char *fmt = NULL;
	if (kiln_lint_config_load_yaml(&c2, (const char *)data, size, "fuzz.yaml", &fmt, NULL) == 0 &&
	    c2.n_labels && !c2.labels)
		__builtin_trap();
	free(fmt);
	kiln_lint_config_release(&c2);
	kiln_lint_config_release(&cfg);
	return 0;
}
