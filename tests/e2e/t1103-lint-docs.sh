#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every "# triggers RULE" example of docs/lint-rules.md makes kiln lint
# report RULE (a FROM is added to fragments; rules that only run when
# configured get their configuration; the context rules, whose examples are
# directory layouts, are covered by t1100).
. "$(dirname "$0")/test-lib.sh"

DOC="$KILN_SOURCE_ROOT/docs/lint-rules.md"

test_expect_success 'extract the examples' '
	mkdir ex &&
	awk -v dir=ex "
		/^\`\`\`Dockerfile\$/ { inb = 1; next }
		/^\`\`\`\$/ { if (out != \"\") close(out); inb = 0; out = \"\"; next }
		inb && /^# triggers / { out = dir \"/\" \$3; next }
		inb && out != \"\" { print > out }
	" "$DOC" &&
	ls ex >list &&
	test "$(wc -l <list)" -gt 100
'

for rule in $(awk '/^# triggers / { print $3 }' "$DOC" 2>/dev/null); do
	case $rule in
	KL1004 | KL1005 | KL1007 | CopyIgnoredFile | InvalidBaseImagePlatform) continue ;;
	esac
	test_expect_success "docs example for $rule triggers it" "
		if grep -q '^FROM' ex/$rule; then cp ex/$rule Dockerfile; else
			{ echo 'FROM alpine:3.19'; cat ex/$rule; } >Dockerfile; fi &&
		printf 'label-schema:\\n  maintainer: email\\n  documentation: url\\n  created: rfc3339\\n  license: spdx\\n  revision: hash\\n  version: semver\\noverride:\\n  info: [DL1001, DL3057]\\ntrustedRegistries: [registry.example.org]\\nstrict-labels: true\\n' >cfg.yaml &&
		kiln lint --no-fail --no-context --no-shellcheck --config cfg.yaml -f json Dockerfile >out.json &&
		jq -r '.[].code' out.json >codes &&
		test_grep -x '$rule' codes
	"
done

test_done
