# Atlas — build with the official Swift image, run on slim Debian with only the runtime libraries.
FROM swift:6.3-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      libsqlite3-dev libpq-dev libssl-dev zlib1g-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Plugins ./Plugins
COPY Sources ./Sources
COPY Migrations ./Migrations
COPY Tests ./Tests
RUN swift build -c release --product atlas --static-swift-stdlib \
    && install -D .build/release/atlas /out/atlas

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libsqlite3-0 libpq5 libssl3 zlib1g ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/atlas --create-home atlas
COPY --from=build /out/atlas /usr/local/bin/atlas
USER atlas
WORKDIR /var/lib/atlas
ENV ATLAS_HOST=0.0.0.0 ATLAS_PORT=8000 ATLAS_DATABASE_URL=sqlite:////var/lib/atlas/atlas.db
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=2s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/health/live || exit 1
ENTRYPOINT ["/usr/local/bin/atlas"]
CMD ["serve"]
