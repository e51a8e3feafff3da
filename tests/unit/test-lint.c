/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln lint: every rule has Dockerfiles on which it must fire and ones on
 * which it must not (table below), plus pragmas, configuration, output
 * formats and allocation failures. The lint's helpers are tested in
 * test-lint-helpers.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/lint-internal.h"
#include "analyze/lint.h"
#include "tap.h"

struct rule_case {
	const char *rule;
	int fires;
	const char *df;
	const char *config; /* YAML, or NULL */
};

#define F 1
#define NF 0

static const struct rule_case cases[] = {
	/* DL1001 is off by default; the config turns it on */
	{ "DL1001", F, "FROM a:1\n# hadolint ignore=DL3003\nRUN cd /x\n", "override:\n  warning: [DL1001]\n" },
	{ "DL1001", NF, "FROM a:1\n# hadolint ignore=DL3003\nRUN cd /x\n", NULL },
	{ "DL3000", F, "FROM a:1\nWORKDIR app\n", NULL },
	{ "DL3000", NF, "FROM a:1\nWORKDIR /app\nWORKDIR $HOME\nWORKDIR \"/q\"\nWORKDIR C:\\\\w\n", NULL },
	{ "DL3001", F, "FROM a:1\nRUN service nginx start\n", NULL },
	{ "DL3001", NF, "FROM a:1\nRUN echo ps top\n", NULL },
	{ "DL3002", F, "FROM a:1\nUSER root\n", NULL },
	{ "DL3002", F, "FROM a:1\nUSER 0:0\n", NULL },
	{ "DL3002", NF, "FROM a:1\nUSER root\nRUN x\nUSER app\n", NULL },
	{ "DL3003", F, "FROM a:1\nRUN cd /usr/src && make\n", NULL },
	{ "DL3003", NF, "FROM a:1\nWORKDIR /usr/src\nRUN make\n", NULL },
	{ "DL3004", F, "FROM a:1\nRUN sudo apt-get -y install x=1\n", NULL },
	{ "DL3004", NF, "FROM a:1\nRUN echo sudo\n", NULL },
	{ "DL3006", F, "FROM debian\n", NULL },
	{ "DL3006", NF, "FROM debian:12\nFROM scratch\nFROM debian@sha256:0000000000000000000000000000000000000000000000000000000000000000\n", NULL },
	{ "DL3006", NF, "FROM debian:12 AS base\nFROM base\n", NULL },
	{ "DL3006", F, "ARG IMG=debian\nFROM $IMG\n", NULL },
	{ "DL3007", F, "FROM debian:latest\n", NULL },
	{ "DL3007", NF, "FROM debian:12-slim\n", NULL },
	{ "DL3007", NF, "FROM debian:latest@sha256:0000000000000000000000000000000000000000000000000000000000000000\n", NULL },
	{ "DL3006", NF, "ARG IMG\nFROM ${IMG}\n", NULL },
	{ "KL1010", NF, "ARG IMG\nFROM ${IMG}\n", NULL },
	{ "DL3008", F, "FROM a:1\nRUN apt-get install -y --no-install-recommends curl\n", NULL },
	{ "DL3008", NF, "FROM a:1\nRUN apt-get install -y --no-install-recommends curl=7.1 ./x.deb -t bookworm-backports\n", NULL },
	{ "DL3009", F, "FROM a:1\nRUN apt-get update && apt-get install -y x=1\n", NULL },
	{ "DL3009", NF, "FROM a:1\nRUN apt-get update && apt-get install -y x=1 && rm -rf /var/lib/apt/lists/*\n", NULL },
	{ "DL3009", NF, "FROM a:1\nRUN --mount=type=cache,target=/var/lib/apt/lists apt-get update\n", NULL },
	{ "DL3009", NF, "FROM a:1 AS build\nRUN apt-get update\nFROM b:1\nCOPY --from=build /x /x\n", NULL },
	{ "DL3010", F, "FROM a:1\nCOPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz\n", NULL },
	{ "DL3010", NF, "FROM a:1\nCOPY app.tar.gz /tmp/\nRUN ls /tmp/app.tar.gz\n", NULL },
	/* an extension whose second byte is an archive's (.txt, .bzz) or not (.json, .) */
	{ "DL3010", F, "FROM a:1\nCOPY a.Z /tmp/\nRUN tar -xf /tmp/a.Z\n", NULL },
	{ "DL3010", NF, "FROM a:1\nCOPY a.txt a.bzz . /t/\nRUN tar -xf /t/a.txt /t/a.bzz\n", NULL },
	{ "DL3010", NF, "FROM a:1\nCOPY a.json . /t/\nRUN tar -xf /t/a.json\n", NULL },
	{ "DL3011", F, "FROM a:1\nEXPOSE 80 70000\n", NULL },
	{ "DL3011", NF, "FROM a:1\nEXPOSE 80/tcp 8000-8010 $PORT\n", NULL },
	{ "DL3012", F, "FROM a:1\nHEALTHCHECK CMD a\nHEALTHCHECK CMD b\n", NULL },
	{ "DL3012", NF, "FROM a:1\nHEALTHCHECK CMD a\nFROM b:1\nHEALTHCHECK CMD b\n", NULL },
	{ "DL3013", F, "FROM a:1\nRUN pip install --no-cache-dir flask\n", NULL },
	{ "DL3013", NF, "FROM a:1\nRUN pip install --no-cache-dir flask==3.0 -r req.txt\n", NULL },
	{ "DL3013", NF, "FROM a:1\nRUN pip3 install --no-cache-dir . ./dist/x.whl 'a>=1' git+https://h/r@v1\n", NULL },
	{ "DL3013", F, "FROM a:1\nRUN python3 -m pip install --no-cache-dir requests\n", NULL },
	{ "DL3014", F, "FROM a:1\nRUN apt-get install --no-install-recommends x=1\n", NULL },
	{ "DL3014", NF, "FROM a:1\nRUN apt-get -qq install --no-install-recommends x=1 && apt-get install --yes --no-install-recommends y=1\n", NULL },
	{ "DL3015", F, "FROM a:1\nRUN apt-get install -y x=1\n", NULL },
	{ "DL3015", NF, "FROM a:1\nRUN apt-get install -y -o APT::Install-Recommends=false x=1\n", NULL },
	{ "DL3016", F, "FROM a:1\nRUN npm install express\n", NULL },
	{ "DL3016", NF, "FROM a:1\nRUN npm install && npm install express@4 @scope/x@1 ./local git+https://h/r.git#v1 x.tgz\n", NULL },
	{ "DL3016", F, "FROM a:1\nRUN npm install -g @angular/cli\n", NULL },
	/* hadolint reads npm install only, and a URL needs a tarball's name */
	{ "DL3016", NF, "FROM a:1\nRUN npm i -g @angular/cli\n", NULL },
	{ "DL3016", F, "FROM a:1\nRUN npm install https://example.com/x\n", NULL },
	{ "DL3018", F, "FROM a:1\nRUN apk add --no-cache curl\n", NULL },
	{ "DL3018", NF, "FROM a:1\nRUN apk add --no-cache curl=8.5.0-r0 'b~1.2' --virtual .deps\n", NULL },
	{ "DL3019", F, "FROM a:1\nRUN apk add curl=1\n", NULL },
	{ "DL3019", NF, "FROM a:1\nRUN apk add --no-cache curl=1\nRUN --mount=type=cache,target=/var/cache/apk apk add x=1\n", NULL },
	{ "DL3020", F, "FROM a:1\nADD src /app/\n", NULL },
	{ "DL3020", NF, "FROM a:1\nADD https://e.com/x /x\nADD a.tar.gz /opt/\n", NULL },
	{ "DL3021", F, "FROM a:1\nCOPY a b /dir\n", NULL },
	{ "DL3021", NF, "FROM a:1\nCOPY a b /dir/\nCOPY a /file\n", NULL },
	{ "DL3022", F, "FROM a:1\nCOPY --from=builder /x /x\n", NULL },
	{ "DL3022", NF, "FROM a:1 AS builder\nFROM b:1\nCOPY --from=builder /x /x\nCOPY --from=0 /y /y\nCOPY --from=nginx:1 /z /z\n", NULL },
	{ "DL3023", F, "FROM a:1 AS app\nCOPY --from=app /x /y\n", NULL },
	{ "DL3023", NF, "FROM a:1 AS b\nFROM a:1 AS app\nCOPY --from=b /x /y\n", NULL },
	{ "DL3024", F, "FROM a:1 AS x\nFROM b:1 AS X\n", NULL },
	{ "DL3024", NF, "FROM a:1 AS x\nFROM b:1 AS y\n", NULL },
	{ "DL3025", F, "FROM a:1\nCMD node server.js\n", NULL },
	{ "DL3025", F, "FROM a:1\nENTRYPOINT ./run\n", NULL },
	{ "DL3025", NF, "FROM a:1\nCMD [\"node\", \"s.js\"]\n", NULL },
	{ "DL3026", F, "FROM evil.io/x:1\n", "trustedRegistries:\n  - my.registry:5000\n" },
	{ "DL3026", NF, "FROM my.registry:5000/x:1\nFROM scratch\n", "trustedRegistries: [my.registry:5000]\n" },
	{ "DL3026", NF, "FROM evil.io/x:1\n", NULL },
	{ "DL3026", F, "FROM debian:12\n", "trustedRegistries: [ghcr.io]\n" },
	{ "DL3026", NF, "FROM debian:12\n", "trustedRegistries: [docker.io]\n" },
	{ "DL3026", NF, "FROM a.random.com/x:1\nFROM debian:12\n", "trustedRegistries: [\"*\"]\n" },
	{ "DL3026", NF, "FROM a.random.com/x:1\n", "trustedRegistries: [\"*.random.com\"]\n" },
	{ "DL3045", NF, "FROM d:1 AS b1\nWORKDIR /usr\nFROM b1 AS b2\nRUN foo\nFROM b2\nCOPY foo bar\n", NULL },
	{ "DL3016", NF, "FROM a:1\nRUN npm install --loglevel verbose express@4.18.2\n", NULL },
	{ "DL3026", F, "FROM random.com/x:1\n", "trustedRegistries: [\"*.random.com\"]\n" },
	{ "DL3027", F, "FROM a:1\nRUN apt install -y x\n", NULL },
	{ "DL3027", NF, "FROM a:1\nRUN apt-get install -y x=1\n", NULL },
	{ "DL3028", F, "FROM a:1\nRUN gem install rails\n", NULL },
	{ "DL3028", NF, "FROM a:1\nRUN gem install rails:7.1 && gem install -v 1 bundler\n", NULL },
	/* hadolint's spec: "--" ends the gems, an option takes the next word */
	{ "DL3028", NF, "FROM a:1\nRUN gem install bundler:2.0.1 -- --use-system-libraries true\n",
	  NULL },
	{ "DL3028", NF, "FROM a:1\nRUN gem install bundler:2.0.1 --use-system-libraries true\n",
	  NULL },
	{ "DL3028", F, "FROM a:1\nRUN gem i bundler:1 nokogiri\n", NULL },
	{ "DL3029", F, "FROM --platform=linux/amd64 a:1\n", NULL },
	{ "DL3029", NF, "FROM --platform=$BUILDPLATFORM a:1\n", NULL },
	{ "DL3030", F, "FROM a:1\nRUN yum install httpd-2 && yum clean all\n", NULL },
	{ "DL3030", NF, "FROM a:1\nRUN yum install -y httpd-2 && yum clean all\n", NULL },
	{ "DL3032", F, "FROM a:1\nRUN yum install -y httpd-2\n", NULL },
	{ "DL3032", NF, "FROM a:1\nRUN yum install -y httpd-2 && yum clean all\n", NULL },
	{ "DL3033", F, "FROM a:1\nRUN yum install -y httpd && yum clean all\n", NULL },
	{ "DL3033", NF, "FROM a:1\nRUN yum install -y httpd-2.4 x.rpm && yum clean all\n", NULL },
	{ "DL3034", F, "FROM a:1\nRUN zypper install x=1 && zypper clean\n", NULL },
	{ "DL3034", NF, "FROM a:1\nRUN zypper -n install x=1 && zypper clean\n", NULL },
	{ "DL3035", F, "FROM a:1\nRUN zypper -n dist-upgrade\n", NULL },
	{ "DL3035", NF, "FROM a:1\nRUN zypper -n refresh\n", NULL },
	{ "DL3036", F, "FROM a:1\nRUN zypper -n install x=1\n", NULL },
	{ "DL3036", NF, "FROM a:1\nRUN zypper -n install x=1 && zypper clean\n", NULL },
	{ "DL3037", F, "FROM a:1\nRUN zypper -n install x && zypper clean\n", NULL },
	{ "DL3037", NF, "FROM a:1\nRUN zypper -n install 'x>=1' y=2 && zypper clean\n", NULL },
	{ "DL3038", F, "FROM a:1\nRUN dnf install httpd-2.4 && dnf clean all\n", NULL },
	{ "DL3038", NF, "FROM a:1\nRUN dnf install -y httpd-2.4 && dnf clean all\n", NULL },
	{ "DL3040", F, "FROM a:1\nRUN dnf install -y httpd-2.4\n", NULL },
	{ "DL3040", NF, "FROM a:1\nRUN microdnf install -y httpd-2.4 && microdnf clean all\n", NULL },
	{ "DL3041", F, "FROM a:1\nRUN dnf install -y httpd && dnf clean all\n", NULL },
	{ "DL3041", F, "FROM a:1\nRUN dnf install -y python3-pip && dnf clean all\n", NULL },
	{ "DL3041", NF, "FROM a:1\nRUN dnf install -y httpd-2.4.57 && dnf clean all\n", NULL },
	{ "DL3042", F, "FROM a:1\nRUN pip install x==1\n", NULL },
	{ "DL3042", NF, "FROM a:1\nENV PIP_NO_CACHE_DIR=1\nRUN pip install x==1\n", NULL },
	{ "DL3042", NF, "FROM a:1\nRUN PIP_NO_CACHE_DIR=true pip install x==1 && pip install --no-cache-dir y==2\n", NULL },
	{ "DL3042", NF, "FROM a:1 AS base\nENV PIP_NO_CACHE_DIR=yes\nFROM base\nRUN pip install x==1\n", NULL },
	{ "DL3043", F, "FROM a:1\nONBUILD FROM b\n", NULL },
	{ "DL3043", NF, "FROM a:1\nONBUILD RUN x\n", NULL },
	{ "DL3044", F, "FROM a:1\nENV A=1 B=$A\n", NULL },
	{ "DL3044", NF, "FROM a:1\nENV A=1\nENV B=$A PATH=/x:$PATH C=${AB}\n", NULL },
	/* one pair: its own value is never looked at */
	{ "DL3044", NF, "FROM a:1\nENV A=$A\nENV B ${B}x\n", NULL },
	{ "DL3044", F, "FROM a:1\nENV A=$A B=${A}\n", NULL },
	{ "DL3045", F, "FROM a:1\nCOPY a.txt b/\n", NULL },
	{ "DL3045", NF, "FROM a:1\nCOPY a.txt /b/\nWORKDIR /app\nCOPY . .\n", NULL },
	{ "DL3045", NF, "FROM a:1 AS base\nWORKDIR /app\nFROM base\nCOPY . .\n", NULL },
	{ "DL3046", F, "FROM a:1\nRUN useradd -u 123456 app\n", NULL },
	{ "DL3046", NF, "FROM a:1\nRUN useradd -l -u 123456 app && useradd -u 1000 b\n", NULL },
	{ "DL3047", F, "FROM a:1\nRUN wget http://e.com/x\n", NULL },
	{ "DL3047", NF, "FROM a:1\nRUN wget -q http://e/x && wget --progress=dot:giga y && wget -nv z && wget -o log w\n", NULL },
	{ "DL3048", F, "FROM a:1\nLABEL Foo=bar\n", NULL },
	{ "DL3048", F, "FROM a:1\nLABEL com.docker.x=1\n", NULL },
	{ "DL3048", F, "FROM a:1\nLABEL invalid$character=foo\n", NULL },
	{ "DL3048", NF, "FROM a:1\nLABEL org.opencontainers.image.title=x \"maintainer\"=y\n", NULL },
	{ "DL3049", F, "FROM a:1\nLABEL other=1\n", "label-schema:\n  maintainer: text\n" },
	{ "DL3049", NF, "FROM a:1\nLABEL maintainer=me\n", "label-schema:\n  maintainer: text\n" },
	{ "DL3049", NF, "FROM a:1 AS b\nRUN x\nFROM c:1\nCOPY --from=b /x /x\nLABEL maintainer=me\n", "label-schema:\n  maintainer: text\n" },
	{ "DL3049", NF, "FROM a:1 AS base\nFROM base\nLABEL maintainer=me\n", "label-schema:\n  maintainer: text\n" },
	{ "DL3049", NF, "FROM a:1 AS base\nLABEL maintainer=me\nFROM base\n", "label-schema:\n  maintainer: text\n" },
	{ "DL3049", F, "FROM a:1 AS base\nFROM base\nLABEL maintainer=me\nFROM base\n", "label-schema:\n  maintainer: text\n" },
	{ "DL3050", F, "FROM a:1\nLABEL maintainer=me extra=1\n", "label-schema:\n  maintainer: text\nstrict-labels: true\n" },
	{ "DL3050", NF, "FROM a:1\nLABEL maintainer=me extra=1\n", "label-schema:\n  maintainer: text\n" },
	{ "DL3051", F, "FROM a:1\nLABEL maintainer=\"\"\n", "label-schema:\n  maintainer: text\n" },
	{ "DL3051", NF, "FROM a:1\nLABEL maintainer=me\n", "label-schema:\n  maintainer: text\n" },
	{ "DL3052", F, "FROM a:1\nLABEL doc=\"not a url\"\n", "label-schema:\n  doc: url\n" },
	{ "DL3052", NF, "FROM a:1\nLABEL doc=https://e.com/a?b=c\n", "label-schema:\n  doc: url\n" },
	{ "DL3053", F, "FROM a:1\nLABEL created=2024-13-01T00:00:00Z\n", "label-schema:\n  created: rfc3339\n" },
	{ "DL3053", NF, "FROM a:1\nLABEL created=2024-02-29T10:00:00.5+02:00\n", "label-schema:\n  created: rfc3339\n" },
	{ "DL3054", F, "FROM a:1\nLABEL license=Apache-3.0\n", "label-schema:\n  license: spdx\n" },
	{ "DL3054", NF, "FROM a:1\nLABEL license=\"(MIT OR Apache-2.0) AND GPL-2.0-only WITH Classpath-exception-2.0\"\n", "label-schema:\n  license: spdx\n" },
	{ "DL3055", F, "FROM a:1\nLABEL rev=xyz1234\n", "label-schema:\n  rev: hash\n" },
	{ "DL3055", NF, "FROM a:1\nLABEL rev=abc1234\n", "label-schema:\n  rev: hash\n" },
	{ "DL3056", F, "FROM a:1\nLABEL version=1.02.3\n", "label-schema:\n  version: semver\n" },
	{ "DL3056", NF, "FROM a:1\nLABEL version=1.2.3-rc.1+build.5\n", "label-schema:\n  version: semver\n" },
	{ "DL3057", F, "FROM a:1\n", "override:\n  info: [DL3057]\n" },
	{ "DL3057", NF, "FROM a:1\nHEALTHCHECK CMD x\n", "override:\n  info: [DL3057]\n" },
	/* hadolint's spec: a chain that ends with one is all right, a branch without not */
	{ "DL3057", NF,
	  "FROM scratch AS b1\nFROM b1 AS b2\nFROM b2 AS b3\nFROM b3 AS end\nHEALTHCHECK NONE\n",
	  "override:\n  info: [DL3057]\n" },
	{ "DL3057", F,
	  "FROM scratch AS b1\nFROM b1 AS b2\nFROM b2 AS c1\nFROM b2 AS c2\nFROM c1 AS e1\n"
	  "HEALTHCHECK NONE\nFROM c2 AS e2\n",
	  "override:\n  info: [DL3057]\n" },
	{ "DL3057", NF, "FROM scratch AS base\nHEALTHCHECK CMD x\nFROM base\n",
	  "override:\n  info: [DL3057]\n" },
	{ "DL3058", F, "FROM a:1\nLABEL mail=me@\n", "label-schema:\n  mail: email\n" },
	{ "DL3058", NF, "FROM a:1\nLABEL mail=me.you+x@example.com\n", "label-schema:\n  mail: email\n" },
	{ "DL3059", F, "FROM a:1\nRUN a\nRUN b\n", NULL },
	{ "DL3059", NF, "FROM a:1\nRUN a\nWORKDIR /x\nRUN b\nRUN --mount=type=cache,target=/c c\n", NULL },
	{ "DL3059", NF, "FROM a:1\nRUN a && b && c\nRUN d\n", NULL },
	{ "DL3059", NF, "FROM a:1\nRUN a && b\nRUN c\n", NULL },
	{ "DL4006", F, "FROM a:1\nSHELL [\"/bin/sh\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n", NULL },
	{ "DL4006", NF, "FROM a:1\nSHELL [\"/bin/ash\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n", NULL },
	{ "DL3059", NF, "FROM a:1\nRUN a\nRUN b | c\n", NULL },
	{ "DL3060", F, "FROM a:1\nRUN yarn install\n", NULL },
	{ "DL3060", NF, "FROM a:1\nRUN yarn install && yarn cache clean\n", NULL },
	{ "DL3060", NF, "FROM a:1 AS build\nRUN yarn install\nFROM b:1\nCOPY --from=build /x /x\n", NULL },
	{ "DL3009", F, "FROM u:1 AS foo\nONBUILD RUN apt-get update && apt-get install -y x=1\nFROM scratch\n", NULL },
	{ "DL3061", F, "LABEL a=b\nFROM a:1\n", NULL },
	{ "DL3061", NF, "ARG V=1\nFROM a:$V\n", NULL },
	{ "DL3062", F, "FROM a:1\nRUN go install golang.org/x/tools/gopls\n", NULL },
	{ "DL3062", NF, "FROM a:1\nRUN go install golang.org/x/tools/gopls@v0.15.0 && go install ./cmd/...\n", NULL },
	/* hadolint's spec: @latest is no pin; go get and go run; go install tool */
	{ "DL3062", F, "FROM a:1\nRUN go install example.com/pkg@latest\n", NULL },
	{ "DL3062", F, "FROM a:1\nRUN go get -tool foobar\n", NULL },
	{ "DL3062", F, "FROM a:1\nRUN go run example.com/pkg\n", NULL },
	{ "DL3062", F, "FROM a:1\nRUN go install tool foobar\n", NULL },
	{ "DL3062", NF, "FROM a:1\nRUN go install tool foobar@v1.2.3\n", NULL },
	{ "DL3062", NF, "FROM a:1\nRUN go run example.com/pkg@v1.2.3 --foo bar\n", NULL },
	{ "DL3062", NF, "FROM a:1\nRUN go get example.com/pkg@v1.2.3 && go run .\n", NULL },
	{ "DL3063", F, "FROM a:1 AS scratch\n", NULL },
	{ "DL3063", NF, "FROM a:1 AS build\n", NULL },
	{ "DL3064", F, "FROM a:1\nARG GITHUB_TOKEN\n", NULL },
	/* known names (a sorted list scanned up to the first letter), suspicious parts */
	{ "DL3064", F, "FROM a:1\nARG docker_email\n", NULL },
	{ "DL3064", F, "FROM a:1\nARG CI_DEPLOY_USER\n", NULL },
	{ "DL3064", F, "FROM a:1\nARG AWS_ACCESS_KEY_ID\nARG APPLICATION_KEY\n", NULL },
	{ "DL3064", F, "FROM a:1\nARG Vault_Token\n", NULL },
	{ "DL3064", F, "FROM a:1\nARG zz_secret\n", NULL },
	{ "DL3064", NF, "FROM a:1\nARG VERSION\nARG DOCKER_HOST\nARG _x\nARG 9\n", NULL },
	{ "DL3064", F, "FROM a:1\nENV DB_PASSWORD=x\n", NULL },
	/* a part that ends the name, one cut short by its end, a known name one byte short */
	{ "DL3064", F, "FROM a:1\nARG XTOKEN\n", NULL },
	{ "DL3064", NF, "FROM a:1\nARG MY_TOKE\nARG GH_TOKE\nENV NPM_TOKE=1\n", NULL },
	/* known names are found among those with their first letter: same length, not equal */
	{ "DL3064", NF, "FROM a:1\nARG DOCKER_EMAIX\nARG AWS_ACCESS_KEY_IX\nARG Zz\n", NULL },
	{ "DL3064", NF, "FROM a:1\nARG VERSION=1\nENV HOME=/x\n", NULL },
	{ "DL3065", F, "FROM --platform=$TARGETPLATFORM a:1\n", NULL },
	{ "DL3065", NF, "FROM --platform=$BUILDPLATFORM a:1\n", NULL },
	{ "DL3066", F, "FROM a:1\nUSER app\n", NULL },
	{ "DL3066", NF, "FROM a:1\nUSER 1000:1000\nUSER $UID\n", NULL },
	{ "DL3067", F, "FROM a:1 AS b\nFROM c:1\nCOPY --from=b / /\n", NULL },
	{ "DL3067", NF, "FROM a:1 AS b\nFROM c:1\nCOPY --from=b /app /\n", NULL },
	{ "DL4000", F, "FROM a:1\nMAINTAINER me\n", NULL },
	{ "DL4000", NF, "FROM a:1\nLABEL org.opencontainers.image.authors=me\n", NULL },
	{ "DL4001", F, "FROM a:1\nRUN curl -o x u\nRUN wget -q y\n", NULL },
	{ "DL4001", NF, "FROM a:1\nRUN curl -o x u\nFROM b:1\nRUN wget -q y\n", NULL },
	{ "DL4003", F, "FROM a:1\nCMD [\"a\"]\nCMD [\"b\"]\n", NULL },
	{ "DL4003", NF, "FROM a:1\nCMD [\"a\"]\nFROM b:1\nCMD [\"b\"]\n", NULL },
	{ "DL4004", F, "FROM a:1\nENTRYPOINT [\"a\"]\nENTRYPOINT [\"b\"]\n", NULL },
	{ "DL4004", NF, "FROM a:1\nENTRYPOINT [\"a\"]\nCMD [\"b\"]\n", NULL },
	{ "DL4005", F, "FROM a:1\nRUN ln -sfv /bin/bash /bin/sh\n", NULL },
	{ "DL4005", NF, "FROM a:1\nSHELL [\"/bin/bash\", \"-c\"]\nRUN ln -s /a /b\n", NULL },
	{ "DL4006", F, "FROM a:1\nRUN curl -s u | sh\n", NULL },
	{ "DL4006", NF, "FROM a:1\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl -s u | sh\n", NULL },
	{ "DL4006", NF, "FROM a:1\nRUN set -eux -o pipefail; curl u | sh\n", NULL },
	{ "DL4006", NF, "FROM a:1\nRUN a || b && c\n", NULL },
	{ "DL4006", NF, "FROM a:1\nSHELL [\"pwsh\", \"-c\"]\nRUN a | b\n", NULL },

	{ "KL0001", F, "FROM a:1\nENV A\n", NULL },
	{ "KL0001", NF, "FROM a:1\nENV A=1\n", NULL },
	{ "KL1001", F, "FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM golang:1.22\nCOPY --from=build /app /app\n", NULL },
	{ "KL1001", F, "FROM node:20 AS build\nRUN npm ci\nFROM node:20\nCOPY --from=build /app /app\n", NULL },
	{ "KL1001", NF, "FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM gcr.io/distroless/static:nonroot\nCOPY --from=build /app /app\n", NULL },
	{ "KL1001", NF, "FROM mcr.microsoft.com/dotnet/sdk:8.0 AS b\nFROM mcr.microsoft.com/dotnet/aspnet:8.0\nCOPY --from=b /o /app\n", NULL },
	{ "KL1001", F, "FROM mcr.microsoft.com/dotnet/sdk:8.0 AS b\nFROM mcr.microsoft.com/dotnet/sdk:8.0\nCOPY --from=b /o /app\n", NULL },
	{ "KL1002", F, "FROM debian:12\nRUN apt-get install -y build-essential=1\n", NULL },
	{ "KL1002", F, "FROM maven:3.9\nCOPY . .\nRUN mvn package\n", NULL },
	{ "KL1002", NF, "FROM alpine:3.19\nRUN apk add --no-cache curl=1\n", NULL },
	/* the build tools are looked up by first byte: the first, the last, none */
	{ "KL1002", F, "FROM fedora:40\nRUN dnf install -y 'Development Tools'\n", NULL },
	{ "KL1002", F, "FROM debian:12\nRUN apt-get install -y wget rustc=1\n", NULL },
	{ "KL1002", NF, "FROM debian:12\nRUN apt-get install -y wget zip rust gc\n", NULL },
	{ "KL1003", F, "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", NULL },
	{ "KL1003", F, "FROM golang:1.22 AS b\nWORKDIR /s\nCOPY . .\nRUN go mod download\n", NULL },
	{ "KL1003", F, "FROM python:3.12-slim\nWORKDIR /a\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n", NULL },
	{ "KL1003", NF, "FROM node:20-alpine\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n", NULL },
	{ "KL1006", F, "FROM a:1\nCOPY .env /app/.env\n", NULL },
	{ "KL1006", F, "FROM a:1\nADD id_rsa /root/.ssh/\n", NULL },
	{ "KL1006", NF, "FROM a:1\nCOPY .env.example /app/\n", NULL },
	{ "KL1008", F, "FROM a:1\nENV AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP\n", NULL },
	{ "KL1008", F, "FROM a:1\nARG DB=postgres://app:hunter2@db:5432/x\n", NULL },
	{ "KL1008", NF, "FROM a:1\nENV DB=postgres://app:$PASS@db/x URL=https://e.com/x\n", NULL },
	/* quoted values: copied on the stack, or on the heap past 255 bytes */
	{ "KL1008", F, "FROM a:1\nENV T=\"ghp_0123456789012345678901234567890\"\n", NULL },
	{ "KL1008", F,
	  "FROM a:1\nLABEL t='ghp_"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "'\n", NULL },
	{ "KL1008", F,
	  "FROM a:1\nARG T=\"ghp_"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "\"\n", NULL },
	{ "KL1008", NF, "FROM a:1\nARG T=\"ghp_\"\nENV U=\"\"\n", NULL },
	/* mvnw, gradlew: wrapper scripts of their tools */
	{ "KL1012", F, "FROM a:1\nRUN ./mvnw package\n", NULL },
	{ "KL1012", NF, "FROM a:1\nRUN ./mvnw package && rm -rf /root/.m2/repository\n", NULL },
	{ "KL1009", F, "FROM a:1 AS b\nFROM c:1\nCOPY --from=0 /x /x\n", NULL },
	{ "KL1009", NF, "FROM a:1 AS b\nFROM c:1\nCOPY --from=b /x /x\n", NULL },
	{ "KL1010", F, "FROM alpine:3.19\n", NULL },
	{ "KL1010", NF, "FROM alpine:3.19@sha256:0000000000000000000000000000000000000000000000000000000000000000\n", NULL },
	{ "KL1011", F, "FROM a:1 AS unused\nRUN x\nFROM b:1\nRUN y\n", NULL },
	{ "KL1011", NF, "FROM a:1 AS used\nRUN x\nFROM b:1\nCOPY --from=used /x /x\n", NULL },
	{ "KL1011", NF, "FROM a:1 AS base\nFROM base\n", NULL },
	{ "KL1011", NF, "FROM a:1 AS dep\nFROM b:1\nRUN --mount=type=bind,from=dep,target=/d ls /d\n", NULL },
	{ "KL1012", F, "FROM node:20-alpine\nRUN npm ci\n", NULL },
	{ "KL1012", NF, "FROM node:20-alpine\nRUN npm ci && npm cache clean --force\n", NULL },
	{ "KL1012", NF, "FROM node:20-alpine\nRUN --mount=type=cache,target=/root/.npm npm ci\n", NULL },
	{ "KL1012", NF, "FROM node:20 AS b\nRUN npm ci\nFROM nginx:1\nCOPY --from=b /d /d\n", NULL },
	{ "KL1013", F, "FROM a:1\nRUN apt-get update\nRUN apt-get install -y x=1\n", NULL },
	{ "KL1013", NF, "FROM a:1\nRUN apt-get update && apt-get install -y x=1\n", NULL },
	{ "KL1014", F, "FROM debian:12\nCMD [\"x\"]\n", NULL },
	{ "KL1014", NF, "FROM debian:12\nUSER 1000\n", NULL },
	{ "KL1014", NF, "FROM gcr.io/distroless/static:nonroot\n", NULL },
	{ "KL1015", F, "FROM a:1\nEXPOSE 80\n", NULL },
	{ "KL1015", NF, "FROM a:1\nEXPOSE 80\nHEALTHCHECK CMD x\n", NULL },
	{ "KL1015", NF, "FROM a:1 AS b\nEXPOSE 80\nFROM c:1\nCOPY --from=b /x /x\n", NULL },

	/* pragmas */
	{ "DL3003", NF, "FROM a:1\n# hadolint ignore=DL3003,DL3059\nRUN cd /x\n", NULL },
	{ "DL3003", NF, "FROM a:1\n# kiln ignore=DL3003\nRUN cd /x\n", NULL },
	{ "DL3003", F, "FROM a:1\n# hadolint ignore=DL3003\n\nRUN cd /x\n", NULL },
	{ "DL3003", F, "FROM a:1\n# hadolint ignore=DL3003\nRUN cd /x\nRUN cd /y\n", NULL },
	{ "DL3003", NF, "# hadolint global ignore=DL3003\nFROM a:1\nRUN cd /x\n", NULL },
	{ "DL3003", NF, "FROM a:1\n# kiln global ignore=DL3003\nRUN cd /x\n", NULL },
	{ "DL3003", F, "FROM a:1\n# hadolint ignore=DL3003\nRUN cd /x\n", "disable-ignore-pragma: true\n" },
	/* hadolint's Pragma.hs: for the next line only, and the whole list or nothing */
	{ "DL3003", F, "FROM a:1\n# hadolint ignore=DL3003\n# why\nRUN cd /x\n", NULL },
	{ "DL3003", NF, "FROM a:1\n# why\n# hadolint ignore=DL3003\nRUN cd /x\n", NULL },
	{ "DL3003", F, "FROM a:1\n# hadolint ignore=DL3003,\nRUN cd /x\n", NULL },
	{ "DL3003", F, "FROM a:1\n# hadolint ignore=DL3059 DL3003\nRUN cd /x\n", NULL },
	{ "DL3003", NF, "FROM a:1\n# hadolint ignore = DL3059 , DL3003 # old habit\nRUN cd /x\n",
	  NULL },
	{ "DL3003", F, "FROM a:1\n# hadolint ignore=DL3059 # DL3003\nRUN cd /x\n", NULL },
	{ "DL3003", NF, "FROM a:1\nRUN cd /x\n", "ignored: [DL3003]\n" },
	{ "KL1014", NF, "# check=skip=KL1014\nFROM debian:12\n", NULL },
};

static int fires(const char *df, const char *config, const char *rule, char **ret_all)
{
	struct kiln_lint_config cfg;
	kiln_lint_config_init(&cfg);
	if (config && kiln_lint_config_load_yaml(&cfg, config, strlen(config), "t.yaml", NULL, NULL) < 0) {
		kiln_lint_config_release(&cfg);
		return -1;
	}
	struct kiln_lint_opts o = { .config = &cfg };
	struct kiln_lint_report *rep = NULL;
	int r = kiln_lint_run(df, strlen(df), "Dockerfile", &o, &rep, NULL);
	kiln_lint_config_release(&cfg);
	if (r < 0)
		return -1;
	int hit = 0;
	struct kiln_buf all = KILN_BUF_INIT;
	for (size_t i = 0; i < rep->n_findings; i++) {
		hit |= strcmp(rep->findings[i].rule, rule) == 0;
		if (kiln_buf_addf(&all, "%d %s %s\n", rep->findings[i].line, rep->findings[i].rule,
				  rep->findings[i].message) < 0)
			hit = -1;
	}
	*ret_all = kiln_buf_detach(&all, NULL);
	kiln_lint_report_free(rep);
	return hit;
}

static void test_rule_table(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		const struct rule_case *c = &cases[i];
		char *all = NULL;
		int hit = fires(c->df, c->config, c->rule, &all);
		if (!tap_ok(hit == c->fires, "%s %s on case %zu", c->rule, c->fires ? "fires" : "does not fire",
			    i))
			tap_diag_block("findings", all ? all : "(error)");
		free(all);
	}
}

/* The unpinned names of a message: up to five, then how many more. */
static void test_unpinned_names(void)
{
	const char *df = "FROM a:1\n"
			 "RUN apt-get install -y --no-install-recommends a b c d e f g && "
			 "apk add --no-cache x y\n";
	char *all = NULL;
	TAP_OK(fires(df, NULL, "DL3008", &all) == 1, "DL3008 fires");
	TAP_OK(all && strstr(all, "installs a, b, c, d, e and 2 more without a pinned version") &&
	       strstr(all, "installs x, y without a pinned version"), "five names, then a count");
	free(all);
}

/* Every DL rule of the table has a case that fires and one that does not. */
static void test_coverage(void)
{
	size_t n;
	const struct kiln_lint_rule_info *r = kiln_lint_rules(&n);
	size_t dl = 0, kl = 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].family == KILN_LINT_BUILDKIT)
			continue;
		dl += r[i].family == KILN_LINT_HADOLINT;
		kl += r[i].family == KILN_LINT_KILN;
		int f = 0, nf = 0;
		for (size_t k = 0; k < KILN_ARRAY_SIZE(cases); k++) {
			if (strcmp(cases[k].rule, r[i].code) != 0)
				continue;
			f |= cases[k].fires;
			nf |= !cases[k].fires;
		}
		/* the context rules are covered by tests/e2e/t1100-lint.sh */
		int ctx = !strcmp(r[i].code, "KL1004") || !strcmp(r[i].code, "KL1005") ||
			  !strcmp(r[i].code, "KL1007");
		tap_ok(ctx || (f && nf), "%s has cases that fire and cases that do not", r[i].code);
	}
	tap_ok(dl == 71, "71 DL rules (%zu)", dl);
	tap_ok(kl >= 16, "the KL rules are in the table (%zu)", kl);
}

/* kiln_lint_rule_find() searches the table by halves: every code must be found, others not. */
static void test_rule_find(void)
{
	size_t n;
	const struct kiln_lint_rule_info *r = kiln_lint_rules(&n);
	int all = 1;
	for (size_t i = 0; i < n; i++)
		if (kiln_lint_rule_find(r[i].code) != &r[i]) {
			all = 0;
			tap_diag("%s is not found", r[i].code);
		}
	TAP_OK(all, "every rule of the table is found by its code");
	int six = 1;
	for (size_t i = 0; i < n; i++) {
		const char *c = r[i].code;
		if ((c[0] == 'D' || c[0] == 'K') && c[1] == 'L' && c[2] >= '0' && c[2] <= '9' &&
		    strlen(c) != 6) {
			six = 0;
			tap_diag("%s is not six bytes long", c);
		}
	}
	TAP_OK(six, "every DL and KL code of the table is six bytes long (the search needs it)");
	static const char *const absent[] = { "", "DL", "DL0000", "DL9999", "KL", "KL9999", "SC2086",
					      "stagenamecasing", "Zzz", "A", "KL0001 ",
					      /* six-byte search, fall-back */
					      "DL300", "DL30060", "DL306x", "KL100", "KL10010",
					      "DLxxxx", "KL1001\n" };
	int none = 1;
	for (size_t i = 0; i < KILN_ARRAY_SIZE(absent); i++)
		if (kiln_lint_rule_find(absent[i])) {
			none = 0;
			tap_diag("'%s' is found", absent[i]);
		}
	TAP_OK(none, "codes that are not in the table are not found");
	TAP_OK(kiln_lint_rule_find(NULL) == NULL, "NULL finds nothing");
}

static void test_severity_and_threshold(void)
{
	const char *df = "FROM debian\nRUN cd /x\n";
	struct kiln_lint_config cfg;
	kiln_lint_config_init(&cfg);
	const char *y = "override:\n  error: [DL3003]\nignored: [KL1010, KL1014]\nfailure-threshold: error\n";
	TAP_OK(kiln_lint_config_load_yaml(&cfg, y, strlen(y), "c.yaml", NULL, NULL) == 0, "config loads");
	TAP_OK(cfg.failure_threshold == KILN_LINT_ERROR && cfg.threshold_set, "failure-threshold read");
	struct kiln_lint_opts o = { .config = &cfg };
	struct kiln_lint_report *rep = NULL;
	TAP_OK(kiln_lint_run(df, strlen(df), "Dockerfile", &o, &rep, NULL) == 0, "lint runs");
	int dl3003 = -1, kl1010 = 0;
	for (size_t i = 0; i < rep->n_findings; i++) {
		if (!strcmp(rep->findings[i].rule, "DL3003"))
			dl3003 = (int)rep->findings[i].severity;
		kl1010 |= !strcmp(rep->findings[i].rule, "KL1010");
	}
	TAP_INT_EQ(dl3003, KILN_LINT_ERROR, "override makes DL3003 an error");
	TAP_OK(!kl1010, "ignored rule is not reported");
	const struct kiln_lint_report *rv[] = { rep };
	TAP_OK(kiln_lint_reaches(rv, 1, KILN_LINT_ERROR), "an error reaches the error threshold");
	TAP_OK(!kiln_lint_reaches(rv, 1, KILN_LINT_NONE), "nothing reaches none");
	kiln_lint_report_free(rep);
	kiln_lint_config_release(&cfg);
}

static void test_config_errors(void)
{
	static const char *const bad[] = {
		"override:\n  fatal: [DL3003]\n", "label-schema:\n  a: colour\n", "ignored: {a: 1}\n",
		"unknown-key: 1\n", "strict-labels: maybe\n", "ignored: [a\n", "- a\n- b\n",
		"failure-threshold: high\n",
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(bad); i++) {
		struct kiln_lint_config cfg;
		kiln_lint_config_init(&cfg);
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_lint_config_load_yaml(&cfg, bad[i], strlen(bad[i]), "bad.yaml", NULL, &err);
		TAP_OK(r == -KILN_EPARSE && err.pos.line >= 1, "bad config %zu rejected with a line (%s)", i,
		       err.msg ? err.msg : "");
		kiln_error_release(&err);
		kiln_lint_config_release(&cfg);
	}
}

static void test_formats(void)
{
	const char *df = "FROM debian\nRUN cd /x && echo \"<&>\"\n";
	struct kiln_lint_report *rep = NULL;
	TAP_OK(kiln_lint_run(df, strlen(df), "dir/Docker file", NULL, &rep, NULL) == 0, "lint runs");
	const struct kiln_lint_report *rv[] = { rep };
	static const char *const names[] = { "tty", "json", "sarif", "checkstyle", "gitlab_codeclimate" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(names); i++) {
		struct kiln_buf out = KILN_BUF_INIT;
		int fmt = kiln_lint_format_parse(names[i]);
		TAP_OK(fmt >= 0 && kiln_lint_render(rv, 1, (enum kiln_lint_format)fmt, 0, "1.0", &out, NULL) == 0 &&
			       strstr(out.buf, "DL3003"),
		       "%s output names DL3003", names[i]);
		if (!strcmp(names[i], "sarif"))
			TAP_OK(strstr(out.buf, "\"uri\": \"dir/Docker%20file\"") != NULL, "SARIF uri is encoded");
		kiln_buf_release(&out);
	}
	TAP_OK(kiln_lint_format_parse("xml") < 0, "unknown format rejected");
	/* fingerprints stay when lines move */
	const char *df2 = "\n\nFROM debian\n\nRUN cd /x && echo \"<&>\"\n";
	struct kiln_lint_report *rep2 = NULL;
	TAP_OK(kiln_lint_run(df2, strlen(df2), "dir/Docker file", NULL, &rep2, NULL) == 0, "lint runs");
	int same = rep->n_findings == rep2->n_findings;
	for (size_t i = 0; same && i < rep->n_findings; i++)
		same = !strcmp(rep->findings[i].fingerprint, rep2->findings[i].fingerprint) &&
		       rep->findings[i].line != rep2->findings[i].line;
	TAP_OK(same, "fingerprints do not depend on line numbers");
	kiln_lint_report_free(rep);
	kiln_lint_report_free(rep2);
}

static void test_never_fails(void)
{
	static const char *const odd[] = {
		"", "\n\n", "FROM", "RUN \"unterminated", "FROM a\nRUN $(( 1 + \nRUN `x", "ONBUILD ONBUILD RUN x",
		"FROM a AS\nCOPY --from= a b\n", "FROM a\nRUN <<EOF\ncase x in a|b) y;; esac\nEOF\n",
		"FROM a\nRUN (cd x; make) | tee log && { a; b; } || f() { :; }\n",
		"FROM a\nLABEL \"\"=\"\"\nEXPOSE /tcp -1 99999999999999999999\n",
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(odd); i++) {
		struct kiln_lint_report *rep = NULL;
		int r = kiln_lint_run(odd[i], strlen(odd[i]), "Dockerfile", NULL, &rep, NULL);
		TAP_OK(r == 0 && rep, "odd input %zu lints without error", i);
		kiln_lint_report_free(rep);
	}
}

/* "line rule message fingerprint" of every finding. */
static int render_all(const struct kiln_lint_report *rep, struct kiln_buf *out)
{
	for (size_t i = 0; i < rep->n_findings; i++)
		if (kiln_buf_addf(out, "%d %s %s %s\n", rep->findings[i].line, rep->findings[i].rule,
				  rep->findings[i].message, rep->findings[i].fingerprint) < 0)
			return -1;
	return 0;
}

/* Many files in one run (threads when there are CPUs): each report as if alone. */
static void test_many(void)
{
	size_t n = KILN_ARRAY_SIZE(cases);
	struct kiln_lint_input *in = calloc(n, sizeof(*in));
	struct kiln_lint_report **reps = calloc(n, sizeof(*reps));
	char (*names)[32] = calloc(n, sizeof(*names));
	if (!TAP_OK(in && reps && names, "many: allocations")) {
		free(in);
		free(reps);
		free(names);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "case-%zu/Dockerfile", i);
		in[i] = (struct kiln_lint_input){ .data = cases[i].df, .len = strlen(cases[i].df),
						  .filename = names[i] };
	}
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_lint_run_many(in, n, NULL, reps, &err);
	TAP_INT_EQ(r, 0, "many: %zu files in one run", n);
	size_t same = 0, findings = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct kiln_lint_report *one = NULL;
		struct kiln_buf a = KILN_BUF_INIT, b = KILN_BUF_INIT;
		if (kiln_lint_run(in[i].data, in[i].len, names[i], NULL, &one, NULL) == 0 &&
		    render_all(one, &a) == 0 && render_all(reps[i], &b) == 0 &&
		    !strcmp(reps[i]->file, names[i]) &&
		    !strcmp(a.buf ? a.buf : "", b.buf ? b.buf : ""))
			same++;
		else
			tap_diag("many: case %zu differs", i);
		findings += reps[i]->n_findings;
		kiln_buf_release(&a);
		kiln_buf_release(&b);
		kiln_lint_report_free(one);
	}
	TAP_OK(same == n && findings > n, "many: every report is the file's alone (%zu findings)",
	       findings);
	for (size_t i = 0; r == 0 && i < n; i++)
		kiln_lint_report_free(reps[i]);
	kiln_error_release(&err);
	free(in);
	free(reps);
	free(names);
}

/* Allocation failures (in a -Dfailmalloc=true build): -KILN_ENOMEM or the whole result. */

static void test_failmalloc(void)
{
#ifdef KILN_FAILMALLOC
	static const char df[] =
		"# hadolint global ignore=DL3059\n# check=skip=StageNameCasing\nARG BASE=golang:1.22\n"
		"FROM ${BASE} AS Build\nWORKDIR /src\nCOPY . .\nRUN go mod download && apt-get update && "
		"apt-get install -y gcc \"x\" | tee log\n# kiln ignore=DL3003\nRUN cd /x && pip install "
		"flask && sh -c 'sudo npm i -g y' && case $a in b) wget u;; esac\n"
		"ENV A=1 B=$A TOKEN=ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nLABEL Maintainer=x version=1.2 "
		"license=MIT\nFROM debian:latest\nCOPY --from=0 /out /app\nEXPOSE 80\nCMD run\n";
	static const char y[] = "label-schema:\n  version: semver\n  license: spdx\n"
				"override:\n  info: [DL3057]\n";
	struct kiln_lint_config cfg;
	kiln_lint_config_init(&cfg);
	if (kiln_lint_config_load_yaml(&cfg, y, sizeof(y) - 1, "c.yaml", NULL, NULL) < 0)
		return;
	struct kiln_lint_opts o = { .config = &cfg };
	struct kiln_lint_report *ref = NULL;
	struct kiln_buf want = KILN_BUF_INIT;
	int ok = kiln_lint_run(df, sizeof(df) - 1, "Dockerfile", &o, &ref, NULL) == 0 &&
		 render_all(ref, &want) == 0;
	size_t n_ref = ok ? ref->n_findings : 0;
	TAP_OK(ok && n_ref > 20, "the reference run has its findings (%zu)", n_ref);
	kiln_lint_report_free(ref);
	int failures = 0, oks = 0, bad = 0;
	for (long n = 0; n < 200000; n++) {
		struct kiln_lint_report *rep = NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		kiln_alloc_fail_after(n);
		int r = kiln_lint_run(df, sizeof(df) - 1, "Dockerfile", &o, &rep, &err);
		kiln_alloc_fail_after(-1);
		struct kiln_buf got = KILN_BUF_INIT;
		int complete = r == 0 && render_all(rep, &got) == 0 && !strcmp(got.buf, want.buf);
		kiln_buf_release(&got);
		kiln_lint_report_free(rep);
		if (complete) {
			oks++;
			break;
		}
		if (r == 0 || r != -KILN_ENOMEM || err.code != KILN_ENOMEM) {
			if (!bad)
				tap_diag("allocation %ld: r=%d code=%d (%s)", n, r, (int)err.code,
					 err.msg ? err.msg : "no message");
			bad++;
		}
		failures++;
		kiln_error_release(&err);
	}
	kiln_buf_release(&want);
	kiln_lint_config_release(&cfg);
	TAP_INT_EQ(bad, 0, "failed allocations give -KILN_ENOMEM (%d tried)", failures);
	TAP_INT_EQ(oks, 1, "kiln lint completes once allocations do");
#else
	tap_skip("not a -Dfailmalloc=true build", "allocation failures");
#endif
}

int main(void)
{
	test_rule_table();
	test_unpinned_names();
	test_coverage();
	test_rule_find();
	test_severity_and_threshold();
	test_config_errors();
	test_formats();
	test_many();
	test_never_fails();
	test_failmalloc();
	return tap_done();
}
