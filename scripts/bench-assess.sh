#!/usr/bin/env bash
# Benchmark of the batch assessment: generates N employers with
# `quota-levy demo generate`, then times `quota-levy assess --levy-year 2025` end to end
# under /usr/bin/time -v, on SQLite (a temporary file) and on PostgreSQL (a fresh
# database), and writes the figures into the "Batch assessment" section of
# BENCHMARKS.md (other sections are kept).
#
# Usage: scripts/bench-assess.sh [N]          (default 1000000)
# Environment:
#   BACKENDS        "sqlite postgres" (default) or one of them
#   PG_ADMIN_URL    postgres://postgres@127.0.0.1/postgres (default); the benchmark
#                   database ql_bench is dropped and created on that server
#   SEED            generator seed (default 1)
#   WORKERS         PostgreSQL: the worker counts to time, e.g. "1 2" (default "1"):
#                   each `assess --workers W` runs on a fresh copy of the generated
#                   database (CREATE DATABASE … TEMPLATE), so every count starts clean;
#                   SQLite is always timed with one worker (it has one writer)
#   BIN             the binary to time (default target/release/quota-levy, built first);
#                   another one is timed as it is
#   WRITE=0         print the figures only, leave BENCHMARKS.md alone
#   KEEP=1          keep the SQLite file and the PostgreSQL database afterwards
set -euo pipefail

N="${1:-${BENCH_EMPLOYERS:-1000000}}"
BACKENDS="${BACKENDS:-sqlite postgres}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1/postgres}"
PG_DB="${PG_DB:-ql_bench}"
SEED="${SEED:-1}"
WORKERS="${WORKERS:-1}"
YEAR=2025

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
BIN="${BIN:-$ROOT/target/release/quota-levy}"
WORK="$(mktemp -d /tmp/ql-bench.XXXXXX)"
cleanup() {
    if [[ "${KEEP:-0}" != 1 ]]; then
        rm -rf "$WORK"
        if [[ " $BACKENDS " == *" postgres "* ]]; then
            psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
            psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS ${PG_DB}_run WITH (FORCE)" >/dev/null 2>&1 || true
        fi
    else
        echo "kept $WORK (and database $PG_DB)"
    fi
}
trap cleanup EXIT

if [[ "$BIN" == "$ROOT/target/release/quota-levy" ]]; then
    echo "== building release"
    cargo build --release --quiet
fi

pg_url() { # the admin URL with the database replaced
    local base="${PG_ADMIN_URL%%\?*}"
    echo "${base%/*}/$1"
}

# Seconds from /usr/bin/time's "h:mm:ss" or "m:ss.ss".
to_seconds() {
    awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<<"$1"
}

ROWS="$WORK/rows.tsv"
: >"$ROWS"
FLOORS="$WORK/floors.tsv"
: >"$FLOORS"

# The set-based floor on PostgreSQL: one INSERT … SELECT that reads every filed
# declaration of the year, parses its body, applies the main formula of docs/rules.md
# (staff × ratio − disabled, × the capped average wage; the small-enterprise test) and
# writes one row per employer with the figures, the body and its SHA-256 into a scratch
# table without indexes. It is what the database alone needs to do the year's work in
# one statement; the batch run's time over it is the overhead of doing it in Rust, in
# chunks that can be resumed, with every rule and its explanation.
floor() { # url
    local url="$1"
    psql "$url" -qAt >"$WORK/floor.txt" 2>&1 <<SQL
DROP TABLE IF EXISTS bench_floor;
CREATE TABLE bench_floor (employer_id BIGINT, levy_year INTEGER, staff_x12 NUMERIC,
    disabled_x12 NUMERIC, required NUMERIC, shortfall NUMERIC, wage_used_fen BIGINT,
    payable_fen BIGINT, exempt BOOLEAN, inputs_digest TEXT, inputs_json TEXT);
\timing on
INSERT INTO bench_floor
WITH d AS (
    SELECT d.employer_id, d.levy_year, d.body_json, d.body_json::jsonb AS b
    FROM declarations d JOIN employers e ON e.id = d.employer_id
    WHERE d.levy_year = $YEAR AND d.status <> 'draft'
), r AS (
    SELECT employer_id, SUM(bit_count(months_mask::bit(12)))::numeric AS months
    FROM roster_lines WHERE levy_year = $YEAR GROUP BY employer_id
), s AS (
    SELECT d.*, COALESCE((b->'staff'->>'average_headcount')::numeric * 12,
               (SELECT SUM(x::numeric) FROM jsonb_array_elements_text(b->'staff'->'monthly_headcount') x)) AS staff_x12,
           COALESCE(r.months, (b->>'disabled_count')::numeric * 12, 0) AS disabled_x12
    FROM d LEFT JOIN r USING (employer_id)
), w AS (
    SELECT s.*, GREATEST(staff_x12 / 12 * 0.015, 0) AS required,
           COALESCE((b->>'average_wage')::numeric,
                    (b->>'total_wages')::numeric * 12 / NULLIF(staff_x12, 0)) * 100 AS wage_fen
    FROM s
)
SELECT employer_id, levy_year, staff_x12, disabled_x12, required,
       GREATEST(required - disabled_x12 / 12, 0),
       LEAST(wage_fen, 2 * 8000000)::bigint,
       CASE WHEN staff_x12 / 12 <= 30 THEN 0
            ELSE ROUND(GREATEST(required - disabled_x12 / 12, 0) * LEAST(wage_fen, 2 * 8000000)) END::bigint,
       staff_x12 / 12 <= 30,
       encode(sha256(convert_to(body_json, 'UTF8')), 'hex'), body_json
FROM w;
\timing off
SELECT count(*) FROM bench_floor;
DROP TABLE bench_floor;
SQL
    local ms rows
    ms="$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$WORK/floor.txt" | tail -1)"
    rows="$(grep -E '^[0-9]+$' "$WORK/floor.txt" | tail -1)"
    if [[ -z "$ms" || -z "$rows" ]]; then
        cat "$WORK/floor.txt" >&2
        return 1
    fi
    printf '%s\t%.1f\n' "$rows" "$(awk -v m="$ms" 'BEGIN { print m / 1000 }')" >>"$FLOORS"
    echo "== postgres floor: $rows rows in $(awk -v m="$ms" 'BEGIN { printf "%.1f", m / 1000 }') s"
}

generate() { # backend url
    local backend="$1" url="$2"
    echo "== $backend: generating $N employers"
    QUOTA_LEVY__DATABASE__URL="$url" "$BIN" demo generate --employers "$N" --levy-year "$YEAR" --seed "$SEED" | tee "$WORK/$backend-generate.txt"
    if [[ "$backend" == postgres ]]; then
        # A database in service has statistics; a freshly loaded one gets them here.
        psql "$url" -qc "VACUUM ANALYZE" >/dev/null
    fi
}

bench() { # backend url workers
    local backend="$1" url="$2" workers="$3"
    local tag="$backend-w$workers"
    echo "== $backend: assess --levy-year $YEAR --workers $workers"
    QUOTA_LEVY__DATABASE__URL="$url" /usr/bin/time -v "$BIN" assess --levy-year "$YEAR" --workers "$workers" >"$WORK/$tag-assess.txt" 2>"$WORK/$tag-time.txt" || {
        cat "$WORK/$tag-assess.txt" "$WORK/$tag-time.txt" >&2
        return 1
    }
    cat "$WORK/$tag-assess.txt"
    local wall rss secs rate processed
    wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/$tag-time.txt")"
    rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/$tag-time.txt")"
    processed="$(awk '/^  processed /{ print $2 }' "$WORK/$tag-assess.txt")"
    secs="$(to_seconds "$wall")"
    rate="$(awk -v n="$processed" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')"
    printf '%s\t%s\t%s\t%.1f\t%s\t%.0f\n' "$backend" "$workers" "$processed" "$secs" "$rate" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" >>"$ROWS"
    local cpu
    cpu="$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$WORK/$tag-time.txt")"
    echo "== $backend, $workers worker(s): $processed employers in ${secs} s = $rate employers/s, peak RSS $((rss / 1024)) MB, client CPU ${cpu} s"
}

LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
for b in $BACKENDS; do
    case "$b" in
    sqlite)
        generate sqlite "sqlite://$WORK/bench.db"
        bench sqlite "sqlite://$WORK/bench.db" 1
        ;;
    postgres)
        if ! pg_isready -q -d "$PG_ADMIN_URL"; then
            pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
            sleep 2
        fi
        psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
        psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null
        generate postgres "$(pg_url "$PG_DB")"
        floor "$(pg_url "$PG_DB")"
        for w in $WORKERS; do
            psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS ${PG_DB}_run WITH (FORCE)" >/dev/null
            psql "$PG_ADMIN_URL" -qc "CREATE DATABASE ${PG_DB}_run TEMPLATE $PG_DB" >/dev/null
            psql "$(pg_url "${PG_DB}_run")" -qc "ANALYZE" >/dev/null
            bench postgres "$(pg_url "${PG_DB}_run")" "$w"
        done
        psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS ${PG_DB}_run WITH (FORCE)" >/dev/null
        ;;
    *)
        echo "unknown backend $b (sqlite or postgres)" >&2
        exit 2
        ;;
    esac
done

if [[ "${WRITE:-1}" == 0 ]]; then
    cat "$ROWS" "$FLOORS"
    exit 0
fi
# Update BENCHMARKS.md: the rows of this run replace those of the same backend and size.
MACHINE="$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), load avg at start $LOAD"
DATE="$(date -u +%Y-%m-%d)"
COMMAND="WORKERS=\"$WORKERS\" BACKENDS=\"$BACKENDS\" scripts/bench-assess.sh $N"
python3 - "$ROOT/BENCHMARKS.md" "$ROWS" "$MACHINE" "$DATE" "$COMMAND" "$FLOORS" <<'PY'
import re, sys
path, rows_path, machine, date, command, floors_path = sys.argv[1:]
start, end = "<!-- bench-assess:start -->", "<!-- bench-assess:end -->"
try:
    text = open(path, encoding="utf-8").read()
except FileNotFoundError:
    text = "# Benchmarks\n"
rows = {}
if start in text and end in text:
    old = text[text.index(start):text.index(end)]
    for line in old.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0] in ("SQLite", "PostgreSQL"):
            # A row from before the workers column: one worker.
            cells.insert(1, "1")
        if len(cells) == 9 and cells[0] in ("SQLite", "PostgreSQL"):
            rows[(cells[0], cells[1], cells[2])] = cells
floors = {}
if start in text and end in text:
    for line in old.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] == "floor":
            floors[cells[1]] = cells
names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
for line in open(rows_path, encoding="utf-8"):
    b, w, n, secs, rate, rss = line.rstrip("\n").split("\t")
    n_fmt = f"{int(n):,}"
    rows[(names[b], w, n_fmt)] = [names[b], w, n_fmt, secs, f"{int(rate):,}", rss, machine, date, f"`{command}`"]
def key(r):
    return (r[0], -int(r[2].replace(",", "")), int(r[1]))
pg1 = {r[2]: float(r[3]) for r in rows.values() if r[0] == "PostgreSQL" and r[1] == "1"}
for line in open(floors_path, encoding="utf-8"):
    n, secs = line.rstrip("\n").split("\t")
    n_fmt = f"{int(n):,}"
    floors[n_fmt] = ["floor", n_fmt, secs, "", date, f"`{command}`"]
for n_fmt, f in floors.items():
    if n_fmt in pg1 and float(f[2]) > 0:
        f[3] = f"{pg1[n_fmt] / float(f[2]):.1f}"
floor_table = "\n".join(
    ["| what | employers | elapsed (s) | PostgreSQL batch (1 worker) ÷ floor | date | command |",
     "|---|---:|---:|---:|---|---|"]
    + ["| " + " | ".join(f) + " |" for f in sorted(floors.values(), key=lambda f: -int(f[1].replace(",", "")))]
)
table = "\n".join(
    ["| backend | workers | employers | elapsed (s) | employers/s | peak RSS (MB) | machine | date | command |",
     "|---|---:|---:|---:|---:|---:|---|---|---|"]
    + ["| " + " | ".join(r) + " |" for r in sorted(rows.values(), key=key)]
)
section = f"""{start}
## Batch assessment (`quota-levy assess`)

End to end: `/usr/bin/time -v target/release/quota-levy assess --levy-year 2025 --workers W` over
employers made by `quota-levy demo generate --employers N --levy-year 2025 --seed 1`
(about 30 % with a roster, 15 % with a certified count), release build. Elapsed is the
wall clock of the whole process (migration check, run set-up, all chunks, summary);
peak RSS is time's "Maximum resident set size". With several workers on PostgreSQL,
each run starts on a fresh copy of the generated database. Targets: 60 s or less per backend for
1,000,000 employers, peak RSS under 512 MB. The machine is shared: other work running
at the same time (see the load average) slows the figures down.

{table}

The floor: one set-based `INSERT … SELECT` of the main formula (parse each filed
declaration's body, staff × ratio − disabled months, the capped wage, the
small-enterprise test, the body's SHA-256) into a scratch table without indexes, timed
in psql on the same generated database (`floor` in the script).

{floor_table}
"""
if start in text and end in text:
    text = text[:text.index(start)] + section + text[text.index(end):]
else:
    text = text.rstrip("\n") + "\n\n" + section + end + "\n"
open(path, "w", encoding="utf-8").write(text)
PY
echo "== BENCHMARKS.md updated"
