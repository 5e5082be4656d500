# syntax=docker/dockerfile:1
# guest-reset: one image for the service and the Graph emulator.
#   docker build -t guest-reset .
#   docker compose up          (service + emulator; see docs/operating.md, "Container")

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependencies first, against stub sources (every target the two manifests
# declare must exist, the `load` and `bulk` benches and the emulator crate included), so this layer is rebuilt only when
# Cargo.toml or Cargo.lock change. .ci/docker-build-check plays this stage.
COPY Cargo.toml Cargo.lock build.rs ./
COPY crates/graph-emulator/Cargo.toml ./crates/graph-emulator/
RUN mkdir -p src benches/load crates/graph-emulator/src \
 && echo 'fn main() {}' > src/main.rs \
 && cp src/main.rs benches/load/main.rs \
 && cp src/main.rs benches/bulk.rs \
 && cp src/main.rs crates/graph-emulator/src/main.rs \
 && touch src/lib.rs crates/graph-emulator/src/lib.rs \
 && cargo build --release --locked \
 && rm -rf src benches crates/graph-emulator/src
COPY migrations ./migrations
COPY examples ./examples
COPY openapi.yaml ./
COPY benches ./benches
COPY crates ./crates
COPY src ./src
# Touch so cargo sees the real sources as newer than the stub build.
RUN touch src/main.rs src/lib.rs crates/graph-emulator/src/main.rs crates/graph-emulator/src/lib.rs \
 && cargo build --release --locked \
 && install -D target/release/guest-reset /out/guest-reset

FROM debian:bookworm-slim
# CA roots for TLS to login.microsoftonline.com and graph.microsoft.com.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin guest-reset \
 && mkdir -p /data /etc/guest-reset \
 && chown guest-reset:guest-reset /data \
 && chmod 0700 /data
COPY --from=build /out/guest-reset /usr/local/bin/guest-reset
COPY examples/demo-policy.toml /etc/guest-reset/policy.toml
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
ENV GUEST_RESET_LISTEN_ADDR=0.0.0.0:8080 \
    GUEST_RESET_DATABASE_PATH=/data/guest-reset.db \
    GUEST_RESET_POLICY_FILE=/etc/guest-reset/policy.toml \
    LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["guest-reset", "healthcheck"]
ENTRYPOINT ["guest-reset"]
CMD ["serve"]
