# The helpdesk's two set-up commands are `make dev` and `make test`; the rest
# are their parts. Python tools (moto, the SAM translator, the SAM CLI) are
# pinned and installed into project-local virtualenvs on first use.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv-local
LINT_VENV := .venv-lint
CHECKS_VENV := .venv-checks
FUZZ_VENV := .venv-fuzz
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: dev console console-screenshots chromium test test-console test-rust test-stack lint console-lint fmt clippy validate template-checks fuzz fuzz-smoke ci clean-local

## Run the whole helpdesk locally: moto, the stack from template.yaml, the local
## runner (with the console at /console/) and the WhatsApp simulator. Ctrl-C
## stops everything.
dev: $(VENV)/.installed console
	cargo run -p devstack -- up

## The agents' console: console/dist, which the console function serves (read
## from disk by `make dev`, embedded by `sam build`). `npm ci` runs only when
## console/node_modules is missing or older than console/package-lock.json.
console:
	@if [ ! -f console/package.json ]; then \
		echo "console: console/package.json does not exist yet; the console is not built (/console/ answers 503)"; \
	elif ! command -v npm >/dev/null; then \
		echo "console: npm not found (install Node.js 20 or later); the console is not built (/console/ answers 503)"; \
	else \
		if [ ! -d console/node_modules ] || [ console/package-lock.json -nt console/node_modules ]; then \
			(cd console && npm ci && mkdir -p node_modules && touch node_modules) || exit 1; \
		fi; \
		(cd console && npm run build); \
	fi

## Chromium for the console's end-to-end test: Debian's package, installed
## when missing (as root, or through sudo).
chromium:
	@command -v chromium >/dev/null || { \
		echo "chromium: installing Debian's chromium package"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

## The README's console screenshots, from the last end-to-end run.
console-screenshots:
	mkdir -p docs/console
	for view in ticket unassigned collision dashboard admin palette ticket-tablet; do \
		cp .local/console-e2e/$$view.png docs/console/; done

## Every test: unit, handler, moto integration, end-to-end (the console's in
## Chromium among them) and the agent API's schema fuzzing (schemathesis
## against the local stack).
test: $(VENV)/.installed $(FUZZ_VENV)/.installed test-stack test-console test-rust

## The console's unit tests (Vitest); its browser run is tests/tests/console.rs.
test-console: console
	cd console && npm test

test-rust: $(VENV)/.installed $(FUZZ_VENV)/.installed console chromium
	cargo test --workspace --all-targets -- --color never

test-stack: $(VENV)/.installed
	$(VENV)/bin/python infra/local/test_stack.py

## Format, lint and template checks (what CI adds to `make test`).
lint: fmt clippy validate template-checks console-lint

## The console's type check and linter.
console-lint: console
	cd console && npm run typecheck && npm run lint

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

validate: $(LINT_VENV)/.installed
	$(LINT_VENV)/bin/sam validate --lint --template template.yaml

## cfn-lint with the serverless rules, and checkov (offline): every finding
## is fixed or answered in the template with its reason.
template-checks: $(CHECKS_VENV)/.installed
	$(CHECKS_VENV)/bin/cfn-lint --append-rules cfn_lint_serverless.rules -- template.yaml
	BC_SKIP_MAPPING=TRUE $(CHECKS_VENV)/bin/checkov -f template.yaml --framework cloudformation \
		--skip-download --compact --quiet

## Fuzzing (cargo-fuzz, libFuzzer) of the webhook's signature check and
## envelope parse, the desk configuration loader, media type sniffing, image
## decoding with EXIF, and the business calendar: each target for
## FUZZ_SECONDS (default 10 minutes). Seeds: shared/fuzz/seeds, the Cloud API
## fixtures in ../shared/fixtures, config/ and the README's screenshots; what
## the fuzzer learns stays in .local/fuzz. A crash stops the run and leaves
## its input in shared/fuzz/artifacts/<target>/.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := webhook desk_config media_sniff image calendar
CARGO_FUZZ_VERSION := 0.13.1
CARGO_FUZZ := $(CURDIR)/.tools/bin/cargo-fuzz
FIXTURES := $(CURDIR)/../shared/fixtures/whatsapp

fuzz: $(CARGO_FUZZ)
	@test -d "$(FIXTURES)" || { echo "fuzz: $(FIXTURES) is missing (the Cloud API fixtures seed the webhook target)"; exit 1; }
	@for target in $(FUZZ_TARGETS); do \
		mkdir -p .local/fuzz/$$target shared/fuzz/seeds/$$target; \
		case $$target in \
			webhook) seeds="$(FIXTURES)/webhooks";; \
			desk_config) seeds="$(CURDIR)/config";; \
			media_sniff|image) seeds="$(CURDIR)/shared/fuzz/seeds/image $(CURDIR)/docs/console";; \
			*) seeds="";; \
		esac; \
		echo "fuzz: $$target for $(FUZZ_SECONDS) s"; \
		(cd shared && RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$(CURDIR)/target/fuzz $(CARGO_FUZZ) run -O $$target \
			$(CURDIR)/.local/fuzz/$$target $(CURDIR)/shared/fuzz/seeds/$$target $$seeds -- \
			-max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1) || exit 1; \
	done

## The short run CI makes: every target for 30 seconds.
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=30

$(CARGO_FUZZ):
	cargo install cargo-fuzz --version $(CARGO_FUZZ_VERSION) --locked --root $(CURDIR)/.tools

ci: test lint

$(VENV)/.installed: infra/local/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/local/requirements.txt
	touch $@

$(LINT_VENV)/.installed: infra/local/requirements-lint.txt
	$(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/local/requirements-lint.txt
	touch $@

$(CHECKS_VENV)/.installed: infra/local/requirements-checks.txt
	$(PYTHON) -m venv $(CHECKS_VENV)
	$(CHECKS_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/local/requirements-checks.txt
	touch $@

$(FUZZ_VENV)/.installed: infra/local/requirements-fuzz.txt
	$(PYTHON) -m venv $(FUZZ_VENV)
	$(FUZZ_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/local/requirements-fuzz.txt
	touch $@

clean-local:
	rm -rf .local
