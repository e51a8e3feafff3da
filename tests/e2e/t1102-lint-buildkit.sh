#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln lint reports BuildKit's build checks under BuildKit's names, with its
# messages and lines: every case of the peers' BuildKit check data
# (../shared/conformance/lint/buildkit-cases) is linted as `docker build
# --check` would (the lint subrequest's expectations where a case has them),
# and the BuildKit findings must be exactly the expected warnings (for the
# subrequest's files rule and message only: upstream compares only those,
# and the line numbers there are not the instructions' lines). A case's
# build arguments (frontend_attr build-arg:K=V) are passed with --build-arg.
. "$(dirname "$0")/test-lib.sh"

CASES="$KILN_CONFORMANCE_DIR/lint/buildkit-cases"

if ! test_have_prereq CONFORMANCE || [ ! -d "$CASES" ]; then
	test_expect_success CONFORMANCE_LINT_CASES 'BuildKit check cases' 'false'
	test_done
	exit $?
fi

for dir in "$CASES"/*/; do
	name=$(basename "$dir")
	# --build-arg 'K=V' for each build-arg line, single quotes escaped
	bargs=$(sed -n "s/'/'\\\\''/g; s/^frontend_attr	build-arg:\(.*\)$/--build-arg '\1'/p" \
		"$dir/meta.tsv" 2>/dev/null | tr '\n' ' ')
	want="$dir/expected.tsv"
	cut="cat"
	if [ -f "$dir/expected-lint-subrequest.tsv" ]; then
		want="$dir/expected-lint-subrequest.tsv"
		cut="cut -f 2-"
	fi
	test_expect_success "$name" "
		awk -F '\t' 'NR > 1 && NF >= 4 { print \$1 \"\t\" \$2 \"\t\" \$4 }' '$want' | $cut | sort >want &&
		kiln lint --no-shellcheck --no-fail -f json --context '$dir/context' $bargs '$dir/context/Dockerfile' >out.json &&
		jq -r '.[] | select(.code | test(\"^(DL|KL|SC)[0-9]\") | not) | \"\(.line)\t\(.code)\t\(.message)\"' out.json | $cut | sort >got &&
		test_cmp want got
	"
done

test_done
