/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BuildKit's build checks beyond the conformance cases: every rule firing
 * and staying silent, the configuration (directive, build arg, comments
 * above an instruction, experimental rules, error=true), build versus lint
 * reachability, the hooks, and the errors the checks report.
 */
#include <string.h>

#include "base/base.h"
#include "dockerfile/checks-internal.h"
#include "dockerfile/dockerfile.h"
#include "dockerfile/goconv.h"
#include "tap.h"

/* hooks: a reference is invalid when it has upper-case letters or ends in ':';
 * the ignore file excludes "secret*" and, with `all`, everything */
struct hud {
	int all;
};

static int ref_check(void *ud, const char *s, struct kiln_error *err)
{
	(void) ud;
	size_t n = strlen(s);
	int bad = n == 0 || s[n - 1] == ':';
	for (const char *p = s; *p; p++)
		bad |= *p >= 'A' && *p <= 'Z';
	return bad ? kiln_fail(err, KILN_EPARSE, 0, "invalid reference format") : 0;
}

static int ignore_matches(void *ud, const char *path, struct kiln_error *err)
{
	(void) err;
	struct hud *h = ud;
	return h->all || strncmp(path, "secret", 6) == 0;
}

static int image_config(void *ud, const char *ref, const struct kiln_df_platform *p,
			struct kiln_df_image_config *ret, struct kiln_error *err)
{
	static const char *const shell[] = { "/bin/bash", "-c" };
	static const char *const env[] = { "GOPATH=/go" };
	(void) ud;
	(void) p;
	(void) err;
	if (!strcmp(ref, "shelly")) {
		*ret = (struct kiln_df_image_config){ .shell = shell, .n_shell = 2 };
		return 1;
	}
	if (!strcmp(ref, "golang")) {
		*ret = (struct kiln_df_image_config){ .env = env, .n_env = 1 };
		return 1;
	}
	if (!strcmp(ref, "armonly")) {
		*ret = (struct kiln_df_image_config){ .os = "linux", .arch = "s390x" };
		return 1;
	}
	return 0;
}

struct check_case {
	const char *name;
	const char *df;
	const char *build_arg; /* one "K=V" or NULL */
	int lint_mode;
	const char *target;
	int ignore_all;
	const char *want;  /* "line Rule: message" lines joined with '\n', "" for none */
	const char *error; /* expected result error, or NULL */
};

static const struct check_case cases[] = {
	/* configuration */
	{ "the directive's value ends at a blank", "# check=skip= FromAsCasing\nFROM a as Base\n",
	  NULL, 0, NULL, 0,
	  "2 FromAsCasing: 'as' and 'FROM' keywords' casing do not match\n"
	  "2 StageNameCasing: Stage name 'Base' should be lowercase",
	  NULL },
	{ "skip list with blanks in the build arg", "FROM a as Base\n",
	  "BUILDKIT_DOCKERFILE_CHECK=skip= FromAsCasing , StageNameCasing", 0, NULL, 0, "", NULL },
	{ "unknown option", "# check=foo=bar\nFROM a\n", NULL, 0, NULL, 0, "",
	  "failed to parse check options: invalid check option \"foo\"" },
	{ "option without value", "# check=skip\nFROM a\n", NULL, 0, NULL, 0, "",
	  "failed to parse check options: invalid check option \"skip\"" },
	{ "bad error= value", "# check=error=maybe\nFROM a\n", NULL, 0, NULL, 0, "",
	  "failed to parse check options: failed to parse check option \"error=maybe\": "
	  "strconv.ParseBool: parsing \"maybe\": invalid syntax" },
	{ "bad build arg", "FROM a\n", "BUILDKIT_DOCKERFILE_CHECK=bad", 0, NULL, 0, "",
	  "failed to parse BUILDKIT_DOCKERFILE_CHECK: invalid check option \"bad\"" },
	{ "build arg replaces the directive", "# check=skip=all\nFROM a\nMAINTAINER x\n",
	  "BUILDKIT_DOCKERFILE_CHECK=error=false", 0, NULL, 0,
	  "3 MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label",
	  NULL },
	{ "error=true without warnings is no error", "# check=error=true\nFROM a\n", NULL, 0, NULL,
	  0, "", NULL },
	{ "error=true with a warning", "# check=error=true\nFROM a\nMAINTAINER x\n", NULL, 0, NULL,
	  0, "3 MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label",
	  "lint violation found for rules: MaintainerDeprecated" },
	{ "experimental rule off by default", "# foo\nARG bar\nFROM a\n", NULL, 0, NULL, 0, "",
	  NULL },
	{ "experimental=all", "# check=experimental=all\n# foo\nARG bar\nFROM a\n", NULL, 0, NULL,
	  0,
	  "3 InvalidDefinitionDescription: Comment for ARG should follow the format: `# bar "
	  "<description>`",
	  NULL },
	{ "skip=all does not silence an enabled experimental rule",
	  "# check=skip=all;experimental=InvalidDefinitionDescription\n# x\nFROM a AS b\n", NULL, 0,
	  NULL, 0,
	  "3 InvalidDefinitionDescription: Comment for FROM should follow the format: `# b "
	  "<description>`",
	  NULL },
	{ "comment above an instruction skips for it alone",
	  "FROM a\n# check=skip=MaintainerDeprecated\nMAINTAINER x\nMAINTAINER y\n", NULL, 0, NULL,
	  0, "4 MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label",
	  NULL },
	{ "comment above an instruction, trailing remark",
	  "FROM a\n# check=skip=all // why\nCMD x\n", NULL, 0, NULL, 0, "", NULL },
	{ "an empty # line cuts the comment off", "FROM a\n# check=skip=all\n#\nCMD x\n", NULL, 0,
	  NULL, 0,
	  "4 JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended "
	  "behavior related to OS signals",
	  NULL },
	/* parse-time rules */
	{ "FROM/AS casing, mixed-case FROM is left to casing",
	  "FROM a AS b\nfrom a AS c\nFrom a as d\nFROM a as e\n", NULL, 0, NULL, 0,
	  "2 FromAsCasing: 'AS' and 'from' keywords' casing do not match\n"
	  "2 ConsistentInstructionCasing: Command 'from' should match the case of the command "
	  "majority (uppercase)\n"
	  "3 ConsistentInstructionCasing: Command 'From' should match the case of the command "
	  "majority (uppercase)\n"
	  "4 FromAsCasing: 'as' and 'FROM' keywords' casing do not match",
	  NULL },
	{ "casing tie counts as upper-case", "FROM a\nrun x\n", NULL, 0, NULL, 0,
	  "2 ConsistentInstructionCasing: Command 'run' should match the case of the command "
	  "majority (uppercase)",
	  NULL },
	{ "lower-case majority", "from a\nrun x\nRUN y\nRun z\nrun w\n", NULL, 0, NULL, 0,
	  "3 ConsistentInstructionCasing: Command 'RUN' should match the case of the command "
	  "majority (lowercase)\n"
	  "4 ConsistentInstructionCasing: Command 'Run' should match the case of the command "
	  "majority (lowercase)",
	  NULL },
	{ "one case throughout", "from a\nrun x\n", NULL, 0, NULL, 0, "", NULL },
	{ "a reserved name used twice", "FROM a AS scratch\nFROM b AS scratch\n", NULL, 0, NULL, 0,
	  "1 ReservedStageName: Stage name should not use the same name as reserved stage "
	  "\"scratch\"\n"
	  "2 DuplicateStageName: Duplicate stage name \"scratch\", stage names should be unique\n"
	  "2 ReservedStageName: Stage name should not use the same name as reserved stage "
	  "\"scratch\"",
	  NULL },
	{ "reserved and duplicate names", "FROM a AS context\nFROM a AS x\nFROM a AS X\n", NULL, 0,
	  NULL, 0,
	  "1 ReservedStageName: Stage name should not use the same name as reserved stage "
	  "\"context\"\n"
	  "3 DuplicateStageName: Duplicate stage name \"x\", stage names should be unique\n"
	  "3 StageNameCasing: Stage name 'X' should be lowercase",
	  NULL },
	{ "warnings before a parse error are kept", "FROM a AS B\nCOPY --fro=x a b\n", NULL, 0,
	  NULL, 0, "1 StageNameCasing: Stage name 'B' should be lowercase",
	  "dockerfile parse error on line 2: unknown flag: --fro (did you mean from?)" },
	{ "the failing instruction's own node checks are kept", "FROM a\nMAINTAINER\n", NULL, 0,
	  NULL, 0,
	  "2 MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label",
	  "dockerfile parse error on line 2: MAINTAINER requires exactly one argument" },
	{ "a FROM that fails to type keeps its casing checks", "from a AS 1X\n", NULL, 0, NULL, 0,
	  "1 FromAsCasing: 'AS' and 'from' keywords' casing do not match\n"
	  "1 StageNameCasing: Stage name '1X' should be lowercase",
	  "dockerfile parse error on line 1: invalid name for build stage: \"1X\", name can't "
	  "start with a number or contain symbols" },
	/* FROM lines */
	{ "undeclared ARG in FROM with a suggestion", "ARG VERSION=1\nFROM a${VERSON}\n", NULL, 0,
	  NULL, 0,
	  "2 UndefinedArgInFrom: FROM argument 'VERSON' is not declared (did you mean VERSION?)",
	  NULL },
	{ "constant platform", "FROM --platform=linux/arm64 a AS x\n", NULL, 0, NULL, 0,
	  "1 FromPlatformFlagConstDisallowed: FROM --platform flag should not use constant value "
	  "\"linux/arm64\"",
	  NULL },
	{ "constant platform named in the stage", "FROM --platform=linux/arm64 a AS arm64-build\n",
	  NULL, 0, NULL, 0, "", NULL },
	{ "invalid default in FROM", "ARG TAG\nFROM a:${TAG}\n", "TAG=1", 0, NULL, 0,
	  "2 InvalidDefaultArgInFrom: Default value for ARG a:${TAG} results in empty or invalid "
	  "base image name",
	  NULL },
	{ "invalid base reference of an unneeded stage", "FROM Alpine AS x\nFROM a\n", NULL, 0,
	  NULL, 0,
	  "1 InvalidDefaultArgInFrom: Default value for ARG Alpine results in empty or invalid "
	  "base "
	  "image name",
	  "failed to parse stage name \"Alpine\": invalid reference format" },
	/* dispatch rules */
	{ "UndefinedVar in ENV, LABEL, ARG default and mount, not in RUN or CMD",
	  "FROM a\nENV AAAA=$BBBB\nLABEL l=$CCCC\nARG DDDD=$EEEE\n"
	  "RUN --mount=type=cache,target=/x$FFFF echo $GGGG\nCMD $HHHH\n",
	  NULL, 0, NULL, 0,
	  "2 UndefinedVar: Usage of undefined variable '$BBBB'\n"
	  "3 UndefinedVar: Usage of undefined variable '$CCCC'\n"
	  "4 UndefinedVar: Usage of undefined variable '$EEEE'\n"
	  "5 UndefinedVar: Usage of undefined variable '$FFFF'\n"
	  "6 JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended "
	  "behavior "
	  "related to OS signals",
	  NULL },
	{ "declared ARG without value is not undefined", "FROM a\nARG X\nCOPY $X .\n", NULL, 0,
	  NULL, 0, "", NULL },
	{ "base image variables are defined", "FROM golang\nENV P=$GOPATH/bin\n", NULL, 0, NULL, 0,
	  "", NULL },
	{ "a variable used twice is reported once", "FROM a\nCOPY $X $X/ /\n", NULL, 0, NULL, 0,
	  "2 UndefinedVar: Usage of undefined variable '$X'", NULL },
	{ "secrets", "FROM a\nARG DB_PASSWORD\nENV PUBLIC_TOKEN=1 ApiKey=2 MONKEY=3 tokens=4\n",
	  NULL, 0, NULL, 0,
	  "2 SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ARG "
	  "\"DB_PASSWORD\")\n"
	  "3 SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ENV "
	  "\"ApiKey\")",
	  NULL },
	{ "secrets: folded first letters, empty and inner words",
	  "FROM a\nENV \xc5\xbf" "ecret=1 \xe2\x84\xaa" "EY=2 X_TOKEN_Y=3 _=4 A__B=5 "
	  "\xc3\xa9token=6 xToken=7\nARG ssh_git_key\n",
	  NULL, 0, NULL, 0,
	  "2 SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ENV "
	  "\"X_TOKEN_Y\")\n"
	  "2 SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ENV "
	  "\"\xc5\xbf" "ecret\")\n"
	  "2 SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ENV "
	  "\"\xe2\x84\xaa" "EY\")\n"
	  "3 SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ARG "
	  "\"ssh_git_key\")",
	  NULL },
	{ "SHELL silences JSONArgsRecommended, also from the base image",
	  "FROM shelly\nCMD x\nFROM a\nSHELL [\"/bin/sh\", \"-c\"]\nENTRYPOINT y\n", NULL, 1, NULL,
	  0, "", NULL },
	{ "multiple CMDs per stage only",
	  "FROM a AS b\nCMD [\"x\"]\nFROM b\nCMD [\"y\"]\nCMD [\"z\"]\n", NULL, 0, NULL, 0,
	  "4 MultipleInstructionsDisallowed: Multiple CMD instructions should not be used in the "
	  "same stage because only the last one will be used",
	  NULL },
	{ "relative WORKDIR once per stage chain",
	  "FROM a AS b\nWORKDIR x\nWORKDIR y\nFROM b\nWORKDIR z\n", NULL, 0, NULL, 0,
	  "2 WorkdirRelativePath: Relative workdir \"x\" can have unexpected results if the base "
	  "image changes",
	  NULL },
	{ "EXPOSE formats", "FROM a\nEXPOSE 80/TCP 1.2.3.4:8080:80 90/udp\n", NULL, 0, NULL, 0,
	  "2 ExposeProtoCasing: Defined protocol '80/TCP' in EXPOSE instruction should be "
	  "lowercase\n"
	  "2 ExposeInvalidFormat: EXPOSE instruction should not define an IP address or host-port "
	  "mapping, found '1.2.3.4:8080:80'",
	  NULL },
	{ "legacy key/value", "FROM a\nENV K v\nLABEL k=v\n", NULL, 0, NULL, 0,
	  "2 LegacyKeyValueFormat: \"ENV key=value\" should be used instead of legacy \"ENV key "
	  "value\" format",
	  NULL },
	{ "ignored COPY and ADD sources", "FROM a\nCOPY secret.txt ok.txt /\nADD secrets/ /s\n",
	  NULL, 0, NULL, 0,
	  "2 CopyIgnoredFile: Attempting to Copy file \"secret.txt\" that is excluded by "
	  ".dockerignore\n"
	  "3 CopyIgnoredFile: Attempting to Add file \"secrets/\" that is excluded by "
	  ".dockerignore",
	  NULL },
	{ "COPY --from does not read the context", "FROM a AS b\nFROM a\nCOPY --from=b secret /\n",
	  NULL, 0, NULL, 0, "", NULL },
	{ "context root when everything is ignored", "FROM a\nCOPY . /\nCOPY ./ /x\n", NULL, 0,
	  NULL, 1,
	  "2 CopyIgnoredFile: Attempting to Copy file \".\" that is excluded by .dockerignore\n"
	  "3 CopyIgnoredFile: Attempting to Copy file \"./\" that is excluded by .dockerignore",
	  NULL },
	{ "base image for another platform", "FROM armonly\n", NULL, 0, NULL, 0, "@platform",
	  NULL },
	/* reachability */
	{ "build: only the target's stages", "FROM a AS x\nENV K v\nFROM a AS y\nENV L=$U\n", NULL,
	  0, "x", 0,
	  "2 LegacyKeyValueFormat: \"ENV key=value\" should be used instead of legacy \"ENV key "
	  "value\" format",
	  NULL },
	{ "lint: every stage", "FROM a AS x\nENV K v\nFROM a AS y\nENV L=$U\n", NULL, 1, NULL, 0,
	  "2 LegacyKeyValueFormat: \"ENV key=value\" should be used instead of legacy \"ENV key "
	  "value\" format\n"
	  "4 UndefinedVar: Usage of undefined variable '$U'",
	  NULL },
	{ "lint with a target: that target's stages",
	  "FROM a AS x\nENV K v\nFROM a AS y\nENV L=$U\n", NULL, 1, "y", 0,
	  "4 UndefinedVar: Usage of undefined variable '$U'", NULL },
	{ "FROM-line checks cover unneeded stages", "FROM a$X AS x\nFROM a\n", NULL, 0, NULL, 0,
	  "1 UndefinedArgInFrom: FROM argument 'X' is not declared", NULL },
};

static int render(const struct kiln_df_check_result *r, struct kiln_buf *out)
{
	for (size_t i = 0; i < r->n_warnings; i++) {
		const struct kiln_df_check_warning *w = &r->warnings[i];
		if (kiln_buf_addf(out, "%s%d %s: %s", i ? "\n" : "", w->line, w->rule->name,
				  w->message) < 0)
			return -1;
	}
	return 0;
}

static void test_cases(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		const struct check_case *c = &cases[i];
		struct hud h = { .all = c->ignore_all };
		struct kiln_df_hooks hooks = { .userdata = &h,
					       .reference_check = ref_check,
					       .ignore_matches = ignore_matches,
					       .image_config = image_config };
		const char *args[1] = { c->build_arg };
		struct kiln_df_platform amd64;
		if (kiln_df_platform_parse("linux/amd64", &amd64, NULL) < 0)
			return;
		struct kiln_df_check_opts o = {
			.mode = c->lint_mode ? KILN_DF_CHECK_LINT : KILN_DF_CHECK_BUILD,
			.target = c->target,
			.build_args = args,
			.n_build_args = c->build_arg ? 1 : 0,
			.hooks = &hooks,
			.target_platform = &amd64,
		};
		struct kiln_df_check_result *res = NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_df_check(c->df, strlen(c->df), "Dockerfile", &o, &res, &err);
		struct kiln_buf got = KILN_BUF_INIT;
		if (r == 0 && render(res, &got) < 0)
			r = -1;
		if (!strcmp(c->want, "@platform"))
			TAP_OK(r == 0 && res->n_warnings == 1 &&
				       !strcmp(res->warnings[0].rule->name,
					       "InvalidBaseImagePlatform") &&
				       !strcmp(res->warnings[0].message,
					       "Base image armonly was pulled with platform "
					       "\"linux/s390x\", expected \"linux/amd64\" for "
					       "current "
					       "build") &&
				       !res->warnings[0].rule->url,
			       "%s: %s", c->name, got.buf);
		else
			TAP_STR_EQ(r == 0 ? got.buf : "(failed)", c->want, "%s", c->name);
		const char *e = r == 0 ? res->error : NULL;
		if (c->error)
			TAP_STR_EQ(e ? e : "(no error)", c->error, "%s: error", c->name);
		else
			TAP_OK(!e, "%s: no error (%s)", c->name, e ? e : "");
		/* the same with the build args and platforms made once (kiln lint's batches) */
		struct kiln_df_graph_opts go = { .build_args = o.build_args,
						 .n_build_args = o.n_build_args,
						 .target_platform = o.target_platform };
		struct kiln_df_graph_defaults *d = NULL;
		struct kiln_df_check_result *res2 = NULL;
		struct kiln_buf got2 = KILN_BUF_INIT;
		o.defaults = NULL;
		int r2 = kiln_df_graph_defaults_new(&go, &d, NULL);
		if (r2 == 0) {
			o.defaults = d;
			r2 = kiln_df_check(c->df, strlen(c->df), "Dockerfile", &o, &res2, NULL);
		}
		if (r2 == 0 && render(res2, &got2) < 0)
			r2 = -1;
		const char *e2 = r2 == 0 ? res2->error : NULL;
		TAP_OK(r2 == r && !strcmp(got2.buf, r == 0 ? got.buf : "") &&
			       !strcmp(e2 ? e2 : "", e ? e : ""),
		       "%s: the same with shared defaults", c->name);
		kiln_buf_release(&got2);
		kiln_df_check_result_free(res2);
		kiln_df_graph_defaults_free(d);
		kiln_buf_release(&got);
		kiln_error_release(&err);
		kiln_df_check_result_free(res);
		kiln_df_platform_release(&amd64);
	}
}

static void test_misc(void)
{
	struct kiln_df_check_result *res = NULL;
	const char *df = "FROM a\nRUN <<EOF\nnever ends\n";
	int r = kiln_df_check(df, strlen(df), "Dockerfile", NULL, &res, NULL);
	TAP_OK(r == 0 && res->error && res->n_warnings == 0,
	       "a parse error is the result's error: %s", res && res->error ? res->error : "");
	kiln_df_check_result_free(res);

	df = "FROM a\nCOPY Dockerfile \\\n\n.\n";
	r = kiln_df_check(df, strlen(df), "Dockerfile", NULL, &res, NULL);
	TAP_OK(r == 0 && res->n_warnings == 1 && res->warnings[0].line == 4 &&
		       !strcmp(res->warnings[0].rule->name, "NoEmptyContinuation"),
	       "empty continuation lines, at the instruction's last line");
	char *s = r == 0 && res->n_warnings ? kiln_df_check_format_short(&res->warnings[0]) : NULL;
	TAP_STR_EQ(s, "NoEmptyContinuation: Empty continuation line (line 4)",
		   "BuildKit's short form");
	free(s);
	kiln_df_check_result_free(res);

	df = "FROM a AS B\n";
	struct kiln_df_ast *ast = NULL;
	r = kiln_df_parse(df, strlen(df), "Dockerfile", &ast, NULL);
	r = r == 0 ? kiln_df_check_ast(ast, NULL, &res, NULL) : r;
	TAP_OK(r == 0 && res->n_warnings == 1 && res->warnings[0].line == 1,
	       "checks over a parsed AST, without hooks");
	kiln_df_check_result_free(res);
	kiln_df_ast_free(ast);

	size_t n;
	const struct kiln_df_check_rule *rules = kiln_df_check_rules(&n);
	int urls = 0, experimental = 0;
	for (size_t i = 0; i < n; i++) {
		urls += rules[i].url != NULL;
		experimental += rules[i].experimental;
	}
	TAP_INT_EQ((long) n, 22, "22 rules");
	TAP_INT_EQ(urls, 21, "21 have a documentation URL");
	TAP_INT_EQ(experimental, 1, "one is experimental");
}

/* Allocation failures (in a -Dfailmalloc=true build): -KILN_ENOMEM, never a crash. */
static void test_failmalloc(void)
{
#ifdef KILN_FAILMALLOC
	static const char df[] =
		"# check=skip=FromAsCasing;experimental=all\n# foo\nARG bar\n"
		"FROM a AS Base\nENV K v\nMAINTAINER m\nCOPY secret x \\\n\n /\n"
		"# check=skip=all\nENV PASSWORD=$U\nEXPOSE 80/TCP 1:2\nCMD x\nCMD y\n"
		"WORKDIR rel\nENV DIR_ASSETS=a\nCOPY $DIR_ASSET .\nfrom b\n";
	struct hud h = { 0 };
	struct kiln_df_hooks hooks = { .userdata = &h,
				       .reference_check = ref_check,
				       .ignore_matches = ignore_matches,
				       .image_config = image_config };
	struct kiln_df_check_opts o = { .mode = KILN_DF_CHECK_LINT, .hooks = &hooks };
	struct kiln_df_check_result *ref = NULL;
	if (kiln_df_check(df, sizeof(df) - 1, "Dockerfile", &o, &ref, NULL) < 0)
		return;
	size_t want = ref->n_warnings;
	struct kiln_buf want_text = KILN_BUF_INIT;
	TAP_OK(want >= 9 && !ref->error && render(ref, &want_text) == 0,
	       "the reference run has its warnings (%zu)", want);
	kiln_df_check_result_free(ref);
	int failures = 0, oks = 0, bad = 0;
	for (long n = 0; n < 100000; n++) {
		struct kiln_df_check_result *res = NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		kiln_alloc_fail_after(n);
		int r = kiln_df_check(df, sizeof(df) - 1, "Dockerfile", &o, &res, &err);
		kiln_alloc_fail_after(-1);
		struct kiln_buf text = KILN_BUF_INIT;
		int complete = r == 0 && res->n_warnings == want && !res->error &&
			       render(res, &text) == 0 && !strcmp(text.buf, want_text.buf);
		kiln_buf_release(&text);
		kiln_df_check_result_free(res);
		if (complete) {
			oks++;
			break;
		}
		/* success must be the whole result: no allocation failure is swallowed */
		bad += r == 0 || r != -KILN_ENOMEM || err.code != KILN_ENOMEM;
		failures++;
		kiln_error_release(&err);
	}
	kiln_buf_release(&want_text);
	TAP_INT_EQ(bad, 0, "failed allocations give -KILN_ENOMEM (%d tried)", failures);
	TAP_INT_EQ(oks, 1, "the checks complete once allocations do");
#else
	tap_skip("not a -Dfailmalloc=true build", "allocation failures");
#endif
}

/* df_lint_run's messages: %s-only formats copied, others through printf */
static void test_format(void)
{
	static const struct {
		const char *fmt, *a, *b, *want;
	} cases[] = {
		{ "plain", "x", "y", "plain" },
		{ "'%s' and '%s'", "x", "y", "'x' and 'y'" },
		{ "%s", "", "y", "" },
		{ "100%% of %s%%", "x", "y", "100% of x%" },
		{ "%s", NULL, "y", "(null)" },
		{ "%.1s|%s", "xyz", "y", "x|y" },
		{ "%5s", "x", "y", "    x" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct kiln_buf b = KILN_BUF_INIT;
		int r = df_lint_format(&b, cases[i].fmt, cases[i].a, cases[i].b);
		TAP_OK(r >= 0 && !strcmp(b.buf, cases[i].want), "format %s", cases[i].fmt);
		kiln_buf_release(&b);
	}
	struct kiln_buf b = KILN_BUF_INIT;
	int r = df_lint_format(&b, "line %d: %s", 12, "x");
	TAP_OK(r >= 0 && !strcmp(b.buf, "line 12: x"), "a format with %%d goes through printf");
	kiln_buf_release(&b);
}

/* Edit distances in runes: short ASCII on the stack, long or UTF-8 strings through runes. */
static void test_levenshtein(void)
{
	char l1[80], l2[80];
	memset(l1, 'a', 70);
	l1[70] = 0;
	memcpy(l2, l1, 71);
	l2[3] = 'b';
	l2[69] = 0;
	static const struct {
		const char *a, *b;
		size_t want;
	} cases[] = {
		{ "", "", 0 },
		{ "", "abc", 3 },
		{ "abc", "", 3 },
		{ "kitten", "sitting", 3 },
		{ "BUILDPLATFORM", "BUILDPLATFROM", 2 },
		{ "café", "cafe", 1 },
		{ "naïve", "naive", 1 },
		{ "日本", "日本語", 1 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++)
		TAP_OK(df_levenshtein(cases[i].a, cases[i].b) == cases[i].want,
		       "levenshtein(%s, %s) = %zu", cases[i].a, cases[i].b, cases[i].want);
	/* 70 and 69 bytes: past the stack rows, the same answer through runes */
	TAP_OK(df_levenshtein(l1, l2) == 2, "levenshtein of strings past the stack rows");
	TAP_OK(df_levenshtein(l2, "ab") == 67, "levenshtein of a long and a short string");
}

int main(void)
{
	test_levenshtein();
	test_failmalloc();
	test_cases();
	test_misc();
	test_format();
	return tap_done();
}
