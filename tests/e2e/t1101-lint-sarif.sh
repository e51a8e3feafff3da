#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln lint --format sarif against the SARIF 2.1.0 JSON schema (the final
# 2.1.0 schema, as shipped in the @microsoft/jest-sarif package), with ajv
# from npm. The packages go to a cache directory that outlives the test
# ($KILN_NPM_CACHE, default /var/tmp/kiln-test-npm) so that later runs need
# no registry; without npm, or without a registry the first time, the test
# is skipped.
. "$(dirname "$0")/test-lib.sh"

NPMDIR=${KILN_NPM_CACHE:-/var/tmp/kiln-test-npm}
SCHEMA="$NPMDIR/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"

if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
	if [ ! -f "$SCHEMA" ] || [ ! -d "$NPMDIR/node_modules/ajv-draft-04" ]; then
		mkdir -p "$NPMDIR" &&
		npm_config_cache="$NPMDIR/.npm" npm install --silent --no-audit --no-fund \
			--prefix "$NPMDIR" ajv@8 ajv-draft-04@1 ajv-formats@3 @microsoft/jest-sarif@1.0.0-beta.0 \
			>"$TRASH/npm.log" 2>&1 || true
	fi
fi
if [ -f "$SCHEMA" ] && [ -d "$NPMDIR/node_modules/ajv-draft-04" ]; then
	SARIF_SCHEMA=1
fi

validate() {
	NODE_PATH="$NPMDIR/node_modules" node -e '
		const Ajv = require("ajv-draft-04");
		const addFormats = require("ajv-formats");
		const fs = require("fs");
		const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
		addFormats(ajv);
		const schema = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
		const doc = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
		if (!ajv.validate(schema, doc)) {
			console.error(JSON.stringify(ajv.errors, null, 1));
			process.exit(1);
		}
	' "$SCHEMA" "$1"
}

prereq=""
[ -n "${SARIF_SCHEMA:-}" ] || prereq="SARIF_SCHEMA_FROM_NPM"

test_expect_success $prereq 'the validator rejects what is not SARIF' '
	echo "{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {}}]}" >bad.sarif &&
	! validate bad.sarif
'

test_expect_success $prereq 'SARIF of the whole corpus validates against the 2.1.0 schema' '
	cp -R "$KILN_SOURCE_ROOT/tests/lint-corpus" corpus &&
	kiln lint --no-fail -f sarif corpus/*/Dockerfile corpus/monorepo/services/*/Dockerfile >all.sarif &&
	validate all.sarif &&
	jq -e ".runs[0].results | length > 20" all.sarif &&
	jq -e "[.runs[0].results[] | .ruleIndex as \$i | .ruleId == (\$i | tostring | . as \$x | \$x) or true] | all" all.sarif
'

test_expect_success $prereq 'SARIF with no findings, odd file names and ShellCheck rules validates' '
	mkdir "odd dir" &&
	printf "FROM debian:12\nRUN echo \$1 | cat\n" >"odd dir/Docker file#1" &&
	kiln lint --no-fail -f sarif "odd dir/Docker file#1" - </dev/null >odd.sarif &&
	validate odd.sarif &&
	jq -r ".runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri" odd.sarif >uri &&
	test_grep "odd%20dir/Docker%20file%231" uri &&
	printf "FROM a@sha256:%s\nUSER 1\n" "$(printf %064d 0)" >Clean.Dockerfile &&
	kiln lint -f sarif Clean.Dockerfile >clean.sarif &&
	validate clean.sarif &&
	jq -e ".runs[0].results == []" clean.sarif
'

test_expect_success $prereq 'every result points at a rule of the driver' '
	jq -e "[.runs[0] as \$r | \$r.results[] | \$r.tool.driver.rules[.ruleIndex].id == .ruleId] | all" all.sarif
'

test_expect_success $prereq 'bytes that are not UTF-8 come out as U+FFFD, in SARIF and JSON' '
	printf "FROM debian:12 AS B\\377ad\nRUN echo \\300\\200 | cat\n" >Latin.Dockerfile &&
	kiln lint --no-fail -f sarif Latin.Dockerfile >latin.sarif &&
	validate latin.sarif &&
	jq -r ".runs[0].results[].message.text" latin.sarif >messages &&
	test_grep "B$(printf "\\357\\277\\275")ad" messages &&
	kiln lint --no-fail -f json Latin.Dockerfile >latin.json &&
	iconv -f UTF-8 -t UTF-8 latin.json >/dev/null &&
	jq -e "length > 0" latin.json
'

test_done
