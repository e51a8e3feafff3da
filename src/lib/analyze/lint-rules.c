/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "analyze/lint.h"
#include "base/error.h"

#define HW(code) "https://github.com/hadolint/hadolint/wiki/" code
#define BK(slug) "https://docs.docker.com/go/dockerfile/rule/" slug "/"
#define E KILN_LINT_ERROR
#define W KILN_LINT_WARNING
#define I KILN_LINT_INFO
#define S KILN_LINT_STYLE
#define N KILN_LINT_IGNORE
/* with the lengths of code and hint (literals), which the tty output would measure */
#define LENS(code, hint) sizeof(code) - 1, sizeof(hint) - 1
#define DL(code, sev, summary, hint) \
	{ code, KILN_LINT_HADOLINT, sev, summary, hint, HW(code), LENS(code, hint) }
#define BKR(name, slug, summary, hint) \
	{ name, KILN_LINT_BUILDKIT, W, summary, hint, BK(slug), LENS(name, hint) }
#define KL(code, sev, summary, hint) \
	{ code, KILN_LINT_KILN, sev, summary, hint, NULL, LENS(code, hint) }

/* Sorted by family, then code (strcmp): kiln_lint_rule_find() searches it by halves. */
static const struct kiln_lint_rule_info rules[] = {
	DL("DL1001", N, "an inline `# hadolint ignore=` pragma is used",
	   "fix the finding instead, or ignore the rule in the configuration file"),
	DL("DL3000", E, "WORKDIR is a relative path", "give WORKDIR an absolute path such as /app"),
	DL("DL3001", I, "RUN calls a tool that makes no sense during a build (ssh, vim, service, ps, top, kill, mount, ...)",
	   "remove the call; a build step has no services, terminals or other processes to manage"),
	DL("DL3002", W, "the last USER of a stage is root",
	   "switch to an unprivileged user with USER after the steps that need root"),
	DL("DL3003", W, "RUN uses cd to change directory", "use WORKDIR, which also holds for later instructions"),
	DL("DL3004", E, "RUN uses sudo", "drop sudo (builds run as root unless USER says otherwise); use gosu or su-exec in entrypoints"),
	DL("DL3006", W, "the base image has no tag", "name a tag (or digest): FROM debian:12-slim"),
	DL("DL3007", W, "the base image uses the tag latest", "pin a release tag: latest moves without notice"),
	DL("DL3008", W, "apt-get install without pinned versions", "pin versions: apt-get install curl=7.88.1-10+deb12u5"),
	DL("DL3009", I, "apt lists are left in the image after apt-get update",
	   "end the RUN with rm -rf /var/lib/apt/lists/*, or mount a cache on /var/lib/apt/lists"),
	DL("DL3010", I, "a local archive is copied with COPY and extracted by a later RUN",
	   "ADD extracts local tar archives itself: ADD app.tar.gz /opt/"),
	DL("DL3011", E, "an EXPOSEd port is outside 0-65535", "use a valid port number"),
	DL("DL3012", E, "a stage has more than one HEALTHCHECK", "keep one HEALTHCHECK per stage: only the last one counts"),
	DL("DL3013", W, "pip install without pinned versions",
	   "pin versions (pip install flask==3.0.3) or install from a requirements file"),
	DL("DL3014", W, "apt-get install without -y", "add -y so that the build never waits for an answer"),
	DL("DL3015", I, "apt-get install without --no-install-recommends",
	   "add --no-install-recommends to keep recommended packages out of the image"),
	DL("DL3016", W, "npm install without pinned versions", "pin versions: npm install express@4.19.2"),
	DL("DL3018", W, "apk add without pinned versions", "pin versions: apk add curl=8.5.0-r0"),
	DL("DL3019", I, "apk add without --no-cache", "use apk add --no-cache instead of --update plus cleanup"),
	DL("DL3020", E, "ADD copies plain local files or directories", "use COPY; keep ADD for URLs and archives to extract"),
	DL("DL3021", E, "COPY of several sources to a destination without a trailing /",
	   "end the destination with / when copying more than one source"),
	DL("DL3022", W, "COPY --from names no earlier stage",
	   "name a stage defined above (FROM ... AS name), or a full image reference"),
	DL("DL3023", E, "COPY --from names the stage it is in", "copy from another stage, or use plain COPY"),
	DL("DL3024", E, "two stages have the same name", "give every FROM ... AS a unique name"),
	DL("DL3025", W, "CMD or ENTRYPOINT in shell form", "use the JSON form: CMD [\"node\", \"server.js\"]"),
	DL("DL3026", E, "the base image comes from a registry that is not trusted",
	   "use an image from a trusted registry, or add the registry to trustedRegistries"),
	DL("DL3027", W, "RUN uses apt", "use apt-get or apt-cache: apt's interface is not stable for scripts"),
	DL("DL3028", W, "gem install without pinned versions", "pin versions: gem install rails:7.1.3 (or -v)"),
	DL("DL3029", W, "FROM uses --platform", "let the build choose the platform, or use $BUILDPLATFORM / $TARGETPLATFORM"),
	DL("DL3030", W, "yum install without -y", "add -y so that the build never waits for an answer"),
	DL("DL3032", W, "yum install without yum clean all", "end the RUN with yum clean all"),
	DL("DL3033", W, "yum install without pinned versions", "pin versions: yum install -y httpd-2.4.57"),
	DL("DL3034", W, "zypper without a non-interactive flag", "add -y (or -n / --non-interactive)"),
	DL("DL3035", W, "zypper dist-upgrade in a build", "upgrade the base image instead of the distribution inside it"),
	DL("DL3036", W, "zypper install without zypper clean", "end the RUN with zypper clean"),
	DL("DL3037", W, "zypper install without pinned versions", "pin versions: zypper install -y curl=8.0.1"),
	DL("DL3038", W, "dnf install without -y", "add -y so that the build never waits for an answer"),
	DL("DL3040", W, "dnf install without dnf clean all", "end the RUN with dnf clean all"),
	DL("DL3041", W, "dnf install without pinned versions", "pin versions: dnf install -y httpd-2.4.57"),
	DL("DL3042", W, "pip install keeps its cache in the layer",
	   "add --no-cache-dir, set ENV PIP_NO_CACHE_DIR=1, or mount a cache on /root/.cache/pip"),
	DL("DL3043", E, "ONBUILD wraps ONBUILD, FROM or MAINTAINER", "these cannot be triggers; write them directly"),
	DL("DL3044", E, "ENV refers to a variable it defines itself",
	   "the reference sees the old value: split the ENV in two"),
	DL("DL3045", W, "COPY to a relative destination without WORKDIR",
	   "set WORKDIR first, or copy to an absolute path"),
	DL("DL3046", W, "useradd with a large UID without -l", "add -l (--no-log-init) to avoid a huge sparse lastlog"),
	DL("DL3047", I, "wget without --progress or a quiet flag",
	   "add --progress=dot:giga, -q or -nv to keep build logs short"),
	DL("DL3048", S, "a label key is malformed", "use lower-case reverse-DNS keys: org.example.key"),
	DL("DL3049", I, "a required label is missing", "add the label (see label-schema in the configuration)"),
	DL("DL3050", I, "a label that the label schema does not list (strict labels)",
	   "remove the label or add it to label-schema"),
	DL("DL3051", W, "a label of the schema is empty", "give the label a value"),
	DL("DL3052", W, "a label of type url is not a valid URL", "use an absolute URL: https://example.com/"),
	DL("DL3053", W, "a label of type rfc3339 is not an RFC 3339 time", "use a time like 2024-05-01T12:00:00Z"),
	DL("DL3054", W, "a label of type spdx is not an SPDX license", "use an SPDX identifier such as Apache-2.0"),
	DL("DL3055", W, "a label of type hash is not a git hash", "use a full (40) or short (7) lower-case hex hash"),
	DL("DL3056", W, "a label of type semver is not a semantic version", "use a version like 1.4.2"),
	DL("DL3057", N, "a stage has no HEALTHCHECK", "add a HEALTHCHECK so that the runtime can tell a hung service"),
	DL("DL3058", W, "a label of type email is not an e-mail address", "use an address like team@example.com"),
	DL("DL3059", I, "several consecutive RUN instructions", "join them with && into one RUN to save layers"),
	DL("DL3060", I, "yarn install without yarn cache clean", "end the RUN with yarn cache clean"),
	DL("DL3061", E, "an instruction comes before FROM (other than ARG)", "start the Dockerfile with FROM (or ARG, then FROM)"),
	DL("DL3062", W, "go install, go get or go run without a pinned module version",
	   "pin a version (@latest is none): go install example.com/tool@v1.2.3"),
	DL("DL3063", W, "a stage is named with a reserved word", "rename the stage: scratch and context are reserved"),
	DL("DL3064", W, "ARG or ENV name looks like it carries a secret",
	   "pass secrets with RUN --mount=type=secret, not ARG or ENV"),
	DL("DL3065", W, "FROM --platform=$TARGETPLATFORM is redundant", "drop the flag: that is the default"),
	DL("DL3066", I, "USER names a user by name, not by numeric id",
	   "use a numeric UID (USER 10001) so that runtimes can check it is not root"),
	DL("DL3067", W, "COPY --from copies the whole file system of another stage",
	   "copy only the paths you need from the other stage"),
	DL("DL4000", E, "MAINTAINER is deprecated", "use LABEL org.opencontainers.image.authors=..."),
	DL("DL4001", W, "a stage uses both wget and curl", "use one download tool"),
	DL("DL4003", W, "a stage has more than one CMD", "keep one CMD per stage: only the last one counts"),
	DL("DL4004", E, "a stage has more than one ENTRYPOINT", "keep one ENTRYPOINT per stage: only the last one counts"),
	DL("DL4005", W, "RUN relinks /bin/sh", "use SHELL to change the shell of later instructions"),
	DL("DL4006", W, "RUN with a pipe while pipefail is off",
	   "add SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] before it, or set -o pipefail in the RUN"),

	BKR("ConsistentInstructionCasing", "consistent-instruction-casing",
	    "All commands within the Dockerfile should use the same casing (either upper or lower)",
	    "write every instruction keyword in the same case"),
	BKR("CopyIgnoredFile", "copy-ignored-file", "Attempting to Copy file that is excluded by .dockerignore",
	    "remove the source or stop excluding it in .dockerignore"),
	BKR("DuplicateStageName", "duplicate-stage-name", "Stage names should be unique", "rename one of the stages"),
	BKR("ExposeInvalidFormat", "expose-invalid-format",
	    "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release",
	    "expose only port[/protocol]; publish host ports at run time"),
	BKR("ExposeProtoCasing", "expose-proto-casing", "Protocol in EXPOSE instruction should be lowercase",
	    "write the protocol in lower case: 80/tcp"),
	BKR("FromAsCasing", "from-as-casing", "The 'as' keyword should match the case of the 'from' keyword",
	    "write FROM ... AS or from ... as"),
	BKR("FromPlatformFlagConstDisallowed", "from-platform-flag-const-disallowed",
	    "FROM --platform flag should not use a constant value", "use $BUILDPLATFORM or $TARGETPLATFORM"),
	{ "InvalidBaseImagePlatform", KILN_LINT_BUILDKIT, W,
	  "Base image platform does not match expected target platform",
	  "pull the base image for the target platform", NULL,
	  LENS("InvalidBaseImagePlatform", "pull the base image for the target platform") },
	BKR("InvalidDefaultArgInFrom", "invalid-default-arg-in-from",
	    "Default value for global ARG results in an empty or invalid base image name",
	    "give the ARG a default that makes a valid image reference"),
	BKR("InvalidDefinitionDescription", "invalid-definition-description",
	    "Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.",
	    "start the comment with the stage or argument name"),
	BKR("JSONArgsRecommended", "json-args-recommended",
	    "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals",
	    "use the JSON form: CMD [\"app\"]"),
	BKR("LegacyKeyValueFormat", "legacy-key-value-format",
	    "Legacy key/value format with whitespace separator should not be used", "write key=value"),
	BKR("MaintainerDeprecated", "maintainer-deprecated",
	    "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
	    "use LABEL org.opencontainers.image.authors=..."),
	BKR("MultipleInstructionsDisallowed", "multiple-instructions-disallowed",
	    "Multiple instructions of the same type should not be used in the same stage",
	    "keep only the last one"),
	BKR("NoEmptyContinuation", "no-empty-continuation",
	    "Empty continuation lines will become errors in a future release",
	    "remove the empty line or end the continuation"),
	BKR("RedundantTargetPlatform", "redundant-target-platform",
	    "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior",
	    "drop the --platform flag"),
	BKR("ReservedStageName", "reserved-stage-name", "Reserved words should not be used as stage names",
	    "rename the stage"),
	BKR("SecretsUsedInArgOrEnv", "secrets-used-in-arg-or-env",
	    "Sensitive data should not be used in the ARG or ENV commands",
	    "use RUN --mount=type=secret instead"),
	BKR("StageNameCasing", "stage-name-casing", "Stage names should be lowercase", "write the stage name in lower case"),
	BKR("UndefinedArgInFrom", "undefined-arg-in-from", "FROM command must use declared ARGs",
	    "declare the ARG before the first FROM"),
	BKR("UndefinedVar", "undefined-var", "Variables should be defined before their use",
	    "define the variable with ARG or ENV first"),
	BKR("WorkdirRelativePath", "workdir-relative-path",
	    "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes",
	    "set an absolute WORKDIR first"),

	KL("KL0001", E, "the Dockerfile does not parse", "fix the syntax error at the position given"),
	KL("KL1001", W, "the final stage builds on a toolchain image although earlier stages exist",
	   "build in an earlier stage and base the final stage on a runtime image (alpine, distroless, *-slim, aspnet, jre)"),
	KL("KL1002", I, "a single-stage Dockerfile installs compilers or build tools",
	   "split it into a build stage and a slim runtime stage that copies only the build output"),
	KL("KL1003", W, "the whole context is copied before the dependency install",
	   "copy the manifest first (package*.json, go.mod, requirements.txt, ...), install, then copy the rest"),
	KL("KL1004", W, "no .dockerignore although the context holds what a build should not see",
	   "add a .dockerignore that excludes .git, node_modules, .env, ..."),
	KL("KL1005", W, "the .dockerignore does not exclude .git, node_modules or .env found in the context",
	   "add the missing entries to .dockerignore"),
	KL("KL1006", E, "COPY or ADD puts a secret file (.env, private key, credentials) into the image",
	   "pass it at build time with RUN --mount=type=secret, or at run time"),
	KL("KL1007", E, "the context that COPY or ADD sends holds secret files",
	   "exclude them in .dockerignore, or copy only what the image needs"),
	KL("KL1008", W, "ARG, ENV or LABEL holds what looks like a secret value",
	   "pass secrets with RUN --mount=type=secret; values of ARG and ENV stay in the image's history"),
	KL("KL1009", I, "COPY --from names a stage by its number", "name the stage (FROM ... AS build) and copy --from=build"),
	KL("KL1010", S, "the base image is not pinned by digest",
	   "for release builds pin the digest: FROM node:20-alpine@sha256:..."),
	KL("KL1011", I, "a stage that the final stage does not need", "remove it, or build it with --target on purpose"),
	KL("KL1012", I, "a package manager leaves its download cache in the final image",
	   "clean the cache in the same RUN, or use RUN --mount=type=cache"),
	KL("KL1013", W, "the package index is updated in one RUN and used by a later one",
	   "update and install in the same RUN: apt-get update && apt-get install -y ..."),
	KL("KL1014", I, "the final stage runs as root", "add USER with a non-root (numeric) user to the final stage"),
	KL("KL1015", S, "the final stage EXPOSEs a port but has no HEALTHCHECK",
	   "add a HEALTHCHECK so that the runtime can tell a hung service"),
};

const struct kiln_lint_rule_info *kiln_lint_rules(size_t *ret_n)
{
	*ret_n = KILN_ARRAY_SIZE(rules);
	return rules;
}

/* The table's order: hadolint's DL codes, BuildKit's names, kiln's KL codes, each by strcmp. */
static int family_rank(const char *code)
{
	if (code[0] == 'D' && code[1] == 'L' && code[2] >= '0' && code[2] <= '9')
		return 0;
	if (code[0] == 'K' && code[1] == 'L' && code[2] >= '0' && code[2] <= '9')
		return 2;
	return 1;
}

/* The table's order of a and b, b's rank given: by rank, then as strcmp() orders them. */
static inline int rule_cmp_ranked(const char *a, const char *b, int rank_b)
{
	int ra = family_rank(a);
	return ra != rank_b ? ra - rank_b : strcmp(a, b);
}

/* "DL" or "KL" and four more bytes: ordered among themselves by their last four bytes. */
static inline int is_code6(const char *c)
{
	return c[2] && c[3] && c[4] && c[5] && !c[6];
}

/* Bytes c[2..5] as one number that orders as strcmp() orders them. */
static inline uint32_t code_key(const char *c)
{
	return (uint32_t)(unsigned char)c[2] << 24 | (uint32_t)(unsigned char)c[3] << 16 |
	       (uint32_t)(unsigned char)c[4] << 8 | (uint32_t)(unsigned char)c[5];
}

/*
 * A DL or KL code of six bytes (what every finding but BuildKit's has) among the
 * table's, which are all six bytes long: one integer comparison a step, no strcmp().
 * The table's families come in the order of their ranks (hadolint's, BuildKit's,
 * kiln's, as the enumeration has them), so an entry's rank is its family, read
 * rather than worked out from its code.
 */
static const struct kiln_lint_rule_info *find_code6(const char *code, int rank)
{
	uint32_t key = code_key(code);
	enum kiln_lint_family fam = rank == 0 ? KILN_LINT_HADOLINT : KILN_LINT_KILN;
	size_t lo = 0, hi = KILN_ARRAY_SIZE(rules);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct kiln_lint_rule_info *m = &rules[mid];
		uint32_t mk = m->family == fam ? code_key(m->code) : 0;
		if (m->family == fam && mk == key)
			return m;
		if (m->family < fam || (m->family == fam && mk < key))
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Where the code DLt0nn or KLt0nn is in rules[]: 1 + its index at [nn] of group t's table,
 * 0 for none. Written from rules[]; the entry is checked against the code all the same, so a
 * table that moves on without these costs the search again, never a wrong answer.
 */
static const unsigned char dl1_at[] = {
	[1] = 1
};
static const unsigned char dl3_at[] = {
	[0] = 2, [1] = 3, [2] = 4, [3] = 5, [4] = 6, [6] = 7, [7] = 8, [8] = 9, [9] = 10,
	[10] = 11, [11] = 12, [12] = 13, [13] = 14, [14] = 15, [15] = 16, [16] = 17, [18] = 18,
	[19] = 19, [20] = 20, [21] = 21, [22] = 22, [23] = 23, [24] = 24, [25] = 25, [26] = 26,
	[27] = 27, [28] = 28, [29] = 29, [30] = 30, [32] = 31, [33] = 32, [34] = 33, [35] = 34,
	[36] = 35, [37] = 36, [38] = 37, [40] = 38, [41] = 39, [42] = 40, [43] = 41, [44] = 42,
	[45] = 43, [46] = 44, [47] = 45, [48] = 46, [49] = 47, [50] = 48, [51] = 49, [52] = 50,
	[53] = 51, [54] = 52, [55] = 53, [56] = 54, [57] = 55, [58] = 56, [59] = 57, [60] = 58,
	[61] = 59, [62] = 60, [63] = 61, [64] = 62, [65] = 63, [66] = 64, [67] = 65
};
static const unsigned char dl4_at[] = {
	[0] = 66, [1] = 67, [3] = 68, [4] = 69, [5] = 70, [6] = 71
};
static const unsigned char kl0_at[] = {
	[1] = 94
};
static const unsigned char kl1_at[] = {
	[1] = 95, [2] = 96, [3] = 97, [4] = 98, [5] = 99, [6] = 100, [7] = 101, [8] = 102,
	[9] = 103, [10] = 104, [11] = 105, [12] = 106, [13] = 107, [14] = 108, [15] = 109
};

struct code_group {
	const unsigned char *at;
	size_t n;
};

static const struct code_group dl_groups[10] = {
	[1] = { dl1_at, sizeof(dl1_at) },
	[3] = { dl3_at, sizeof(dl3_at) },
	[4] = { dl4_at, sizeof(dl4_at) },
};
static const struct code_group kl_groups[10] = {
	[0] = { kl0_at, sizeof(kl0_at) },
	[1] = { kl1_at, sizeof(kl1_at) },
};

static const struct kiln_lint_rule_info *find_code6_guess(const char *code)
{
	/* each byte looked at only once those before it are known not to end the string */
	if (!((code[0] == 'D' || code[0] == 'K') && code[1] == 'L'))
		return NULL;
	unsigned t = (unsigned char)code[2] - '0';
	if (t > 9 || code[3] != '0')
		return NULL;
	unsigned d1 = (unsigned char)code[4] - '0';
	if (d1 > 9)
		return NULL;
	unsigned d0 = (unsigned char)code[5] - '0';
	if (d0 > 9 || code[6])
		return NULL;
	int dl = code[0] == 'D';
	const struct code_group *g = dl ? &dl_groups[t] : &kl_groups[t];
	size_t nn = d1 * 10 + d0;
	if (nn >= g->n || !g->at[nn])
		return NULL;
	const struct kiln_lint_rule_info *ri = &rules[g->at[nn] - 1];
	uint32_t key, k; /* bytes 2..5 as they lie in memory: only equality is asked */
	memcpy(&key, code + 2, 4);
	/* every entry of a DL or KL family is six bytes long: bytes 2..5 are there */
	memcpy(&k, ri->code + 2, 4);
	return ri->family == (dl ? KILN_LINT_HADOLINT : KILN_LINT_KILN) && k == key ? ri : NULL;
}

/* Every finding looks its rule up: mostly at the place its digits give, else by halves. */
const struct kiln_lint_rule_info *kiln_lint_rule_find(const char *code)
{
	if (!code)
		return NULL;
	const struct kiln_lint_rule_info *ri = find_code6_guess(code);
	if (ri)
		return ri;
	int rank = family_rank(code);
	if (rank != 1 && is_code6(code))
		return find_code6(code, rank);
	size_t lo = 0, hi = KILN_ARRAY_SIZE(rules);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = rule_cmp_ranked(rules[mid].code, code, rank);
		if (c == 0)
			return &rules[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const char *const sev_names[] = { "error", "warning", "info", "style", "ignore", "none" };

const char *kiln_lint_severity_name(enum kiln_lint_severity s)
{
	return (unsigned)s < KILN_ARRAY_SIZE(sev_names) ? sev_names[s] : "?";
}

int kiln_lint_severity_parse(const char *s, enum kiln_lint_severity *ret, struct kiln_error *err)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(sev_names); i++) {
		if (s && strcasecmp(s, sev_names[i]) == 0) {
			*ret = (enum kiln_lint_severity)i;
			return 0;
		}
	}
	return kiln_fail(err, KILN_EINVAL, 0,
			 "unknown severity '%s' (error, warning, info, style, ignore or none)",
			 s ? s : "");
}

int kiln_lint_label_type_parse(const char *s)
{
	static const char *const names[] = { "text", "url", "email", "hash", "rfc3339", "semver", "spdx" };
	for (size_t i = 0; s && i < KILN_ARRAY_SIZE(names); i++)
		if (strcasecmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

int kiln_lint_format_parse(const char *s)
{
	if (!s)
		return -1;
	if (strcmp(s, "tty") == 0)
		return KILN_LINT_FORMAT_TTY;
	if (strcmp(s, "json") == 0)
		return KILN_LINT_FORMAT_JSON;
	if (strcmp(s, "sarif") == 0)
		return KILN_LINT_FORMAT_SARIF;
	if (strcmp(s, "checkstyle") == 0)
		return KILN_LINT_FORMAT_CHECKSTYLE;
	if (strcmp(s, "gitlab_codeclimate") == 0)
		return KILN_LINT_FORMAT_CODECLIMATE;
	if (strcmp(s, "codeclimate") == 0)
		return KILN_LINT_FORMAT_CODECLIMATE_ENGINE;
	if (strcmp(s, "gnu") == 0)
		return KILN_LINT_FORMAT_GNU;
	if (strcmp(s, "codacy") == 0)
		return KILN_LINT_FORMAT_CODACY;
	if (strcmp(s, "sonarqube") == 0)
		return KILN_LINT_FORMAT_SONARQUBE;
	return -1;
}
