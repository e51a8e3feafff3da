FROM denoland/deno:1.42.1
ARG GIT_REVISION
ENV DENO_DEPLOYMENT_ID=${GIT_REVISION}
WORKDIR /app
COPY deps.ts .
RUN deno cache deps.ts
COPY . .
RUN deno cache main.ts
EXPOSE 8000
USER deno
CMD ["run", "--allow-net", "--allow-read", "--allow-env", "main.ts"]
