#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln debug expand: BuildKit's word expansion from the command line.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'variables, defaults and alternatives expand' '
	kiln debug expand --env A=1 --env B= "x\$A-\${B:-b}-\${B-c}-\${A:+set}-\${U}" >out &&
	echo "x1-b--set-" >expect &&
	test_cmp expect out
'

test_expect_success 'a later --env wins and a bare name is set to empty' '
	kiln debug expand -e V=1 -e V=2 -e E "\${V}|\${E-unset}|\${E:-empty}" >out &&
	echo "2||empty" >expect &&
	test_cmp expect out
'

test_expect_success 'quotes and escapes are removed as BuildKit removes them' '
	kiln debug expand --env P=/home "\"a \$P\" '"'"'b \$P'"'"' c\\ d \\\$P" >out &&
	echo "a /home b \$P c d \$P" >expect &&
	test_cmp expect out
'

test_expect_success 'patterns trim and replace' '
	kiln debug expand --env F=/src/app.tar.gz \
		"\${F##*/} \${F%%.*} \${F#/src/} \${F/.tar.gz/.tgz} \${F//a/A}" >out &&
	echo "app.tar.gz /src/app app.tar.gz /src/app.tgz /src/App.tAr.gz" >expect &&
	test_cmp expect out
'

test_expect_success '--words splits on unquoted whitespace, values included' '
	kiln debug expand --words --env "S=b  c" "a\$S \"d  e\" f\\ g" >out &&
	printf "%s\n" ab c "d  e" "f g" >expect &&
	test_cmp expect out
'

test_expect_success '--words prints nothing for an empty expansion' '
	kiln debug expand --words "\${U}" >out &&
	test ! -s out
'

test_expect_success '--escape ` makes backslashes ordinary' '
	kiln debug expand --escape "\`" --env D=x "C:\\dir\\\$D \`\$D" >out &&
	printf "%s\n" "C:\\dir\\x \$D" >expect &&
	test_cmp expect out
'

test_expect_success 'a required variable that is unset fails with BuildKit'"'"'s message' '
	test_expect_code 1 kiln debug expand "\${TAG:?set TAG}" >out 2>err &&
	test ! -s out &&
	test_grep "^error: failed to process \"\${TAG:?set TAG}\": TAG: set TAG$" err
'

test_expect_success 'syntax errors exit 1 and say what is missing' '
	test_expect_code 1 kiln debug expand "\${A:-x" 2>err &&
	test_grep "syntax error: missing '"'"'}'"'"'" err &&
	test_expect_code 1 kiln debug expand "\"open" 2>err &&
	test_grep "looking for matching double-quote" err &&
	test_expect_code 1 kiln debug expand "\${A=x}" 2>err &&
	test_grep "unsupported modifier (=) in substitution" err
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 kiln debug expand 2>err &&
	test_grep "missing WORD" err &&
	test_expect_code 2 kiln debug expand a b 2>err &&
	test_grep "expected one WORD" err &&
	test_expect_code 2 kiln debug expand --escape x a 2>err &&
	test_grep "escape must be" err &&
	test_expect_code 2 kiln debug expand --env =v a 2>err &&
	test_grep "NAME=VALUE" err &&
	test_expect_code 2 kiln debug expand --bogus a 2>err
'

test_expect_success 'deep nesting is refused, not a crash' '
	w=x &&
	for i in $(seq 70); do w="\${a:-$w}"; done &&
	test_expect_code 1 kiln debug expand "$w" 2>err &&
	test_grep "nested deeper than" err
'

test_expect_success 'kiln debug lists expand' '
	kiln debug --help >out &&
	test_grep "^  expand " out
'

test_done
