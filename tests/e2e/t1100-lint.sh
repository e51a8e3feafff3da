#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln lint: the corpus of realistic Dockerfiles (tests/lint-corpus) gives
# exactly its expected findings; exit statuses, stdin, several files,
# pragmas, configuration files and flags, the context rules, ShellCheck and
# the output formats.
. "$(dirname "$0")/test-lib.sh"

CORPUS="$KILN_SOURCE_ROOT/tests/lint-corpus"

# Runs kiln and accepts exit 0 or 1 (findings); anything else fails.
test_might_fail() {
	"$@"
	ec=$?
	if [ $ec -gt 1 ]; then
		echo >&2 "exit $ec: $*"
		return 1
	fi
	return 0
}

# "line rule" per finding, as the expected files list them
findings() {
	jq -r '.[] | "\(.line) \(.code)"'
}

# "file rule message" of each KL1004 and KL1005 finding
kl1004_5() {
	jq -r '.[] | select(.code | test("KL100[45]")) | "\(.file) \(.code) \(.message)"'
}

test_expect_success 'setup: a copy of the corpus' '
	cp -R "$CORPUS" corpus
'

for d in node-express node-multistage dotnet-api go-cli python-fastapi java-spring vue-static; do
	test_expect_success "corpus $d gives its expected findings" "
		test_might_fail kiln lint --no-shellcheck -f json corpus/$d/Dockerfile >out.json &&
		findings <out.json >got &&
		test_cmp corpus/$d/expected got
	"
done

for s in api web; do
	test_expect_success "corpus monorepo service $s (context at the root)" "
		cd corpus/monorepo &&
		test_might_fail kiln lint --no-shellcheck --context . -f json services/$s/Dockerfile >out.json &&
		findings <out.json >got &&
		test_cmp expected-$s got
	"
done

test_expect_success 'exit 1 when a finding reaches the threshold (info by default)' '
	test_expect_code 1 kiln lint --no-shellcheck corpus/go-cli/Dockerfile >out &&
	test_grep "Dockerfile:7:1 DL3007 warning: " out
'

test_expect_success '--failure-threshold, --no-fail and none' '
	test_expect_code 0 kiln lint --no-shellcheck -t error corpus/go-cli/Dockerfile >/dev/null &&
	test_expect_code 1 kiln lint --no-shellcheck -t warning corpus/go-cli/Dockerfile >/dev/null &&
	test_expect_code 0 kiln lint --no-shellcheck --failure-threshold none corpus/go-cli/Dockerfile >/dev/null &&
	test_expect_code 0 kiln lint --no-shellcheck --no-fail corpus/go-cli/Dockerfile >/dev/null &&
	test_expect_code 0 kiln lint --no-shellcheck -t info corpus/node-multistage/Dockerfile >/dev/null
'

test_expect_success 'stdin and several files at once' '
	test_might_fail kiln lint --no-shellcheck - <corpus/go-cli/Dockerfile >out &&
	test_grep "^<stdin>:7:1 DL3007" out &&
	test_expect_code 1 kiln lint --no-shellcheck -f json corpus/go-cli/Dockerfile corpus/java-spring/Dockerfile >out.json &&
	jq -r ".[].file" out.json | sort -u >files &&
	printf "corpus/go-cli/Dockerfile\ncorpus/java-spring/Dockerfile\n" >expect &&
	test_cmp expect files
'

test_expect_success 'many files at once: the findings of each file alone, in the order given' '
	mkdir par && n=0 &&
	for f in "$KILN_SOURCE_ROOT"/bench/lint/corpus/*.Dockerfile corpus/*/Dockerfile; do
		for k in 1 2; do
			n=$((n + 1)) && cp "$f" par/$n.Dockerfile || exit 1
		done
	done &&
	test "$n" -ge 80 &&
	files=$(ls par/*.Dockerfile | sort -t/ -k2 -n) &&
	for f in $files; do
		test_might_fail kiln lint --no-shellcheck -f json "$f" >one.json &&
		jq -c ".[]" one.json >>alone || exit 1
	done &&
	test_might_fail kiln lint --no-shellcheck -f json $files >all.json &&
	jq -c ".[]" all.json >together &&
	test $(wc -l <alone) -gt 400 &&
	test_cmp alone together
'

test_expect_success 'tty over several batches: each file alone; the exit status of them all' '
	files=$(ls par/*.Dockerfile | sort -t/ -k2 -n) &&
	for f in $files; do
		test_might_fail kiln lint --no-shellcheck "$f" >>alone.tty || exit 1
	done &&
	test_might_fail kiln lint --no-shellcheck $files >together.tty &&
	test_cmp alone.tty together.tty &&
	mkdir clean && n=0 &&
	while [ $n -lt 150 ]; do
		n=$((n + 1)) &&
		printf "FROM scratch\nCOPY a /a\n" >clean/$n.Dockerfile || exit 1
	done &&
	kiln lint --no-shellcheck clean/*.Dockerfile >clean.out &&
	test ! -s clean.out &&
	printf "FROM debian\nRUN cd /x\n" >clean/zz-last.Dockerfile &&
	test_expect_code 1 kiln lint --no-shellcheck clean/*.Dockerfile >last.out &&
	test_grep "^clean/zz-last.Dockerfile:2:1 DL3003" last.out &&
	cp clean/zz-last.Dockerfile clean/0-first.Dockerfile &&
	rm clean/zz-last.Dockerfile &&
	test_expect_code 1 kiln lint --no-shellcheck clean/*.Dockerfile >first.out &&
	test_grep "^clean/0-first.Dockerfile:2:1 DL3003" first.out
'

test_expect_success 'usage errors and unreadable files exit 2' '
	test_expect_code 2 kiln lint --no-such-flag Dockerfile 2>err &&
	test_expect_code 2 kiln lint -f yaml corpus/go-cli/Dockerfile 2>err &&
	test_grep "unknown format" err &&
	test_expect_code 2 kiln lint -t fatal corpus/go-cli/Dockerfile 2>err &&
	test_expect_code 2 kiln lint --require-label author corpus/go-cli/Dockerfile 2>err &&
	test_expect_code 2 kiln lint --no-shellcheck missing/Dockerfile 2>err &&
	test_grep "missing/Dockerfile" err &&
	test_expect_code 2 kiln lint --no-shellcheck missing/Dockerfile \
		corpus/java-spring/Dockerfile >out 2>err &&
	test_grep "reading missing/Dockerfile: " err &&
	test_grep "^corpus/java-spring/Dockerfile:[0-9]" out &&
	test_expect_code 2 kiln lint --no-shellcheck corpus/go-cli/Dockerfile corpus >out 2>err &&
	test_grep "reading corpus: " err &&
	test_grep "^corpus/go-cli/Dockerfile:[0-9]" out
'

test_expect_success 'a Dockerfile that does not parse is a KL0001 finding with its line' '
	printf "FROM a:1\nENV ONLYKEY\n" >Bad.Dockerfile &&
	test_expect_code 1 kiln lint --no-shellcheck Bad.Dockerfile >out &&
	test_grep "^Bad.Dockerfile:2:1 KL0001 error: " out
'

test_expect_success 'inline, global and BuildKit-style pragmas' '
	mkdir pr && cd pr &&
	printf "FROM debian:12@sha256:%s\n# hadolint ignore=DL3003\nRUN cd /x\n# kiln ignore=DL3003\nRUN cd /y\n\nRUN cd /z\nUSER 1000\n" \
		"$(printf %064d 0)" >Dockerfile &&
	test_might_fail kiln lint --no-shellcheck -f json >out.json &&
	findings <out.json >got &&
	printf "5 DL3059\n7 DL3003\n7 DL3059\n" >expect &&
	test_cmp expect got &&
	printf "# hadolint global ignore=DL3003,DL3059\n" | cat - Dockerfile >G.Dockerfile &&
	test_expect_code 0 kiln lint --no-shellcheck G.Dockerfile &&
	test_expect_code 1 kiln lint --no-shellcheck --disable-ignore-pragma G.Dockerfile >/dev/null
'

test_expect_success 'configuration: ./.hadolint.yaml, XDG, --config, flags on top' '
	mkdir cf && cd cf &&
	printf "FROM debian:12\nRUN cd /x\nUSER 1000\n" >Dockerfile &&
	test_expect_code 1 kiln lint --no-shellcheck >/dev/null &&
	printf "ignored:\n  - DL3003\n  - KL1010\n" >.hadolint.yaml &&
	test_expect_code 0 kiln lint --no-shellcheck &&
	printf "failure-threshold: warning\noverride:\n  info: [DL3003]\n" >other.yaml &&
	test_expect_code 0 kiln lint --no-shellcheck --config other.yaml >out &&
	test_grep "DL3003 info" out &&
	test_expect_code 1 kiln lint --no-shellcheck --config other.yaml --error DL3003 >out &&
	test_grep "DL3003 error" out &&
	rm .hadolint.yaml && mkdir -p "$HOME/.config" &&
	printf "ignored: [DL3003, KL1010]\n" >"$HOME/.config/hadolint.yaml" &&
	test_expect_code 0 kiln lint --no-shellcheck &&
	printf "ignored: [DL3003]\n" >.kiln-lint.yaml &&
	test_expect_code 0 kiln lint --no-shellcheck >out &&
	test_grep KL1010 out &&
	rm "$HOME/.config/hadolint.yaml"
'

test_expect_success 'hadolint'"'"'s HADOLINT_* environment: over the file, under the flags' '
	mkdir he && cd he &&
	printf "FROM debian:12\nRUN cd /x\nLABEL Bad=1\nUSER 1000\n" >Dockerfile &&
	printf "ignored: [KL1010]\n" >.hadolint.yaml &&
	(export HADOLINT_IGNORE=DL3003,DL3048 &&
		test_expect_code 0 kiln lint --no-shellcheck >out) &&
	test ! -s out &&
	(export HADOLINT_IGNORE=DL3048 HADOLINT_OVERRIDE_ERROR=DL3003 HADOLINT_FORMAT=gnu &&
		test_expect_code 1 kiln lint --no-shellcheck >out) &&
	echo "kiln:Dockerfile:2: DL3003 error: RUN changes directory with cd: use WORKDIR /x instead" \
		>expect &&
	test_cmp expect out &&
	(export HADOLINT_FAILURE_THRESHOLD=error &&
		test_expect_code 0 kiln lint --no-shellcheck >/dev/null &&
		test_expect_code 1 kiln lint --no-shellcheck -t warning >/dev/null) &&
	(export HADOLINT_NOFAIL=Yes && test_expect_code 0 kiln lint --no-shellcheck >/dev/null) &&
	(export HADOLINT_NOFAIL=0 HADOLINT_FORMAT=nonsense &&
		test_expect_code 1 kiln lint --no-shellcheck >out) &&
	test_grep "DL3003 warning" out &&
	(export HADOLINT_REQUIRE_LABELS=org.opencontainers.image.source:url,junk &&
		test_might_fail kiln lint --no-shellcheck >out) &&
	test_grep "DL3049 info: label org.opencontainers.image.source is missing" out
'

test_expect_success 'a bad configuration exits 2 and names file:line' '
	mkdir bc && cd bc &&
	printf "FROM debian:12\n" >Dockerfile &&
	printf "ignored: [DL3003]\noverride:\n  fatal: [DL3003]\n" >.hadolint.yaml &&
	test_expect_code 2 kiln lint --no-shellcheck 2>err &&
	test_grep "\.hadolint\.yaml:3: " err
'

test_expect_success 'label schema and trusted registries from the command line' '
	printf "FROM evil.io/base:1\nLABEL version=1.02 license=MIT\n" >L.Dockerfile &&
	test_might_fail kiln lint --no-shellcheck -f json --require-label version:semver \
		--require-label license:spdx --require-label author:email \
		--trusted-registry ghcr.io --strict-labels L.Dockerfile >out.json &&
	jq -r ".[].code" out.json | sort -u >got &&
	test_grep -x DL3026 got && test_grep -x DL3056 got && test_grep -x DL3049 got &&
	! grep -qx DL3054 got
'

test_expect_success 'context rules: .dockerignore missing or incomplete, secrets sent' '
	mkdir -p corpus/dotnet-api/.git corpus/go-cli/node_modules/x &&
	test_might_fail kiln lint --no-shellcheck -f json corpus/dotnet-api/Dockerfile >out.json &&
	jq -r ".[] | select(.code == \"KL1005\") | .message" out.json >msg &&
	test_grep "does not exclude .git" msg &&
	test_might_fail kiln lint --no-shellcheck -f json corpus/go-cli/Dockerfile >out.json &&
	jq -r ".[].code" out.json >codes &&
	test_grep -x KL1005 codes &&
	test_might_fail kiln lint --no-shellcheck --no-context -f json corpus/node-express/Dockerfile >out.json &&
	jq -r ".[].code" out.json >codes &&
	! grep -qx KL1004 codes && ! grep -qx KL1007 codes &&
	printf ".env\nnode_modules\n" >corpus/node-express/Dockerfile.dockerignore &&
	test_might_fail kiln lint --no-shellcheck -f json corpus/node-express/Dockerfile >out.json &&
	jq -r ".[].code" out.json >codes &&
	! grep -qx KL1004 codes && ! grep -qx KL1007 codes
'

test_expect_success 'context rules over many files of one context: each file its own ignore file' '
	mkdir many && printf "KEY=1\n" >many/.env && printf "secret\n" >many/id_rsa &&
	printf ".git\nnode_modules\n" >many/.dockerignore &&
	i=0 && while [ $i -lt 70 ]; do
		printf "FROM alpine:3.20\nCOPY . /app\n" >many/d$i.Dockerfile && i=$((i + 1)) || exit 1
	done &&
	printf "FROM alpine:3.20\nCOPY . /app\n" >many/safe.Dockerfile &&
	printf ".env\nid_rsa\n" >many/safe.Dockerfile.dockerignore &&
	test_might_fail kiln lint --no-shellcheck -f json many/safe.Dockerfile many/d*.Dockerfile \
		>out.json &&
	jq -r ".[] | select(.code == \"KL1007\") | .file" out.json | sort | uniq -c |
		awk "{ print \$1 }" | sort -u >counts &&
	echo 1 >expect && test_cmp expect counts &&
	jq -r ".[] | select(.code == \"KL1007\") | .file" out.json | sort -u | wc -l >n &&
	echo 70 >expect && test_cmp expect n &&
	! jq -r ".[] | select(.code == \"KL1007\") | .file" out.json | grep -q safe &&
	jq -r ".[] | select(.code == \"KL1007\" and .file == \"many/d69.Dockerfile\") | .message" \
		out.json >msg &&
	test_grep "\.env" msg && test_grep id_rsa msg
'

test_expect_success 'context rules over many files: each directory and ignore file its own answer' '
	mkdir -p ctxa/.git ctxb/node_modules && printf "KEY=1\n" >ctxa/.env &&
	printf ".git\n" >ctxa/.dockerignore &&
	for d in ctxa ctxb; do
		i=0 && while [ $i -lt 20 ]; do
			printf "FROM alpine:3.20\nCOPY . /app\n" >$d/d$i.Dockerfile &&
				i=$((i + 1)) || exit 1
		done || exit 1
	done &&
	printf "FROM alpine:3.20\nCOPY . /app\n" >ctxa/own.Dockerfile &&
	printf ".git\n.env\n" >ctxa/own.Dockerfile.dockerignore &&
	test_might_fail kiln lint --no-shellcheck -f json ctxa/*.Dockerfile ctxb/*.Dockerfile \
		>out.json &&
	kl1004_5 <out.json | sort >got &&
	: >expect &&
	for f in ctxa/*.Dockerfile ctxb/*.Dockerfile; do
		test_might_fail kiln lint --no-shellcheck -f json $f >one.json &&
		kl1004_5 <one.json >>expect || exit 1
	done &&
	sort expect >expect.sorted && test_cmp expect.sorted got &&
	grep -c "^ctxa/d[0-9]*.Dockerfile KL1005 ctxa/.dockerignore does not exclude .env," got \
		>n &&
	echo 20 >want && test_cmp want n &&
	grep -c "^ctxb/d[0-9]*.Dockerfile KL1004 .*sends node_modules" got >n &&
	test_cmp want n &&
	! grep -q "^ctxa/own" got
'

test_expect_success SHELLCHECK 'ShellCheck findings come back at their Dockerfile lines' '
	mkdir sc && cd sc &&
	printf "FROM debian:12\nUSER 1000\nRUN echo \$1\nRUN <<EOF\nset -e\nls \$HOME/\$2\nEOF\nSHELL [\"/bin/bash\", \"-c\"]\nRUN [[ -n \$3 ]] && echo \$3\n" >Dockerfile &&
	test_might_fail kiln lint -f json --ignore KL1010 --ignore DL3059 >out.json &&
	findings <out.json >got &&
	printf "3 SC2086\n6 SC2086\n6 SC2086\n9 SC2086\n" >expect &&
	test_cmp expect got
'

test_expect_success SHELLCHECK 'several files share ShellCheck; findings go to their own file' '
	mkdir scm && cd scm &&
	printf "FROM debian:12\nRUN echo \$1\n" >A &&
	printf "FROM debian:12\nSHELL [\"/bin/bash\", \"-c\"]\nRUN echo ok\nRUN <<EOF\nls \$2\nEOF\n" >B &&
	printf "FROM x\nENV\n" >C &&
	test_might_fail kiln lint --no-context -f json A B C >out.json &&
	jq -r ".[] | select(.code | startswith(\"SC\") or . == \"KL0001\") | \"\(.file) \(.line) \(.column) \(.code)\"" out.json >got &&
	printf "A 2 1 SC2086\nB 5 4 SC2086\nC 2 1 KL0001\n" >expect &&
	test_cmp expect got
'

test_expect_success SHELLCHECK 'ShellCheck findings keep their fingerprints beside other files' '
	mkdir scfp && cd scfp &&
	cp "$KILN_SOURCE_ROOT/bench/lint/corpus/official-db-style.Dockerfile" X && cp X Y &&
	test_might_fail kiln lint --no-context -f json X >alone.json &&
	test_might_fail kiln lint --no-context -f json X Y >both.json &&
	jq -r ".[] | select(.code | startswith(\"SC\")) | \"\(.line) \(.code) \(.fingerprint)\"" \
		alone.json >alone &&
	jq -r ".[] | select((.code | startswith(\"SC\")) and .file == \"X\") |
		\"\(.line) \(.code) \(.fingerprint)\"" both.json >both &&
	test "$(wc -l <alone)" -gt 3 &&
	test_cmp alone both
'

test_expect_success SHELLCHECK 'many scripts of one dialect: each finding once, at its file and line' '
	mkdir scp && cd scp &&
	i=0 && while [ $i -lt 40 ]; do
		printf "FROM debian:12\nRUN echo ok\nRUN echo \$%d\nRUN cd /tmp\n" $((i % 9 + 1)) >D$i ||
			exit 1
		i=$((i + 1))
	done &&
	test_might_fail kiln lint --no-context -f json D* >out.json &&
	jq -r ".[] | select(.code == \"SC2086\") | \"\(.file) \(.line)\"" out.json | sort >got &&
	for f in D*; do echo "$f 3"; done | sort >expect &&
	test_cmp expect got
'

test_expect_success 'a shellcheck that fails or writes garbage: notes, no findings, no failure' '
	mkdir scf && cd scf &&
	printf "#!/bin/sh\nexit 3\n" >sc-fails && chmod +x sc-fails &&
	printf "#!/bin/sh\necho not json\n" >sc-garbage && chmod +x sc-garbage &&
	printf "FROM debian:12@sha256:%s\nUSER 1000\nRUN echo \$1\n" "$(printf %064d 0)" >A &&
	cp A B &&
	test_expect_code 0 kiln lint --no-context --shellcheck ./sc-fails -f json A B >out.json 2>err &&
	test_grep "note: A: shellcheck (./sc-fails) failed (exit 3): RUN scripts were not checked" err &&
	test_grep "note: B: shellcheck (./sc-fails) failed (exit 3)" err &&
	test "$(grep -c "note: A:" err)" = 1 &&
	! jq -r ".[].code" out.json | grep -q "^SC" &&
	test_expect_code 0 kiln lint --no-context --shellcheck ./sc-garbage A 2>err &&
	test_grep "note: A: shellcheck gave output kiln cannot read" err
'

test_expect_success SHELLCHECK 'shellcheck failing for one dialect: its files are noted, the others checked or noted' '
	mkdir scd && cd scd &&
	printf "#!/bin/sh\ncase \" \$* \" in *\" -s sh \"*) exit 4 ;; esac\nexec shellcheck \"\$@\"\n" \
		>sc-no-sh && chmod +x sc-no-sh &&
	i=0 && while [ $i -lt 20 ]; do
		printf "FROM debian:12\nRUN echo \$1\n" >S$i || exit 1
		i=$((i + 1))
	done &&
	printf "FROM debian:12\nSHELL [\"/bin/bash\", \"-c\"]\nRUN echo \$1\n" >Z &&
	test_might_fail kiln lint --no-context --shellcheck ./sc-no-sh -f json S* Z >out.json 2>err &&
	for f in S*; do test_grep "note: $f: shellcheck (./sc-no-sh) failed" err || exit 1; done &&
	! jq -r ".[] | select(.file != \"Z\") | .code" out.json | grep -q "^SC" &&
	if ! grep -q "note: Z:" err; then
		jq -r ".[] | select(.file == \"Z\") | .code" out.json | grep -qx SC2086
	else
		test_grep "note: Z: shellcheck (./sc-no-sh) failed on other scripts" err
	fi
'

test_expect_success 'without shellcheck: one note, no failure' '
	printf "FROM debian:12@sha256:%s\nUSER 1000\nRUN echo \$1\n" "$(printf %064d 0)" >N.Dockerfile &&
	test_expect_code 0 kiln lint --shellcheck /nonexistent/shellcheck N.Dockerfile 2>err &&
	test_grep "note: /nonexistent/shellcheck not found" err
'

test_expect_success 'checkstyle is well-formed XML (--file-path-in-report names its file); codeclimate fingerprints are stable' '
	printf "FROM a\nRUN echo \"<&>\" | cat\n" >X.Dockerfile &&
	test_might_fail kiln lint --no-shellcheck -f checkstyle X.Dockerfile >out.xml &&
	python3 -c "import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); print(len(d.getElementsByTagName(\"error\")))" out.xml >n &&
	test "$(cat n)" -gt 2 &&
	test_might_fail kiln lint --no-shellcheck -V -f checkstyle --file-path-in-report /src/Dockerfile \
		X.Dockerfile >out.xml 2>err &&
	test_grep "<file name=\"/src/Dockerfile\">" out.xml && test_grep "^configuration: " err &&
	test_might_fail kiln lint --no-shellcheck -f gitlab_codeclimate X.Dockerfile >c1.json &&
	printf "\n\n" | cat - X.Dockerfile >Y && mv Y X.Dockerfile &&
	test_might_fail kiln lint --no-shellcheck -f gitlab_codeclimate X.Dockerfile >c2.json &&
	jq -r ".[].fingerprint" c1.json >f1 && jq -r ".[].fingerprint" c2.json >f2 &&
	test_cmp f1 f2 &&
	jq -r ".[0].location.lines.begin" c2.json >line && test "$(cat line)" = 3
'

test_expect_success JQ 'gnu, codacy, sonarqube and codeclimate: hadolint'"'"'s other formats' '
	printf "FROM debian:12\nRUN cd /x\nLABEL Bad=1\n" >F.Dockerfile &&
	test_might_fail kiln lint --no-shellcheck --no-context -f gnu F.Dockerfile >out.gnu &&
	test_grep "^kiln:F.Dockerfile:2: DL3003 warning: " out.gnu &&
	test_might_fail kiln lint --no-shellcheck --no-context -f codacy F.Dockerfile >out.codacy &&
	jq -r "select(.patternId == \"DL3048\") | \"\(.filename) \(.line)\"" out.codacy >got &&
	echo "F.Dockerfile 3" >expect && test_cmp expect got &&
	test "$(wc -l <out.codacy)" = "$(wc -l <out.gnu)" &&
	test_might_fail kiln lint --no-shellcheck --no-context -f sonarqube F.Dockerfile >out.sq &&
	jq -r ".issues[] | select(.ruleId == \"DL3003\") | \"\(.severity) \(.type) \(.primaryLocation.textRange.startLine)\"" \
		out.sq >got &&
	echo "MAJOR CODE_SMELL 2" >expect && test_cmp expect got &&
	test_might_fail kiln lint --no-shellcheck --no-context -f codeclimate F.Dockerfile >out.cc &&
	tr "\\000" "\\n" <out.cc | jq -r "select(.check_name == \"DL3003\") | .severity" >got &&
	echo major >expect && test_cmp expect got &&
	test "$(tr -cd "\\000" <out.cc | wc -c)" = "$(wc -l <out.gnu)"
'

test_expect_success '--build-arg: base images and the checks see build args' '
	printf "ARG IMAGE\nFROM \$IMAGE\nUSER 1000\n" >B.Dockerfile &&
	test_might_fail kiln lint --no-shellcheck --no-context -f json B.Dockerfile >b0.json &&
	jq -r ".[].code" b0.json >codes0 &&
	test_grep "^KL0001$" codes0 &&
	test_might_fail kiln lint --no-shellcheck --no-context -f json --build-arg IMAGE=alpine:latest \
		B.Dockerfile >b1.json &&
	jq -r ".[].code" b1.json >codes1 &&
	! grep -q "^KL0001$" codes1 &&
	test_grep "^DL3007$" codes1 &&
	test_grep "^InvalidDefaultArgInFrom$" codes1 &&
	IMAGE=alpine:3.19 test_might_fail kiln lint --no-shellcheck --no-context -f json \
		--build-arg IMAGE B.Dockerfile >b2.json &&
	jq -r ".[].code" b2.json >codes2 &&
	! grep -q "^DL3007$" codes2 &&
	! grep -q "^KL0001$" codes2 &&
	test_expect_code 2 kiln lint --build-arg =x B.Dockerfile
'

test_expect_success 'BUILDKIT_DOCKERFILE_CHECK replaces the check directive, for suppression too' '
	printf "# check=skip=all\nFROM scratch as base\ncopy x .\n" >C.Dockerfile &&
	test_might_fail kiln lint --no-shellcheck --no-context -f json C.Dockerfile >c0.json &&
	test "$(jq "[.[] | select(.code == \"FromAsCasing\")] | length" c0.json)" = 0 &&
	test_might_fail kiln lint --no-shellcheck --no-context -f json \
		--build-arg "BUILDKIT_DOCKERFILE_CHECK=skip=ConsistentInstructionCasing;error=true" \
		C.Dockerfile >c1.json &&
	jq -r ".[] | select(.code == \"FromAsCasing\") | .level" c1.json >lvl &&
	test "$(cat lvl)" = error &&
	test "$(jq "[.[] | select(.code == \"ConsistentInstructionCasing\")] | length" c1.json)" = 0
'

test_expect_success JQ 'the stacks corpus (bench/lint/corpus): every file linted in every format, findings on the right files' '
	n=0 &&
	for f in "$KILN_SOURCE_ROOT"/bench/lint/corpus/*.Dockerfile; do
		n=$((n + 1)) &&
		for fmt in tty json sarif checkstyle gitlab_codeclimate; do
			test_might_fail kiln lint --no-shellcheck --no-context -f $fmt "$f" >out.$fmt || return 1
		done &&
		jq -e "type == \"array\"" out.json >/dev/null &&
		jq -e ".runs[0].tool.driver.name" out.sarif >/dev/null &&
		jq -r ".[] | .file" out.json | sort -u >files &&
		{ test ! -s files || test "$(cat files)" = "$f"; } || return 1
	done &&
	test $n -ge 30
'

test_expect_success '--list-rules names every DL code and the KL codes' '
	kiln lint --list-rules >rules &&
	test "$(grep -c "^DL" rules)" = 71 &&
	test_grep "^KL1003 " rules
'

test_done
