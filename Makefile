# Atlas — the two Quick start commands (`make serve`, `make test`) and the tools around them.
SHELL := /bin/bash
SWIFT ?= swift
DATABASE_URL ?= sqlite:///atlas.db

.PHONY: serve build release test test-sqlite bench fuzz migrate backup openapi-yaml clean help

help:
	@echo "make serve   install what is missing, build, migrate $(DATABASE_URL), serve on :8000"
	@echo "make test    the whole suite, on SQLite and on a throwaway PostgreSQL"
	@echo "make bench   wrk against atlas, a Hummingbird baseline and nginx (not in CI)"
	@echo "make fuzz    libFuzzer over the HTTP request parser (not in CI)"
	@echo "make backup  atlas backup of the SQLite database to backups/ while it serves"

serve: release
	ATLAS_DATABASE_URL="$${ATLAS_DATABASE_URL:-$(DATABASE_URL)}" .build/release/atlas serve

build:
	@scripts/install-deps.sh build
	$(SWIFT) build --product atlas

release:
	@scripts/install-deps.sh build
	$(SWIFT) build -c release --static-swift-stdlib --product atlas

migrate: release
	ATLAS_DATABASE_URL="$${ATLAS_DATABASE_URL:-$(DATABASE_URL)}" .build/release/atlas migrate

# Every storage test runs on SQLite files and on a PostgreSQL cluster that the script starts and stops.
test:
	@scripts/install-deps.sh test
	@scripts/install-tools.sh
	scripts/with-postgres.sh env ATLAS_REQUIRE_POSTGRES=1 $(SWIFT) test

# SQLite only, for a quick loop while editing.
test-sqlite:
	@scripts/install-deps.sh build
	$(SWIFT) test

bench:
	@scripts/install-deps.sh bench
	bench/run.sh $(BENCH_ARGS)

FUZZ_SECONDS ?= 600
fuzz:
	@scripts/install-deps.sh build
	fuzz/run.sh $(FUZZ_SECONDS)

backup: release
	@mkdir -p backups
	ATLAS_DATABASE_URL="$${ATLAS_DATABASE_URL:-$(DATABASE_URL)}" .build/release/atlas backup --to backups/atlas-$$(date -u +%Y%m%dT%H%M%SZ).db

openapi-yaml:
	scripts/openapi-yaml.py

clean:
	rm -rf .build
