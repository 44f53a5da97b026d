#!/usr/bin/env bash
# Benchmark of the officers' list pages and of the violator list download. Generates N
# employers with `quota-levy demo generate` and assesses them once (kept in $DATA_DIR for
# later runs), creates one signed-in user per role, then, against a release
# `quota-levy serve` on loopback:
#   1. the violator CSV (`GET /inspector/violations.csv`, every row of the region):
#      first download (the list decided and stored, then streamed) and second (read
#      from the stored list), time of each and the server's peak RSS over both
#      (/usr/bin/time -v on a server started for this alone);
#   2. p50/p99 under wrk of the first page of every officers' list, with the signed-in
#      session cookie: /inspector, /federation, /tax/roll, /tax/arrears, /admin/audit
#      (and a later /inspector page by its keyset cursor), and the tax overview /tax
#      (the region's figures by county), after one request that is timed alone (the
#      inspector's decides the list when none is stored yet);
#   3. the query plans of one inspector page (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE).
# The figures go into the "Lists" section of BENCHMARKS.md.
#
# Usage: scripts/bench-lists.sh [N]            (default 200000)
# Environment:
#   BACKENDS        "sqlite" (default), "postgres" or "sqlite postgres"
#   PG_ADMIN_URL    postgres://postgres@127.0.0.1/postgres (default); the database
#                   ql_lists_N is created on that server and kept
#   DATA_DIR        where the SQLite file is kept (default /tmp/ql-lists-data)
#   BIN             the binary (default target/release/quota-levy, built here)
#   LABEL           what the binary is, in the tables (default the commit)
#   DURATION        wrk duration per page (default 15s)
#   CONNECTIONS     wrk connections (default 4: a few officers at once)
#   PAGES_ONLY=1    skip the CSV; CSV_ONLY=1 skip the pages
#   FRESH=1         regenerate the data even if it is there
set -euo pipefail

N="${1:-200000}"
BACKENDS="${BACKENDS:-sqlite}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1/postgres}"
PG_DB="ql_lists_$N"
DATA_DIR="${DATA_DIR:-/tmp/ql-lists-data}"
DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-4}"
YEAR=2025
AS_OF=2026-01-30
PASSWORD="bench passphrase 一二三四"

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
if [[ -z "${BIN:-}" ]]; then
    echo "== building release"
    cargo build --release --quiet --bin quota-levy
    BIN="$ROOT/target/release/quota-levy"
fi
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
LABEL="${LABEL:-$(git rev-parse --short HEAD)$(git diff --quiet || echo +changes)}"
mkdir -p "$DATA_DIR"
WORK="$(mktemp -d /tmp/ql-bench-lists.XXXXXX)"
SERVER=""
stop_server() {
    if [[ -n "$SERVER" ]]; then
        # The server is the child of /usr/bin/time when timed: stop it, let time report.
        local child
        child="$(pgrep -P "$SERVER" || true)"
        kill -INT ${child:-$SERVER} 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
        SERVER=""
    fi
}
trap 'stop_server; rm -rf "$WORK"' EXIT

pg_url() { local base="${PG_ADMIN_URL%%\?*}"; echo "${base%/*}/$1"; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
to_seconds() {
    awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<<"$1"
}

prepare() { # backend url
    local backend="$1" url="$2" marker="$DATA_DIR/$1-$N.ready"
    export QUOTA_LEVY__DATABASE__URL="$url"
    if [[ -f "$marker" && "${FRESH:-0}" != 1 ]]; then
        "$BIN" migrate >/dev/null
        return
    fi
    echo "== $backend: generating and assessing $N employers"
    "$BIN" migrate >/dev/null
    "$BIN" demo generate --employers "$N" --levy-year "$YEAR" --seed 1 >/dev/null
    "$BIN" assess --levy-year "$YEAR" >/dev/null
    for u in insp:inspector fed:federation taxu:tax root:admin; do
        printf '%s\n' "$PASSWORD" | "$BIN" user create "${u%%:*}" --role "${u##*:}" >/dev/null
    done
    if [[ "$backend" == postgres ]]; then psql "$url" -qc "VACUUM ANALYZE" >/dev/null; fi
    touch "$marker"
}

serve() { # timed(0|1) → BASE, SERVER
    local port
    port="$(free_port)"
    if [[ "$1" == 1 ]]; then
        QUOTA_LEVY__SERVER__PORT="$port" QUOTA_LEVY__LOG__LEVEL=warn \
            /usr/bin/time -v -o "$WORK/serve.time" "$BIN" serve >"$WORK/serve.log" 2>&1 &
    else
        QUOTA_LEVY__SERVER__PORT="$port" QUOTA_LEVY__LOG__LEVEL=warn \
            "$BIN" serve >"$WORK/serve.log" 2>&1 &
    fi
    SERVER=$!
    BASE="http://127.0.0.1:$port"
    for _ in $(seq 1 200); do curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && return; sleep 0.1; done
    cat "$WORK/serve.log" >&2
    exit 1
}

session_of() { # username → the ql_session cookie pair
    local h="$WORK/login.h" body="$WORK/login.html" csrf_cookie csrf
    curl -s -D "$h" -o "$body" "$BASE/login"
    csrf_cookie="$(sed -n 's/^[Ss]et-[Cc]ookie: \(ql_csrf=[^;]*\).*/\1/p' "$h" | tr -d '\r')"
    csrf="$(python3 -c 'import re, sys; print(re.search(r"name=\"csrf_token\" value=\"([^\"]+)\"", open(sys.argv[1]).read()).group(1))' "$body")"
    curl -s -D "$h" -o /dev/null -H "Cookie: $csrf_cookie" \
        --data-urlencode "csrf_token=$csrf" --data-urlencode "username=$1" \
        --data-urlencode "password=$PASSWORD" "$BASE/login"
    sed -n 's/^[Ss]et-[Cc]ookie: \(ql_session=[^;]*\).*/\1/p' "$h" | tr -d '\r'
}

ROWS="$WORK/rows.tsv"
: >"$ROWS"
PLANS="$WORK/plans.md"
: >"$PLANS"

forget_lists() { # backend url: the first download then decides the list, every run
    local sql="DELETE FROM violator_entries; DELETE FROM violator_lists;"
    if [[ "$1" == sqlite ]]; then sqlite3 "${2#sqlite://}" "$sql"; else psql "$2" -qc "$sql" >/dev/null; fi
}

csv_bench() { # backend url
    forget_lists "$1" "$2"
    serve 1
    local cookie url t1 t2 lines rss
    cookie="$(session_of insp)"
    url="$BASE/inspector/violations.csv?levy_year=$YEAR&as_of=$AS_OF"
    t1="$(curl -fsS -H "Cookie: $cookie" -o "$WORK/v.csv" -w '%{time_total}' "$url")"
    lines="$(($(wc -l <"$WORK/v.csv") - 1))"
    t2="$(curl -fsS -H "Cookie: $cookie" -o "$WORK/v2.csv" -w '%{time_total}' "$url")"
    cmp -s "$WORK/v.csv" "$WORK/v2.csv" || { echo "the two downloads differ" >&2; exit 1; }
    stop_server
    rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/serve.time")"
    printf 'csv\t%s\t%s\t%s\t%s\t%s\n' "$1" "$t1" "$t2" "$lines" "$((rss / 1024))" >>"$ROWS"
    echo "== $1 CSV: $lines rows; first ${t1} s (decided + streamed), second ${t2} s; server peak RSS $((rss / 1024)) MB"
}

page_bench() { # backend
    serve 0
    local insp fed tax root first next spec name cookie url
    insp="$(session_of insp)"; fed="$(session_of fed)"; tax="$(session_of taxu)"; root="$(session_of root)"
    first="$BASE/inspector?levy_year=$YEAR&as_of=$AS_OF"
    # A page deep in the list: the cursor of the first page's "next" link, followed 20 times.
    next="$first"
    for _ in $(seq 1 20); do
        next="$BASE$(curl -fsS -H "Cookie: $insp" "$next" | python3 -c 'import re, sys, html; m = re.search(r"<a href=\"([^\"]+)\" rel=\"next\"", sys.stdin.read()); print(html.unescape(m.group(1)))')"
    done
    for spec in "inspector|$insp|$first" "inspector-page-21|$insp|$next" \
        "federation|$fed|$BASE/federation?levy_year=$YEAR" \
        "tax-roll|$tax|$BASE/tax/roll?levy_year=$YEAR" \
        "tax-arrears|$tax|$BASE/tax/arrears?levy_year=$YEAR" \
        "tax-overview|$tax|$BASE/tax?levy_year=$YEAR" \
        "admin-audit|$root|$BASE/admin/audit"; do
        IFS='|' read -r name cookie url <<<"$spec"
        local status t0
        read -r status t0 < <(curl -s -o "$WORK/$name.html" -w '%{http_code} %{time_total}\n' -H "Cookie: $cookie" "$url")
        [[ "$status" == 200 ]] || { echo "$name answered $status" >&2; exit 1; }
        # wrk's default timeout (2 s) would drop slow answers from the latencies.
        wrk -t1 -c"$CONNECTIONS" -d3s --timeout 30s -H "Cookie: $cookie" "$url" >/dev/null
        wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --timeout 30s --latency -H "Cookie: $cookie" "$url" >"$WORK/$name.wrk"
        python3 - "$WORK/$name.wrk" "$name" "$1" "$t0" >>"$ROWS" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(pct):
    m = re.search(r"^\s*%s%%\s+([\d.]+)(us|ms|s)\s*$" % pct, t, re.M)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
if re.search(r"Non-2xx or 3xx responses: (\d+)", t):
    sys.exit(f"{sys.argv[2]}: non-2xx answers\n{t}")
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
print(f"page\t{sys.argv[3]}\t{sys.argv[2]}\t{float(sys.argv[4]) * 1000:.0f}\t{rps:.0f}\t{ms(50):.2f}\t{ms(99):.2f}")
PY
        tail -1 "$ROWS" | awk -F'\t' '{ printf "== %s %s: first %s ms, %s req/s, p50 %s ms, p99 %s ms\n", $2, $3, $4, $5, $6, $7 }'
    done
    stop_server
}

# One inspector page as src/db/violator_lists.rs (page) asks for it, after a cursor in the
# middle of the newest list.
explain() { # backend url
    if [[ "$1" == sqlite ]]; then
        local file="${2#sqlite://}"
        { echo "SQLite, \`EXPLAIN QUERY PLAN\` of one inspector page after a cursor:"; echo '```'
          sqlite3 "$file" "EXPLAIN QUERY PLAN SELECT uscc, name, kind, region, owed_fen, n_rows, rows_json FROM violator_entries WHERE list_id = (SELECT MAX(id) FROM violator_lists) AND region LIKE '4112%' AND owed_fen <= 100000 AND (owed_fen < 100000 OR uscc > '9') ORDER BY owed_fen DESC, uscc LIMIT 51"
          echo '```'; } >>"$PLANS"
    else
        { echo "PostgreSQL, \`EXPLAIN (ANALYZE, BUFFERS)\` of the same page:"; echo '```'
          psql "$2" -qAtc "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT uscc, name, kind, region, owed_fen, n_rows, rows_json FROM violator_entries WHERE list_id = (SELECT MAX(id) FROM violator_lists) AND region LIKE '4112%' AND owed_fen <= 100000 AND (owed_fen < 100000 OR uscc > '9') ORDER BY owed_fen DESC, uscc LIMIT 51"
          echo '```'; } >>"$PLANS"
    fi
}

LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
for b in $BACKENDS; do
    case "$b" in
    sqlite) url="sqlite://$DATA_DIR/lists-$N.db" ;;
    postgres)
        psql "$PG_ADMIN_URL" -qAtc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1 \
            || { psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null; rm -f "$DATA_DIR/postgres-$N.ready"; }
        url="$(pg_url "$PG_DB")" ;;
    *) echo "unknown backend $b" >&2; exit 1 ;;
    esac
    prepare "$b" "$url"
    export QUOTA_LEVY__DATABASE__URL="$url"
    [[ "${PAGES_ONLY:-0}" == 1 ]] || csv_bench "$b" "$url"
    [[ "${CSV_ONLY:-0}" == 1 ]] || page_bench "$b"
    explain "$b" "$url"
done

MACHINE="$(nproc) cores, load avg at start $LOAD"
DATE="$(date -u +%Y-%m-%d)"
python3 - "$ROOT/BENCHMARKS.md" "$ROWS" "$PLANS" "$N" "$MACHINE" "$DATE" "$LABEL" "$CONNECTIONS" "$DURATION" <<'PY'
import sys
path, rows_path, plans_path, n, machine, date, label, conns, duration = sys.argv[1:]
n = int(n)
csv_rows, page_rows = [], []
for line in open(rows_path, encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    if f[0] == "csv":
        _, backend, t1, t2, lines, rss = f
        csv_rows.append(f"| {backend} | {n:,} | {int(lines):,} | {float(t1):.2f} | {float(t2):.2f} | {rss} | {label} | {machine} | {date} |")
    else:
        _, backend, name, first, rps, p50, p99 = f
        mark = "" if float(p99) <= 100 else " (over 100)"
        page_rows.append(f"| {backend} | {n:,} | {name} | {first} | {rps} | {p50} | {p99}{mark} | {label} | {machine} | {date} |")
start, end = "<!-- bench-lists:start -->", "<!-- bench-lists:end -->"
text = open(path, encoding="utf-8").read()
old_csv, old_pages = [], []
if start in text and end in text:
    old = text[text.index(start):text.index(end)]
    for l in old.splitlines():
        if l.startswith("| ") and not l.startswith("| backend"):
            (old_csv if l.count("|") == 10 else old_pages).append(l)
plans = open(plans_path, encoding="utf-8").read()
section = f"""{start}
## Lists (`scripts/bench-lists.sh`)

`scripts/bench-lists.sh N`: `demo generate --employers N --seed 1` assessed by
`quota-levy assess`, a release `quota-levy serve` on loopback. The violator CSV is
`GET /inspector/violations.csv?levy_year=2025&as_of=2026-01-30` with an inspector's
session (every row of the region): the first download decides the list and stores it
(src/registry/violator_list.rs), the second reads the stored list; peak RSS is the
server's over both (/usr/bin/time -v on a server started for them alone). Target: ≤ 256 MB
at 1,000,000 employers.

| backend | employers | CSV rows | first download (s) | second (s) | server peak RSS (MB) | build | machine | date |
|---|---:|---:|---:|---:|---:|---|---|---|
{chr(10).join(old_csv + csv_rows)}

The first page of each officers' list under wrk ({conns} connections, {duration} after 3 s
of warm-up) with the signed-in session cookie; "first" is one request alone before wrk
(the inspector's decides the violator list when none is kept yet for the year and
date, `/tax` reckons its figures when none are kept for the day; after a write both
answer what is kept while the new one is made in the background).
`inspector-page-21` is the page reached by following "next" twenty times (its keyset
cursor in the URL). Target: p99 ≤ 100 ms.

| backend | employers | page | first (ms) | requests/s | p50 (ms) | p99 (ms) | build | machine | date |
|---|---:|---|---:|---:|---:|---:|---|---|---|
{chr(10).join(old_pages + page_rows)}

Query plans of the latest run:

{plans}
{end}"""
if start in text and end in text:
    text = text[:text.index(start)] + section + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w", encoding="utf-8").write(text)
PY
echo "== BENCHMARKS.md updated"
