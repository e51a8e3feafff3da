FROM haskell:9.6 AS build
WORKDIR /opt/build
RUN stack config set system-ghc --global true
COPY stack.yaml package.yaml stack.yaml.lock /opt/build/
RUN stack build --only-dependencies --no-terminal
COPY . /opt/build
RUN stack install --local-bin-path /opt/bin

FROM ubuntu:22.04
RUN apt-get update && apt-get install -y libgmp10 ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/bin/shortener /usr/local/bin/shortener
EXPOSE 8080
CMD ["shortener"]
