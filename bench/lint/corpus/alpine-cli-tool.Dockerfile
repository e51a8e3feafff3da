FROM alpine:3.19
# kiln ignore=DL3018
RUN apk add --no-cache bash curl jq openssl
COPY --chmod=0755 scripts/rotate-certs.sh /usr/local/bin/rotate-certs
ENTRYPOINT ["/usr/local/bin/rotate-certs"]
