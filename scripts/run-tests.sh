#!/usr/bin/env bash
# The whole suite: checks, unit/service/view/API tests in parallel, then the browser tests.
set -uo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=config.settings.test
export PYTHONDONTWRITEBYTECODE=1
V=.venv/bin
db=${DATABASE_URL:-sqlite}
echo "== database: ${db%%:*}"
fail=0
$V/ruff check . || fail=1
$V/ruff format --check . >/dev/null || { echo "ruff format: files need formatting (run .venv/bin/ruff format .)"; fail=1; }
$V/branchcare makemigrations --check --dry-run >/dev/null || { echo "makemigrations --check: missing migrations"; fail=1; }
$V/mypy branchcare config || fail=1

run_pytest() {
  $V/pytest "$@"
  rc=$?
  # Exit 5 means "no tests collected": not a failure of the code, but say so.
  if [ $rc -eq 5 ]; then echo "pytest: no tests collected for: $*"; rc=0; fi
  return $rc
}
run_pytest -m "not browser" -n 2 -q || fail=1
DJANGO_ALLOW_ASYNC_UNSAFE=true run_pytest -m browser -q -p no:xdist || fail=1
exit $fail
