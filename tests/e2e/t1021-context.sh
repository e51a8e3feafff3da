#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln context: what a build would send, after .dockerignore (or the
# Dockerfile's own .dockerignore), and the COPY/ADD sources it would miss,
# expanded as kiln build expands them (build args, global ARGs, -f -).
. "$(dirname "$0")/test-lib.sh"

# A project: sources, docs, dependencies, secrets, a big file, a Dockerfile
# for the app and one under build/ with its own ignore file.
make_project() {
	mkdir -p app/src/lib app/docs app/node_modules/left-pad app/secrets app/build app/.git &&
	printf 'int main(void) { return 0; }\n' >app/src/main.c &&
	printf 'int lib(void);\n' >app/src/lib/lib.h &&
	printf '# App\n' >app/README.md &&
	printf '# Notes\n' >app/docs/notes.md &&
	printf 'module.exports = 1\n' >app/node_modules/left-pad/index.js &&
	printf 'TOKEN=secret\n' >app/.env &&
	printf 'key\n' >app/secrets/id_rsa &&
	printf 'ref: refs/heads/main\n' >app/.git/HEAD &&
	dd if=/dev/zero of=app/assets.bin bs=1024 count=200 2>/dev/null &&
	printf 'debug log\n' >app/debug.log &&
	printf 'keep\n' >app/keep.log &&
	cat >app/.dockerignore <<-EOF &&
	# what the app build does not need
	.git
	node_modules
	.env
	secrets
	**/*.log
	!keep.log
	docs/
	EOF
	cat >app/Dockerfile <<-EOF &&
	ARG SRC=src
	FROM busybox AS build
	ARG SRC
	COPY \$SRC/main.c /build/
	COPY README.md keep.log /build/
	FROM busybox
	COPY --from=build /build /app
	EOF
	cat >app/build/app.Dockerfile <<-EOF &&
	FROM busybox
	COPY src/lib /lib
	COPY docs node_modules /x/
	EOF
	printf 'src/lib\nassets.bin\n' >app/build/app.Dockerfile.dockerignore
}

test_expect_success 'setup' '
	make_project
'

test_expect_success 'the summary counts what .dockerignore lets through' '
	kiln context app >out &&
	test_grep "^ignore file: app/.dockerignore (7 patterns)" out &&
	test_grep "^dockerfile:  app/Dockerfile" out &&
	test_grep "^entries:     9 files, 3 directories, 0 symlinks" out &&
	test_grep "^sources:     3 COPY/ADD sources checked, 0 warnings" out
'

test_expect_success 'the largest files come first' '
	kiln context --top 2 app >out &&
	sed -n "/^largest:/,/^sources:/p" out >largest &&
	test_grep "200.0 KiB  assets.bin" largest &&
	test $(grep -c "^  " largest) = 2
'

test_expect_success '--list prints every path in walk order' '
	kiln context --list app >out &&
	cat >expect <<-EOF &&
	.dockerignore
	Dockerfile
	README.md
	assets.bin
	build
	build/app.Dockerfile
	build/app.Dockerfile.dockerignore
	keep.log
	src
	src/lib
	src/lib/lib.h
	src/main.c
	EOF
	test_cmp expect out
'

test_expect_success 'the list agrees with find minus the ignored paths' '
	(cd app && find . -mindepth 1 | sed "s|^\./||" |
		grep -v -e "^\.git" -e "^node_modules" -e "^\.env" -e "^secrets" \
			-e "\.log$" -e "^docs" | sort) >expect &&
	echo keep.log >>expect && sort -o expect expect &&
	kiln context --list app | sort >out &&
	test_cmp expect out
'

test_expect_success 'Dockerfile.dockerignore wins over .dockerignore' '
	test_expect_code 1 kiln context -f app/build/app.Dockerfile app >out 2>err &&
	test_grep "^ignore file: app/build/app.Dockerfile.dockerignore (2 patterns)" out &&
	test_expect_code 1 kiln context -f app/build/app.Dockerfile --list app >list 2>/dev/null &&
	test_grep "^node_modules/left-pad/index.js$" list &&
	test_grep "^docs/notes.md$" list &&
	test_grep "^src/main.c$" list &&
	! grep "^src/lib" list &&
	! grep "^assets.bin" list
'

test_expect_success 'a COPY source the ignore file excludes is a warning naming the pattern' '
	test_expect_code 1 kiln context -f app/build/app.Dockerfile app >out 2>err &&
	test_grep "^warning: app/build/app.Dockerfile:2: COPY source .src/lib. is excluded by app/build/app.Dockerfile.dockerignore:1 (.src/lib.)$" err &&
	test $(grep -c "^warning" err) = 1
'

test_expect_success 'excluded and missing sources name the Dockerfile line and the pattern' '
	cat >Bad.Dockerfile <<-EOF &&
	FROM busybox
	COPY .env /etc/app.env
	COPY secrets/id_rsa /root/.ssh/
	COPY *.log /logs/
	COPY nothing-here /x
	COPY --from=busybox /bin/sh /sh
	ADD https://example.com/a.tgz /a
	COPY \$FROM_IMAGE/x /y
	EOF
	test_expect_code 1 kiln context -f Bad.Dockerfile app >out 2>err &&
	test_grep "warning: Bad.Dockerfile:2: COPY source .\.env. is excluded by app/.dockerignore:4 (.\.env.)" err &&
	test_grep "warning: Bad.Dockerfile:3: COPY source .secrets/id_rsa. is excluded by app/.dockerignore:5 (.secrets.)" err &&
	test_grep "warning: Bad.Dockerfile:5: COPY source .nothing-here. is not in the context" err &&
	test_grep "note: Bad.Dockerfile:8: COPY source .\$FROM_IMAGE/x. not checked" err &&
	! grep "Bad.Dockerfile:4:" err &&
	! grep "Bad.Dockerfile:6:" err &&
	! grep "Bad.Dockerfile:7:" err
'

test_expect_success 'a wildcard source that only matches ignored files is reported' '
	cat >Wild.Dockerfile <<-EOF &&
	FROM busybox
	COPY docs/*.md /docs/
	COPY src/*.c /src/
	EOF
	test_expect_code 1 kiln context -f Wild.Dockerfile app >out 2>err &&
	test_grep "Wild.Dockerfile:2: COPY source .docs/\*\.md. matches only files the ignore rules drop (docs/notes.md: excluded by app/.dockerignore:8 (.docs.))" err &&
	! grep "Wild.Dockerfile:3" err
'

test_expect_success '--json carries the same report' '
	test_expect_code 1 kiln context --json -f Bad.Dockerfile app >out 2>/dev/null &&
	jq -e ".files == 9 and .directories == 3 and .patterns == 7" out &&
	jq -e "[.warnings[] | select(.problem == \"excluded\")] | length == 2" out &&
	jq -e ".warnings[0].pattern == \".env\" and .warnings[0].pattern_line == 4 and .warnings[0].line == 2" out &&
	jq -e "[.warnings[] | select(.problem == \"unchecked\")] | length == 1" out &&
	jq -e ".largest[0].path == \"assets.bin\" and .largest[0].size == 204800" out
'

test_expect_success '--json --list adds the entries' '
	kiln context --json --list app >out &&
	jq -e ".entries | length == 12" out &&
	jq -e ".entries[0] == \".dockerignore\"" out
'

test_expect_success 'without a Dockerfile there is nothing to check' '
	mkdir bare && printf x >bare/f &&
	kiln context bare >out &&
	test_grep "^dockerfile:  none" out &&
	test_grep "^ignore file: none" out &&
	test_grep "^entries:     1 files" out
'

test_expect_success 'a bad pattern fails with its file and line' '
	mkdir badign && printf "ok\n[z-a]\n" >badign/.dockerignore && printf x >badign/f &&
	test_expect_code 1 kiln context badign 2>err &&
	test_grep "badign/.dockerignore:2: .*bad pattern .\[z-a\]." err
'

test_expect_success 'a missing context or Dockerfile is an error' '
	test_expect_code 1 kiln context does-not-exist 2>err &&
	test_grep "not found" err &&
	test_expect_code 1 kiln context -f nope app 2>err &&
	test_grep "nope" err
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 kiln context 2>err &&
	test_grep "missing DIR" err &&
	test_expect_code 2 kiln context a b 2>err &&
	test_expect_code 2 kiln context --top -1 app 2>err
'

test_expect_success 'symlinks are listed, never followed out of the context' '
	mkdir linky && printf x >linky/f && ln -s /etc linky/etc && ln -s f linky/g &&
	kiln context --list linky >out &&
	printf "etc\nf\ng\n" >expect &&
	test_cmp expect out
'

test_expect_success '--build-arg reaches the sources as it reaches kiln build' '
	kiln context --build-arg SRC=src app >out 2>err &&
	test_grep "^sources:     3 COPY/ADD sources checked, 0 warnings" out &&
	test_expect_code 1 kiln context --build-arg SRC=lib app >out 2>err &&
	test_grep "^warning: app/Dockerfile:4: COPY source .\$SRC/main.c. (lib/main.c) is not in the context$" err &&
	test_expect_code 1 kiln context --build-arg SRC=secrets --json app >out 2>/dev/null &&
	jq -e ".warnings[0].source == \"\$SRC/main.c\" and .warnings[0].expanded == \"secrets/main.c\"" out
'

test_expect_success '--build-arg K takes K from the environment; unused ones are named' '
	SRC=lib test_expect_code 1 kiln context --build-arg SRC app >out 2>err &&
	test_grep "(lib/main.c) is not in the context" err &&
	kiln context --build-arg NOPE=1 app >out 2>err &&
	test_grep "^\[Warning\] One or more build-args \[NOPE\] were not consumed" err &&
	test_expect_code 2 kiln context --build-arg =x app 2>err &&
	test_grep "needs K=V or K" err
'

test_expect_success 'a source that uses a global ARG' '
	cat >Global.Dockerfile <<-EOF &&
	ARG CONF=.env
	ARG DOC=docs
	FROM busybox
	ARG CONF
	COPY \$CONF /etc/app.env
	COPY \$DOC/notes.md /doc/
	EOF
	test_expect_code 1 kiln context -f Global.Dockerfile app >out 2>err &&
	test_grep "^warning: Global.Dockerfile:5: COPY source .\$CONF. (.env) is excluded by app/.dockerignore:4 (.\.env.)$" err &&
	test_grep "^note: Global.Dockerfile:6: COPY source .\$DOC/notes.md. not checked: \$DOC is a global ARG, which a stage sees only after its own .ARG DOC." err &&
	kiln context -f Global.Dockerfile --build-arg CONF=README.md app >out 2>err &&
	! grep "Global.Dockerfile:5" err &&
	test_grep "^sources:     1 COPY/ADD source checked, 1 warning" out
'

test_expect_success '-f - reads the Dockerfile from stdin, with the context'"'"'s ignore file' '
	kiln context -f - app <app/Dockerfile >out 2>err &&
	test_grep "^dockerfile:  <stdin>" out &&
	test_grep "^sources:     3 COPY/ADD sources checked, 0 warnings" out &&
	test_expect_code 1 kiln context -f - app <app/build/app.Dockerfile >out 2>err &&
	test_grep "^ignore file: app/.dockerignore (7 patterns)" out &&
	test_grep "^warning: <stdin>:3: COPY source .docs. is excluded by app/.dockerignore:8" err &&
	test_grep "^warning: <stdin>:3: COPY source .node_modules. is excluded by app/.dockerignore:3" err &&
	! grep "<stdin>:2" err
'

test_expect_success 'a Dockerfile kiln build would reject is an error' '
	printf "FROM busybox\nCOPY https://example.com/x /x\n" >Url.Dockerfile &&
	test_expect_code 1 kiln context -f Url.Dockerfile app 2>err &&
	test_grep "Url.Dockerfile:2: source can.t be a URL for COPY" err
'

test_done
