# syntax=docker/dockerfile:1
FROM node:22-slim AS base
ENV PNPM_HOME="/pnpm"
ENV PATH="$PNPM_HOME:$PATH"
RUN corepack enable

FROM base AS build
COPY . /usr/src/app
WORKDIR /usr/src/app
RUN --mount=type=cache,id=pnpm,target=/pnpm/store pnpm install --frozen-lockfile
RUN pnpm run -r build
RUN pnpm deploy --filter=@acme/web --prod /prod/web
RUN pnpm deploy --filter=@acme/worker --prod /prod/worker

FROM base AS web
COPY --from=build /prod/web /prod/web
WORKDIR /prod/web
EXPOSE 8000
CMD [ "pnpm", "start" ]

FROM base AS worker
COPY --from=build /prod/worker /prod/worker
WORKDIR /prod/worker
CMD [ "pnpm", "start" ]
