/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hadolint's other report formats, for the CI systems that read them:
 *
 *   gnu          "kiln:FILE:LINE: RULE SEVERITY: MESSAGE", a line each, as the
 *                GNU coding standards write errors (editors jump to them);
 *   codacy       a JSON object a line: filename, line, message, patternId;
 *   sonarqube    SonarQube's generic issue import: {"issues": [...]}, with
 *                its severities and types;
 *   codeclimate  Code Climate's engine output: one JSON issue after another,
 *                each ended by a NUL byte (GitLab's Code Quality report, a
 *                JSON array with fingerprints, is gitlab_codeclimate).
 *
 * Field names and severity words are hadolint's formatters' (Gnu.hs,
 * Codacy.hs, SonarQube.hs, Codeclimate.hs), so that a CI job reading
 * hadolint's keeps working.
 */
#include <stdio.h>
#include <string.h>

#include "analyze/lint.h"
#include "lint-format.h"
#include "lint-json.h"

static int line_of(const struct kiln_lint_finding *f)
{
	return f->line > 0 ? f->line : 1;
}

static const char *severity_word(enum kiln_lint_severity s)
{
	return kiln_lint_severity_name(s);
}

int lint_render_gnu(const struct kiln_lint_report *const *reps, size_t n, struct kiln_buf *out)
{
	for (size_t r = 0; r < n; r++)
		for (size_t i = 0; i < reps[r]->n_findings; i++) {
			const struct kiln_lint_finding *f = &reps[r]->findings[i];
			if (kiln_buf_addf(out, "kiln:%s:%d: %s %s: %s\n", reps[r]->file, line_of(f),
					  f->rule, severity_word(f->severity), f->message) < 0)
				return -KILN_ENOMEM;
		}
	return 0;
}

/* `"key":` then the value, compact (the one-line formats) */
static int key_str(struct kiln_buf *b, const char *sep, const char *key, const char *v)
{
	if (kiln_buf_addf(b, "%s\"%s\":", sep, key) < 0)
		return -KILN_ENOMEM;
	return lint_json_add_str(b, v);
}

static int key_int(struct kiln_buf *b, const char *sep, const char *key, long long v)
{
	return kiln_buf_addf(b, "%s\"%s\":%lld", sep, key, v) < 0 ? -KILN_ENOMEM : 0;
}

int lint_render_codacy(const struct kiln_lint_report *const *reps, size_t n, struct kiln_buf *out)
{
	for (size_t r = 0; r < n; r++)
		for (size_t i = 0; i < reps[r]->n_findings; i++) {
			const struct kiln_lint_finding *f = &reps[r]->findings[i];
			int rc = key_str(out, "{", "filename", reps[r]->file);
			if (rc >= 0)
				rc = key_int(out, ",", "line", line_of(f));
			if (rc >= 0)
				rc = key_str(out, ",", "message", f->message);
			if (rc >= 0)
				rc = key_str(out, ",", "patternId", f->rule);
			if (rc >= 0 && kiln_buf_addstr(out, "}\n") < 0)
				rc = -KILN_ENOMEM;
			if (rc < 0)
				return rc;
		}
	return 0;
}

int lint_render_sonarqube(const struct kiln_lint_report *const *reps, size_t n,
			  struct kiln_buf *out)
{
	/* SonarQube's words: an error is a CRITICAL bug, the rest code smells */
	static const char *const sev[] = { "CRITICAL", "MAJOR", "MINOR", "INFO" };
	struct lint_json j;
	lint_json_begin(&j, out);
	lint_json_open(&j, NULL, '{');
	lint_json_open(&j, "issues", '[');
	for (size_t r = 0; r < n; r++)
		for (size_t i = 0; i < reps[r]->n_findings; i++) {
			const struct kiln_lint_finding *f = &reps[r]->findings[i];
			int col = f->col > 0 ? f->col - 1 : 0; /* SonarQube counts from 0 */
			lint_json_open(&j, NULL, '{');
			lint_json_str(&j, "engineId", "kiln");
			lint_json_str(&j, "ruleId", f->rule);
			lint_json_str(&j, "severity", sev[f->severity < 4 ? f->severity : 3]);
			lint_json_str(&j, "type",
				      f->severity == KILN_LINT_ERROR ? "BUG" : "CODE_SMELL");
			lint_json_open(&j, "primaryLocation", '{');
			lint_json_str(&j, "message", f->message);
			lint_json_str(&j, "filePath", reps[r]->file);
			lint_json_open(&j, "textRange", '{');
			lint_json_int(&j, "startLine", line_of(f));
			lint_json_int(&j, "endLine", line_of(f));
			lint_json_int(&j, "startColumn", col);
			lint_json_int(&j, "endColumn", col + 1);
			lint_json_close(&j, '{');
			lint_json_close(&j, '{');
			lint_json_close(&j, '{');
		}
	lint_json_close(&j, '[');
	lint_json_close(&j, '{');
	int rc = lint_json_end(&j);
	if (rc >= 0 && kiln_buf_addch(out, '\n') < 0)
		rc = -KILN_ENOMEM;
	return rc;
}

int lint_render_codeclimate_engine(const struct kiln_lint_report *const *reps, size_t n,
				   struct kiln_buf *out)
{
	static const char *const sev[] = { "blocker", "major", "info", "minor" };
	for (size_t r = 0; r < n; r++)
		for (size_t i = 0; i < reps[r]->n_findings; i++) {
			const struct kiln_lint_finding *f = &reps[r]->findings[i];
			int rc = kiln_buf_addstr(out, "{\"type\":\"issue\"") < 0 ? -KILN_ENOMEM : 0;
			if (rc >= 0)
				rc = key_str(out, ",", "check_name", f->rule);
			if (rc >= 0)
				rc = key_str(out, ",", "description", f->message);
			if (rc >= 0 && kiln_buf_addf(out, ",\"categories\":[\"%s\"]",
						     lint_codeclimate_category(f)) < 0)
				rc = -KILN_ENOMEM;
			if (rc >= 0)
				rc = key_str(out, ",\"location\":{", "path", reps[r]->file);
			if (rc >= 0 && kiln_buf_addf(out, ",\"lines\":{\"begin\":%d,\"end\":%d}}",
						     line_of(f),
						     f->end_line > line_of(f) ? f->end_line
									      : line_of(f)) < 0)
				rc = -KILN_ENOMEM;
			if (rc >= 0)
				rc = key_str(out, ",", "severity", sev[f->severity < 4 ? f->severity : 3]);
			/* the engine spec ends each issue with a NUL byte */
			if (rc >= 0 && (kiln_buf_addch(out, '}') < 0 || kiln_buf_addch(out, '\0') < 0))
				rc = -KILN_ENOMEM;
			if (rc < 0)
				return rc;
		}
	return 0;
}
