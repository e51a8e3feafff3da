# syntax=docker/dockerfile:1.7
# One Dockerfile for the whole repository: every service is a target.
#   docker build --target gateway .
ARG NODE_IMAGE=node:20.12-bookworm-slim
ARG GO_IMAGE=golang:1.22-bookworm
ARG PY_IMAGE=python:3.12-slim-bookworm
ARG RUNTIME_BASE=gcr.io/distroless/base-debian12

#### shared sources ####
FROM scratch AS sources
COPY proto /proto
COPY libs /libs

#### Go services ####
FROM ${GO_IMAGE} AS go-base
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-mod=readonly
COPY go.work go.work.sum ./
COPY services/gateway/go.mod services/gateway/go.sum services/gateway/
COPY services/billing/go.mod services/billing/go.sum services/billing/
COPY libs/go/go.mod libs/go/go.sum libs/go/
RUN --mount=type=cache,target=/go/pkg/mod go mod download

FROM go-base AS go-build
COPY --from=sources /libs/go libs/go
COPY --from=sources /proto /proto
COPY services/gateway services/gateway
COPY services/billing services/billing
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -o /out/gateway ./services/gateway/cmd/gateway \
    && go build -o /out/billing ./services/billing/cmd/billing

FROM go-build AS go-test
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go test ./services/... ./libs/go/...

FROM ${RUNTIME_BASE} AS gateway
COPY --from=go-build /out/gateway /usr/local/bin/gateway
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/gateway"]

FROM ${RUNTIME_BASE} AS billing
COPY --from=go-build /out/billing /usr/local/bin/billing
USER 65532:65532
EXPOSE 9000
ENTRYPOINT ["/usr/local/bin/billing"]

#### Node services ####
FROM ${NODE_IMAGE} AS node-deps
WORKDIR /repo
RUN corepack enable
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY services/web/package.json services/web/
COPY services/notifier/package.json services/notifier/
COPY libs/ts/package.json libs/ts/
RUN --mount=type=cache,id=pnpm,target=/root/.local/share/pnpm/store pnpm install --frozen-lockfile

FROM node-deps AS node-build
COPY --from=sources /libs/ts libs/ts
COPY --from=sources /proto /proto
COPY services/web services/web
COPY services/notifier services/notifier
RUN pnpm -r build && pnpm deploy --filter=web --prod /out/web && pnpm deploy --filter=notifier --prod /out/notifier

FROM ${NODE_IMAGE} AS web
ENV NODE_ENV=production
WORKDIR /app
COPY --from=node-build --chown=node:node /out/web ./
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s CMD ["node", "healthcheck.js"]
CMD ["node", "dist/server.js"]

FROM ${NODE_IMAGE} AS notifier
ENV NODE_ENV=production
WORKDIR /app
COPY --from=node-build --chown=node:node /out/notifier ./
USER node
CMD ["node", "dist/main.js"]

#### Python jobs ####
FROM ${PY_IMAGE} AS py-build
ENV PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY services/reports/requirements.lock ./
RUN python -m venv /venv && /venv/bin/pip install --require-hashes -r requirements.lock
COPY services/reports ./reports
RUN /venv/bin/pip install --no-deps ./reports

FROM ${PY_IMAGE} AS reports
COPY --from=py-build /venv /venv
ENV PATH=/venv/bin:$PATH
USER 10001
ENTRYPOINT ["reports"]
