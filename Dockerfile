# Atlas — delivery
# SPDX-License-Identifier: Apache-2.0
# Container image: build with the official Swift image, run on slim Debian with only the
# runtime libraries. `docker build -t atlas .`; the result runs `atlas serve` as an unprivileged user.
# Checked here by hadolint and Tests/AtlasTests/DeliveryTests.swift; built by .github/workflows/ci.yml.

ARG SWIFT_IMAGE=swift:6.3.1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       libsqlite3-dev libpq-dev libssl-dev zlib1g-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so a source change does not resolve them again.
COPY Package.swift ./
RUN swift package resolve
COPY Plugins ./Plugins
COPY Sources ./Sources
COPY Tests ./Tests
COPY Migrations ./Migrations
COPY docs/api ./docs/api
# --static-swift-stdlib: the Swift runtime and Foundation are linked in, so the runtime image
# needs no Swift toolchain, only the C libraries below (libpq is opened only for PostgreSQL URLs;
# outbound HTTPS uses libssl, no libcurl). The release link uses the toolchain's lld (ADR-013).
RUN swift build -c release --product atlas --static-swift-stdlib \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/atlas" /out/atlas

FROM ${RUNTIME_IMAGE} AS runtime
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       libsqlite3-0 libpq5 libssl3 zlib1g ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 atlas \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/atlas --create-home \
       --shell /usr/sbin/nologin atlas
COPY --from=build /out/atlas /usr/local/bin/atlas
USER 10001:10001
WORKDIR /var/lib/atlas
ENV ATLAS_HOST=0.0.0.0 \
    ATLAS_PORT=8000 \
    ATLAS_DATABASE_URL=sqlite:////var/lib/atlas/atlas.db
VOLUME ["/var/lib/atlas"]
EXPOSE 8000
# `atlas healthcheck` asks GET /health/live over loopback: no curl in the image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/atlas", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/atlas"]
CMD ["serve"]
