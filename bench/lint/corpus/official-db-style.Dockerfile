# An official-image-style database Dockerfile: user first, gosu, locale,
# repository key pinned by fingerprint, long install RUNs.
FROM debian:bookworm-slim

# explicitly set user/group IDs
RUN set -eux; \
	groupadd -r keeper --gid=999; \
	useradd -r -g keeper --uid=999 --home-dir=/var/lib/keeper --shell=/bin/bash keeper; \
	mkdir -p /var/lib/keeper; \
	chown -R keeper:keeper /var/lib/keeper

# grab gosu for easy step-down from root
ENV GOSU_VERSION 1.17
RUN set -eux; \
	savedAptMark="$(apt-mark showmanual)"; \
	apt-get update; \
	apt-get install -y --no-install-recommends ca-certificates wget; \
	rm -rf /var/lib/apt/lists/*; \
	dpkgArch="$(dpkg --print-architecture | awk -F- '{ print $NF }')"; \
	wget -O /usr/local/bin/gosu "https://github.com/tianon/gosu/releases/download/$GOSU_VERSION/gosu-$dpkgArch"; \
	wget -O /usr/local/bin/gosu.asc "https://github.com/tianon/gosu/releases/download/$GOSU_VERSION/gosu-$dpkgArch.asc"; \
	export GNUPGHOME="$(mktemp -d)"; \
	gpg --batch --keyserver hkps://keys.openpgp.org --recv-keys B42F6819007F00F88E364FD4036A9C25BF357DD4; \
	gpg --batch --verify /usr/local/bin/gosu.asc /usr/local/bin/gosu; \
	gpgconf --kill all; \
	rm -rf "$GNUPGHOME" /usr/local/bin/gosu.asc; \
	apt-mark auto '.*' > /dev/null; \
	[ -z "$savedAptMark" ] || apt-mark manual $savedAptMark > /dev/null; \
	apt-get purge -y --auto-remove -o APT::AutoRemove::RecommendsImportant=false; \
	chmod +x /usr/local/bin/gosu; \
	gosu --version; \
	gosu nobody true

# make the "en_US.UTF-8" locale so the database will be utf-8 enabled by default
RUN set -eux; \
	if [ -f /etc/dpkg/dpkg.cfg.d/docker ]; then \
		grep -q '/usr/share/locale' /etc/dpkg/dpkg.cfg.d/docker; \
		sed -ri '/\/usr\/share\/locale/d' /etc/dpkg/dpkg.cfg.d/docker; \
		! grep -q '/usr/share/locale' /etc/dpkg/dpkg.cfg.d/docker; \
	fi; \
	apt-get update; apt-get install -y --no-install-recommends locales; rm -rf /var/lib/apt/lists/*; \
	echo 'en_US.UTF-8 UTF-8' >> /etc/locale.gen; \
	locale-gen; \
	locale -a | grep 'en_US.utf8'
ENV LANG en_US.utf8

RUN set -eux; \
	apt-get update; \
	apt-get install -y --no-install-recommends \
		libnss-wrapper \
		xz-utils \
		zstd \
	; \
	rm -rf /var/lib/apt/lists/*

RUN mkdir /docker-entrypoint-initdb.d

RUN set -ex; \
	key='B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8'; \
	export GNUPGHOME="$(mktemp -d)"; \
	mkdir -p /usr/local/share/keyrings/; \
	gpg --batch --keyserver keyserver.ubuntu.com --recv-keys "$key"; \
	gpg --batch --export --armor "$key" > /usr/local/share/keyrings/keeper.gpg.asc; \
	gpgconf --kill all; \
	rm -rf "$GNUPGHOME"

ENV KEEPER_MAJOR 16
ENV PATH $PATH:/usr/lib/keeper/$KEEPER_MAJOR/bin

ENV KEEPER_VERSION 16.2-1.pgdg120+1

RUN set -ex; \
	export PYTHONDONTWRITEBYTECODE=1; \
	dpkgArch="$(dpkg --print-architecture)"; \
	aptRepo="[ signed-by=/usr/local/share/keyrings/keeper.gpg.asc ] http://apt.example.org/pub/repos/apt bookworm-pgdg main $KEEPER_MAJOR"; \
	case "$dpkgArch" in \
		amd64 | arm64 | ppc64el | s390x) \
			echo "deb $aptRepo" > /etc/apt/sources.list.d/pgdg.list; \
			apt-get update; \
			;; \
		*) \
			echo "deb-src $aptRepo" > /etc/apt/sources.list.d/pgdg.list; \
			savedAptMark="$(apt-mark showmanual)"; \
			tempDir="$(mktemp -d)"; \
			cd "$tempDir"; \
			apt-get update; \
			apt-get install -y --no-install-recommends dpkg-dev; \
			echo "deb [ trusted=yes ] file://$tempDir ./" > /etc/apt/sources.list.d/temp.list; \
			_update_repo() { \
				dpkg-scanpackages . > Packages; \
				apt-get -o Acquire::GzipIndexes=false update; \
			}; \
			_update_repo; \
			nproc="$(nproc)"; \
			export DEB_BUILD_OPTIONS="nocheck parallel=$nproc"; \
			apt-get build-dep -y keeper-common-dev; \
			apt-get source --compile keeper-common-dev; \
			_update_repo; \
			apt-get build-dep -y "keeper-$KEEPER_MAJOR=$KEEPER_VERSION"; \
			apt-get source --compile "keeper-$KEEPER_MAJOR=$KEEPER_VERSION"; \
			apt-mark showmanual | xargs apt-mark auto > /dev/null; \
			apt-mark manual $savedAptMark; \
			ls -lAFh; \
			_update_repo; \
			grep '^Package: ' Packages; \
			cd /; \
			;; \
	esac; \
	apt-get install -y --no-install-recommends keeper-common; \
	sed -ri 's/#(create_main_cluster) .*$/\1 = false/' /etc/keeper-common/createcluster.conf; \
	apt-get install -y --no-install-recommends \
		"keeper-$KEEPER_MAJOR=$KEEPER_VERSION" \
	; \
	rm -rf /var/lib/apt/lists/*; \
	if [ -n "$tempDir" ]; then \
		apt-get purge -y --auto-remove; \
		rm -rf "$tempDir" /etc/apt/sources.list.d/temp.list; \
	fi; \
	find /usr -name '*.pyc' -type f -exec bash -c 'for pyc; do dpkg -S "$pyc" &> /dev/null || rm -vf "$pyc"; done' -- '{}' +; \
	keeper --version

RUN set -eux; \
	dpkg-divert --add --rename --divert "/usr/share/keeper/keeper.conf.sample.dpkg" "/usr/share/keeper/$KEEPER_MAJOR/keeper.conf.sample"; \
	cp -v /usr/share/keeper/keeper.conf.sample.dpkg /usr/share/keeper/keeper.conf.sample; \
	ln -sv ../keeper.conf.sample "/usr/share/keeper/$KEEPER_MAJOR/"; \
	sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" /usr/share/keeper/keeper.conf.sample; \
	grep -F "listen_addresses = '*'" /usr/share/keeper/keeper.conf.sample

RUN mkdir -p /var/run/keeper && chown -R keeper:keeper /var/run/keeper && chmod 3777 /var/run/keeper

ENV KEEPERDATA /var/lib/keeper/data
RUN mkdir -p "$KEEPERDATA" && chown -R keeper:keeper "$KEEPERDATA" && chmod 1777 "$KEEPERDATA"
VOLUME /var/lib/keeper/data

COPY docker-entrypoint.sh docker-ensure-initdb.sh /usr/local/bin/
RUN ln -sT docker-ensure-initdb.sh /usr/local/bin/docker-enforce-initdb.sh
ENTRYPOINT ["docker-entrypoint.sh"]

STOPSIGNAL SIGINT

EXPOSE 5432
CMD ["keeper"]
