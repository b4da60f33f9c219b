# BranchCare — the two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BC := $(VENV)/bin/branchcare
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: run install install-dev test lint typecheck migrations-check bench load prod-check clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python requirements.txt pyproject.toml
	$(VENV)/bin/pip install -q -r requirements.txt
	$(VENV)/bin/pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.dev-installed

## make run: install, migrate, load the demo branch (only into an empty database) and serve on $(PORT).
run: install
	$(BC) migrate --noinput
	$(BC) seed_demo --if-empty
	@echo ""
	@echo "  BranchCare 营业部客户服务系统: http://127.0.0.1:$(PORT)/"
	@echo "  演示账号 demo accounts: admin director manager1 manager2 consultant1 researcher1 broker1 agent1 compliance1 b2manager1 b2director hq1"
	@echo "  统一密码 password: $${DEMO_PASSWORD:-BranchCare#2026}"
	@echo ""
	@$(BC) run_huey --quiet & HUEY_PID=$$!; trap "kill $$HUEY_PID 2>/dev/null" EXIT INT TERM; \
		$(BC) runserver 127.0.0.1:$(PORT)

## make test: install test dependencies (and Chromium for browser tests) and run the whole suite.
test: install-dev
	bash scripts/ensure-chromium.sh
	bash scripts/run-tests.sh

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install-dev
	$(VENV)/bin/mypy branchcare config

migrations-check: install-dev
	DJANGO_SETTINGS_MODULE=config.settings.test $(BC) makemigrations --check --dry-run

bench: install
	$(VENV)/bin/python bench/run_all.py

## make load: 100 users for 10 min against gunicorn + PostgreSQL on 127.0.0.1 (not part of make test).
load: install
	$(VENV)/bin/pip install -q -r requirements-load.txt
	bash loadtest/run.sh

prod-check: install
	SECRET_KEY=$${SECRET_KEY:-prod-check-$$(head -c 32 /dev/urandom | base64)} ALLOWED_HOSTS=$${ALLOWED_HOSTS:-branchcare.example} \
		DJANGO_SETTINGS_MODULE=config.settings.production $(BC) check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var
