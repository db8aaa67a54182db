# balancer.nginx — the project's commands. `make demo` and `make test` set up
# everything they need (Debian packages, virtualenv, Docker engine, lab images).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV      := $(CURDIR)/.venv
CACHE     := $(CURDIR)/.cache
COLL_ROOT := $(CACHE)/collections
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLL_ROOT)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := true
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_FORCE_COLOR := 0

.PHONY: help setup apt venv collection lint sanity unit units integration examples build molecule lab demo test bench bench-fleet bench-engine clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | sort

apt: ## install the Debian packages the tests need (nginx, mmdebstrap, ...)
	@scripts/setup-apt.sh

venv: $(VENV)/.stamp ## the pinned Python virtualenv
$(VENV)/.stamp: requirements-dev.txt scripts/setup-venv.sh
	@scripts/setup-venv.sh "$(VENV)"
	@touch $@

collection: venv ## expose the working tree as balancer.nginx under .cache/collections
	@mkdir -p $(COLL_ROOT)/ansible_collections/balancer
	@ln -sfn $(CURDIR) $(COLL_ROOT)/ansible_collections/balancer/nginx

setup: apt venv collection ## everything the fast suites need

lint: setup ## ansible-lint --offline and yamllint
	@scripts/lint.sh

sanity: setup ## ansible-test sanity on a copy of the collection
	@scripts/ansible-test.sh sanity

unit: setup ## pytest of tests/unit, fast, in the virtualenv
	@python -m pytest -q tests/unit

units: setup ## ansible-test units on a copy of the collection
	@scripts/ansible-test.sh units

integration: setup ## real nginx on 127.0.0.1 driven by ansible-playbook, and nginx -t of rendered samples
	@scripts/integration.sh
	@python -m pytest -q -p no:cacheprovider tests/nginx

examples: setup ## run every module's EXAMPLES against /etc/nginx (root; /etc/nginx is restored after)
	@scripts/examples.sh

build: setup ## build the tarball, install it into a fresh path, ansible-doc every module
	@scripts/build-check.sh

lab: setup ## Docker engine and the lab images (cached by input hash)
	@lab/lab.sh images

molecule: lab ## every Molecule scenario, MOLECULE_JOBS (3) at a time; S="a b" runs only those
	@lab/lab.sh molecule $(S)

demo: lab ## build the lab, deploy the example, print the traffic split
	@lab/lab.sh demo

test: ## everything: lint, unit, sanity, units, integration, examples, build, molecule
	@$(MAKE) --no-print-directory setup
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory sanity
	@$(MAKE) --no-print-directory units
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory examples
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory molecule
	@echo "make test: all suites passed"

bench: setup ## converge benchmark through ansible-playbook, sizes 10,100,1000 (BENCH_SIZES=...,10000, BENCH_REPEAT=3, BENCH_ROLE=0, BENCH_VARS=yaml)
	@python benchmarks/bench_converge.py

bench-fleet: lab ## deploy benchmark: ten lab proxies x 100 groups, serial [1, "100%"], against one alone
	@python benchmarks/bench_fleet.py

bench-engine: setup ## engine benchmark: plan 1,000 upstreams x 10 servers + 1,000 vhosts, no Ansible
	@python benchmarks/bench_engine.py

clean: ## remove build output (keeps the virtualenv and lab images)
	rm -rf build tests/output $(CACHE)/ansible-test
