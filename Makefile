# Recouvra: the two commands a newcomer needs are `make up` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
export UV_PYTHON := python3.11
export UV_PYTHON_DOWNLOADS := never
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv/bin
STACK := deploy/local/stack.sh
SERVICES := deploy/local/services.sh
BROWSER := deploy/local/browser.sh
WITH_STACK = eval "$$($(STACK) env)" &&

.PHONY: help install up down stack stack-stop services services-stop migrate test test-unit \
        test-integration test-e2e browser lint format proto proto-check bench bench-compare status \
        chaos image k8s-check

help:  ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

install:  ## Install uv, every package of the workspace from the lock file, and the Debian packages they and the tests need
	@[[ -x "$(UV)" ]] || python3 -m pip install --quiet --user "uv==$(UV_VERSION)"
	$(UV) sync --frozen --all-packages
	deploy/local/system_packages.sh install

up: install stack services  ## Install everything, start the stack and every service

down: services-stop stack-stop  ## Stop every service and the stack

status:  ## Show what runs
	$(STACK) status || true
	$(SERVICES) status || true

stack: install  ## Install (cached) and start Kafka, PostgreSQL, SeaweedFS, Mailpit and Prometheus on 127.0.0.1
	$(STACK) start

stack-stop:
	$(STACK) stop

services: install stack  ## Migrate and start every service in the background (logs in var/log)
	$(SERVICES) start

services-stop:
	@[[ ! -x $(VENV)/python ]] || $(SERVICES) stop

migrate: install stack  ## Bring every service's database schema up to date
	$(WITH_STACK) for s in gateway intake scoring matching messaging vault settlement; do \
	  $(VENV)/python -m $$s migrate; done

test: install stack browser  ## Install everything and run every test tier against the real stack
	deploy/local/toxiproxy.sh install  # the chaos harness's TCP proxy (tests/chaos)
	deploy/local/system_packages.sh install images  # buildah, podman: the image test
	$(VENV)/pytest -n 2 -m "not integration and not e2e"
	$(WITH_STACK) $(VENV)/pytest -m "integration or e2e" --durations=30  # the slowest, for the 90-minute CI limit

test-unit: install  ## Unit tests only (no servers needed)
	$(VENV)/pytest -n 2 -m "not integration and not e2e"

test-integration: install stack
	deploy/local/system_packages.sh install images  # buildah, podman: the image test
	$(WITH_STACK) $(VENV)/pytest -m integration

test-e2e: install stack browser
	$(WITH_STACK) $(VENV)/pytest -m e2e

browser:  ## Install Debian's Chromium (once) for the browser tests in tests/browser
	$(BROWSER) install

lint: install  ## ruff, mypy, the import contracts (.importlinter) and a check that generated contracts are fresh
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy shared/src services/*/src
	$(VENV)/lint-imports --no-cache
	PATH=$(CURDIR)/$(VENV):$$PATH $(VENV)/python proto/generate.py --check
	@if [[ -x k8s/validate.sh ]]; then k8s/validate.sh; fi
	@if command -v promtool >/dev/null; then cd k8s/monitoring && promtool check rules prometheus-rules.yml \
	  && promtool test rules prometheus-rules.test.yml; else echo "promtool missing: make stack installs it"; fi

format: install  ## Format and autofix
	$(VENV)/ruff format .
	$(VENV)/ruff check --fix .

proto: install  ## Regenerate the Python code from proto/
	PATH=$(CURDIR)/$(VENV):$$PATH $(VENV)/python proto/generate.py

bench: install stack  ## Every bench, then one table (path, figure, baseline, ratio, target, met) saved in var/bench/
	mkdir -p var/bench && rows=$(CURDIR)/var/bench/rows-$$$$.jsonl && failed=() && \
	for b in tests/bench/bench_*.py services/*/bench/bench_*.py; do \
	  [[ -f $$b ]] || continue; echo "== $$b"; quick=--quick; \
	  [[ $$b == tests/bench/bench_platform.py ]] && quick=; \
	  $(WITH_STACK) RECOUVRA_BENCH_ROWS=$$rows $(VENV)/python $$b $$quick || failed+=("$$b"); done; \
	echo "== one table"; status=0; \
	$(VENV)/python -m tests.support.bench_table table $$rows --failed "$${failed[@]}" || status=$$?; \
	rm -f $$rows; exit $$status

k8s-check:  ## Apply the manifests to a real kube-apiserver (built once into ~/.cache/recouvra, a long first build) with kwok nodes
	k8s/apiserver-check.sh

chaos: install stack  ## The long fault run (tests/chaos): users, seeded faults, the verdict in var/chaos/
	deploy/local/toxiproxy.sh install
	$(WITH_STACK) $(VENV)/python -m tests.chaos.run --own-kafka --own-s3 --cases $${CASES:-10000} \
	  --faults $${FAULTS:-200} $${SEED:+--seed $$SEED}

bench-compare: install  ## Each row of the latest make bench beside the run before it
	$(VENV)/python -m tests.support.bench_table compare

image: install  ## Build the image (deploy/Dockerfile) with buildah on a local Debian base; prints its size
	deploy/local/system_packages.sh install images
	UV="$(UV)" deploy/local/image.sh build
