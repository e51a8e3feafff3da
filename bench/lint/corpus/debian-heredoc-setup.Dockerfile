# syntax=docker/dockerfile:1
# check=skip=JSONArgsRecommended
FROM debian:12-slim
ARG APP_USER=svc
RUN <<EOT bash
set -euo pipefail
apt-get update
apt-get install -y --no-install-recommends ca-certificates curl tini
rm -rf /var/lib/apt/lists/*
useradd --system --create-home "${APP_USER}"
EOT
COPY --chown=${APP_USER} <<'EOF' /etc/app/app.env
LISTEN=0.0.0.0:8080
LOG_LEVEL=info
EOF
COPY bin/ /usr/local/bin/
USER ${APP_USER}
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD exec /usr/local/bin/app --env-file /etc/app/app.env
