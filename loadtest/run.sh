#!/usr/bin/env bash
# `make load`: the daily work of managers, directors and agents, LOAD_USERS at once for LOAD_DURATION,
# against gunicorn + PostgreSQL on 127.0.0.1 only. See loadtest/README.md.
#
#   1. (re)create the PostgreSQL database $LOAD_DB, migrate, seed_demo, gen_scale --clients $LOAD_CLIENTS,
#      and add the load-test accounts and their own clients (bench/out/load_accounts.json);
#   2. collectstatic and start gunicorn (production settings) on 127.0.0.1:$LOAD_PORT;
#   3. run locust headless, CSV stats in bench/out/load_*.csv;
#   4. print the summary (requests, failures, p50/p95/p99 per endpoint and in total), stop gunicorn,
#      exit non-zero when any request failed or the server answered 5xx.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
V=$ROOT/.venv/bin

LOAD_DURATION=${LOAD_DURATION:-10m}
LOAD_USERS=${LOAD_USERS:-100}
LOAD_SPAWN_RATE=${LOAD_SPAWN_RATE:-10}
LOAD_PORT=${LOAD_PORT:-8088}
LOAD_WORKERS=${LOAD_WORKERS:-4}
LOAD_CLIENTS=${LOAD_CLIENTS:-100000}
LOAD_DB=${LOAD_DB:-branchcare_load}
LOAD_REUSE_DB=${LOAD_REUSE_DB:-0}     # 1: keep an already prepared $LOAD_DB (skips the ~1 min setup)
LOAD_PGUSER=${LOAD_PGUSER:-postgres}
LOAD_PGPORT=${LOAD_PGPORT:-5432}
HOST=127.0.0.1                        # never anything but loopback
OUT=$ROOT/bench/out
VAR=${LOAD_VAR_DIR:-$OUT/load-var}
# One account per simulated user and role: enough for every user even if all were of one role.
LOAD_ACCOUNTS_PER_ROLE=${LOAD_ACCOUNTS_PER_ROLE:-$((LOAD_USERS > 100 ? LOAD_USERS : 100))}

case "$LOAD_DB" in
  test | postgres | template0 | template1 | branchcare) echo "refusing to use database '$LOAD_DB'" >&2; exit 2 ;;
esac
[ -x "$V/locust" ] || { echo "locust is not installed: run 'make load' (installs requirements-load.txt)" >&2; exit 2; }
command -v psql >/dev/null || { echo "psql not found" >&2; exit 2; }
if curl -s -o /dev/null "http://$HOST:$LOAD_PORT/"; then
  echo "something already listens on $HOST:$LOAD_PORT; set LOAD_PORT" >&2
  exit 2
fi

mkdir -p "$OUT" "$VAR"
export PYTHONDONTWRITEBYTECODE=1
export DEMO_PASSWORD=${DEMO_PASSWORD:-BranchCare#2026}
export DATABASE_URL="postgres://$LOAD_PGUSER@$HOST:$LOAD_PGPORT/$LOAD_DB"
export BRANCHCARE_VAR_DIR=$VAR
export LOAD_ACCOUNTS=$OUT/load_accounts.json
export LOAD_ACCOUNTS_PER_ROLE
PSQL=(psql -h "$HOST" -p "$LOAD_PGPORT" -U "$LOAD_PGUSER" -v ON_ERROR_STOP=1 -qAt)

step() { echo "== $(date +%H:%M:%S) $*"; }

# --- 1. database ----------------------------------------------------------------------------------------
exists=$("${PSQL[@]}" -d postgres -c "select 1 from pg_database where datname = '$LOAD_DB'")
if [ "$LOAD_REUSE_DB" = 1 ] && [ "$exists" = 1 ] && [ -s "$LOAD_ACCOUNTS" ]; then
  step "reusing database $LOAD_DB (migrate only)"
  DJANGO_SETTINGS_MODULE=config.settings.local DEBUG=0 "$V/branchcare" migrate --noinput -v 0
else
  step "creating database $LOAD_DB"
  "${PSQL[@]}" -d postgres -c "drop database if exists \"$LOAD_DB\" with (force)"
  "${PSQL[@]}" -d postgres -c "create database \"$LOAD_DB\""
  # seed_demo and gen_scale refuse production settings: the data is prepared with local settings.
  export DJANGO_SETTINGS_MODULE=config.settings.local DEBUG=0
  step "migrate"
  "$V/branchcare" migrate --noinput -v 0
  step "seed_demo"
  "$V/branchcare" seed_demo >/dev/null
  step "gen_scale --clients $LOAD_CLIENTS"
  "$V/branchcare" gen_scale --clients "$LOAD_CLIENTS" | tail -n 1
  step "load-test accounts and their clients"
  "$V/branchcare" shell -c "$(
    cat <<'PY'
import json
import os

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from branchcare.clients.models import Client
from branchcare.clients.pinyin import name_pinyin
from branchcare.org.models import Branch, Role, User

n = int(os.environ["LOAD_ACCOUNTS_PER_ROLE"])
hashed = make_password(settings.BRANCHCARE["DEMO_PASSWORD"])
branches = list(Branch.objects.filter(code__regex=r"^S[0-9]{3}$").order_by("code"))
roles = {r.code: r for r in Role.objects.filter(code__in=["director", "agent"])}
# Managers from gen_scale (s001m01 …), interleaved over the branches.
managers = sorted(
    User.objects.filter(username__regex=r"^s[0-9]{3}m[0-9]{2}$").select_related("branch"),
    key=lambda u: (u.username[-2:], u.username),
)[:n]
if len(managers) < n:
    raise SystemExit(f"only {len(managers)} gen_scale managers; need {n} (raise --managers-per-branch)")
with transaction.atomic():
    made = {}
    for role, prefix in (("director", "ltdir"), ("agent", "ltagent")):
        made[role] = []
        for i in range(1, n + 1):
            user = User.objects.filter(username=f"{prefix}{i:03d}").first() or User(username=f"{prefix}{i:03d}")
            user.name, user.branch, user.password = f"压测{i}", branches[(i - 1) % len(branches)], hashed
            user.is_active = True
            user.save()
            user.roles.set([roles[role]])
            made[role].append(user)
    pinyin, initials = name_pinyin("压测客户")
    pool = []
    for i, user in enumerate([*managers, *made["director"]], start=1):
        client, _created = Client.objects.get_or_create(
            branch=user.branch,
            client_no=f"LT{i:06d}",
            defaults={"name": "压测客户", "name_pinyin": pinyin, "name_initials": initials,
                      "manager": user if user in managers else None, "notes": ""},
        )
        pool.append((user, client.pk))
pool_of = {u.username: pk for u, pk in pool}
accounts = {
    "manager": [{"username": u.username, "pool_client": pool_of[u.username]} for u in managers],
    "director": [{"username": u.username, "pool_client": pool_of[u.username]} for u in made["director"]],
    "agent": [{"username": u.username, "pool_client": None} for u in made["agent"]],
}
with open(os.environ["LOAD_ACCOUNTS"], "w", encoding="utf-8") as f:
    json.dump({"accounts": accounts}, f, ensure_ascii=False, indent=1)
print(f"{len(managers)} managers, {n} directors, {n} agents; {len(pool)} load-test clients")
PY
  )"
  unset DJANGO_SETTINGS_MODULE DEBUG
fi
clients=$("${PSQL[@]}" -d "$LOAD_DB" -c "select count(*) from clients_client")
step "database $LOAD_DB: $clients clients"

# --- 2. gunicorn ----------------------------------------------------------------------------------------
export DJANGO_SETTINGS_MODULE=config.settings.production
SECRET_KEY="load-$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
export SECRET_KEY ALLOWED_HOSTS=$HOST SECURE_SSL_REDIRECT=0 SECURE_COOKIES=0 SECURE_HSTS_SECONDS=0
export TWO_FACTOR_REQUIRED=0 DB_CONN_MAX_AGE=${DB_CONN_MAX_AGE:-60} LOG_LEVEL=WARNING
step "collectstatic"
"$V/branchcare" collectstatic --noinput -v 0
step "gunicorn on $HOST:$LOAD_PORT, $LOAD_WORKERS workers"
rm -f "$OUT/load_gunicorn_access.log" "$OUT/load_gunicorn.log"
"$V/gunicorn" config.wsgi --bind "$HOST:$LOAD_PORT" --workers "$LOAD_WORKERS" --timeout 120 \
  --access-logfile "$OUT/load_gunicorn_access.log" --error-logfile "$OUT/load_gunicorn.log" \
  >>"$OUT/load_gunicorn.log" 2>&1 &
GUNICORN_PID=$!
stop_gunicorn() {
  if kill -0 "$GUNICORN_PID" 2>/dev/null; then
    kill -TERM "$GUNICORN_PID" 2>/dev/null || true
    wait "$GUNICORN_PID" 2>/dev/null || true
  fi
}
trap stop_gunicorn EXIT INT TERM
for _ in $(seq 1 60); do
  curl -sf -o /dev/null "http://$HOST:$LOAD_PORT/healthz" && break
  kill -0 "$GUNICORN_PID" 2>/dev/null || { echo "gunicorn died:" >&2; tail -n 30 "$OUT/load_gunicorn.log" >&2; exit 1; }
  sleep 1
done
curl -sf -o /dev/null "http://$HOST:$LOAD_PORT/healthz" || { echo "gunicorn not ready" >&2; exit 1; }

# --- 3. locust --------------------------------------------------------------------------------------------
step "locust: $LOAD_USERS users, spawn $LOAD_SPAWN_RATE/s, $LOAD_DURATION"
rm -f "$OUT"/load_stats*.csv "$OUT"/load_failures.csv "$OUT"/load_exceptions.csv
set +e
"$V/locust" -f loadtest/locustfile.py --headless --host "http://$HOST:$LOAD_PORT" \
  --users "$LOAD_USERS" --spawn-rate "$LOAD_SPAWN_RATE" --run-time "$LOAD_DURATION" --stop-timeout 10 \
  --csv "$OUT/load" --only-summary --loglevel WARNING --logfile "$OUT/load_locust.log" >/dev/null 2>&1
locust_rc=$?
set -e
stop_gunicorn
trap - EXIT INT TERM

# --- 4. summary -------------------------------------------------------------------------------------------
server_errors=$(awk '$9 ~ /^5[0-9][0-9]$/' "$OUT/load_gunicorn_access.log" | wc -l)
tracebacks=$(grep -c "Traceback" "$OUT/load_gunicorn.log" || true)
"$V/python" - "$OUT/load_stats.csv" "$OUT/load_failures.csv" "$LOAD_USERS" "$LOAD_DURATION" \
  "$server_errors" "$tracebacks" "$locust_rc" <<'PY'
import csv
import sys

stats_path, failures_path, users, duration, server_errors, tracebacks, locust_rc = sys.argv[1:]
with open(stats_path, encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
total = next(r for r in rows if r["Name"] == "Aggregated")
endpoints = sorted((r for r in rows if r["Name"] != "Aggregated"), key=lambda r: -int(r["Request Count"]))


def ms(value: str) -> str:
    return "-" if value in ("", "N/A") else f"{float(value):.0f}"


width = max(len(f"{r['Type']} {r['Name']}") for r in rows)
print(f"\nload test: {users} users for {duration} against gunicorn + PostgreSQL (127.0.0.1)\n")
print(f"{'endpoint':<{width}}  {'requests':>9} {'fail':>5} {'rps':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>6}  ms")
for r in [*endpoints, total]:
    label = "TOTAL" if r is total else f"{r['Type']} {r['Name']}"
    print(
        f"{label:<{width}}  {int(r['Request Count']):>9} {int(r['Failure Count']):>5} "
        f"{float(r['Requests/s']):>6.1f} {ms(r['50%']):>6} {ms(r['95%']):>6} {ms(r['99%']):>6} "
        f"{ms(r['Max Response Time']):>6}"
    )
failures = int(total["Failure Count"])
print(
    f"\nrequests {total['Request Count']}, failures {failures}, {float(total['Requests/s']):.1f} req/s, "
    f"p50 {ms(total['50%'])} ms, p95 {ms(total['95%'])} ms, p99 {ms(total['99%'])} ms; "
    f"server 5xx {server_errors}, tracebacks {tracebacks}, locust exit {locust_rc}"
)
if failures:
    with open(failures_path, encoding="utf-8") as f:
        for r in list(csv.DictReader(f))[:20]:
            print(f"  FAILED {r['Occurrences']}x {r['Method']} {r['Name']}: {r['Error'][:200]}")
ok = failures == 0 and int(server_errors) == 0 and int(tracebacks) == 0 and int(locust_rc) == 0
print("RESULT:", "PASS (0 errors)" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
