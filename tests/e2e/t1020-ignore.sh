#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln debug ignore: .dockerignore patterns against paths, as BuildKit's
# matcher answers (parents considered, exceptions, Go's pattern syntax).
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'reads ./.dockerignore and answers per path' '
	mkdir proj && cd proj &&
	printf "node_modules\n*.log\n!keep.log\n# a comment\n  # not a comment\n" >.dockerignore &&
	kiln debug ignore node_modules/x/y.js a.log keep.log src/a.log "# not a comment" >out &&
	printf "match\nmatch\nnomatch\nnomatch\nmatch\n" >expect &&
	test_cmp expect out
'

test_expect_success '--verbose names the deciding pattern and its line' '
	cd proj &&
	kiln debug ignore -v node_modules/x keep.log other >out &&
	printf "match\tnode_modules/x\tnode_modules\t.dockerignore:1\nnomatch\tkeep.log\t!keep.log\t.dockerignore:3\nnomatch\tother\n" >expect &&
	test_cmp expect out
'

test_expect_success '--pattern lines, in order, after --file' '
	printf "docs\n" >f.ignore &&
	kiln debug ignore -f f.ignore -p "!docs/README.md" docs/README.md docs/x >out &&
	printf "nomatch\nmatch\n" >expect &&
	test_cmp expect out &&
	kiln debug ignore -p "!docs/README.md" -f f.ignore docs/README.md >out &&
	echo nomatch >expect &&
	test_cmp expect out
'

test_expect_success 'trailing slash, leading slash, ** rules' '
	kiln debug ignore -p "dir/" -p "/abs" -p "**/build" -p "x/**" \
		dir dir/f abs/f a/b/build/c x x/y >out &&
	printf "match\nmatch\nmatch\nmatch\nnomatch\nmatch\n" >expect &&
	test_cmp expect out
'

test_expect_success 'a leading ** is a suffix test (upstream quirk)' '
	kiln debug ignore -p "**file" file dir/file myfile fileX >out &&
	printf "match\nmatch\nmatch\nnomatch\n" >expect &&
	test_cmp expect out
'

test_expect_success 'character classes follow Go regexp' '
	kiln debug ignore -p "[[:digit:]]*" -p "a[^b]c" 1x x1 a/c abc >out &&
	printf "match\nnomatch\nmatch\nnomatch\n" >expect &&
	test_cmp expect out
'

test_expect_success 'an unclosed [ exits 2 and names the pattern' '
	test_expect_code 2 kiln debug ignore -p "ok" -p "src/[abc" x 2>err &&
	test_grep "bad pattern .src/\[abc." err
'

test_expect_success 'a lone ! in a file exits 2 with file:line' '
	printf "a\n\n!\n" >bang.ignore &&
	test_expect_code 2 kiln debug ignore -f bang.ignore x 2>err &&
	test_grep "bang.ignore:3: bad pattern .!." err
'

test_expect_success 'a pattern Go cannot compile fails when it is reached' '
	test_expect_code 2 kiln debug ignore -p "[z-a]" x 2>err &&
	test_grep "invalid character class range" err &&
	kiln debug ignore -p "x" -p "[z-a]" x >out &&
	echo match >expect &&
	test_cmp expect out
'

test_expect_success 'no .dockerignore and no patterns is an error' '
	mkdir empty && cd empty &&
	test_expect_code 1 kiln debug ignore x 2>err &&
	test_grep ".dockerignore" err
'

test_expect_success 'missing PATH is a usage error' '
	test_expect_code 2 kiln debug ignore -p x 2>err &&
	test_grep "usage: kiln debug ignore" err
'

test_expect_success 'a BOM, CRLF line ends and a long file' '
	printf "\357\273\277first\r\nsecond\r\n" >bom.ignore &&
	kiln debug ignore -f bom.ignore first second/x >out &&
	printf "match\nmatch\n" >expect &&
	test_cmp expect out &&
	seq 1 20000 | sed "s/^/dir/" >many.ignore &&
	kiln debug ignore -f many.ignore dir19999/x nodir >out &&
	printf "match\nnomatch\n" >expect &&
	test_cmp expect out
'

test_done
