#!/usr/bin/env bash
# Benchmark of the levy roll export (`quota-levy levy-roll export`, CSV and XLSX) against
# a floor measured in the same run: the database's own export of the same join in USCC
# order (sqlite3 `.mode csv`, psql `COPY … TO STDOUT`), which does no surcharge, no
# formatting and no workbook. Generates N employers with `quota-levy demo generate` and
# assesses them once per backend (kept in $DATA_DIR for later runs), then times each
# export end to end under /usr/bin/time -v and writes the figures, with the query plans
# of one chunk (EXPLAIN on both backends), into the "Levy roll" section of BENCHMARKS.md.
#
# Usage: scripts/bench-roll.sh [N]            (default 200000)
# Environment:
#   BACKENDS        "sqlite postgres" (default) or one of them
#   FORMATS         "csv xlsx" (default) or one of them
#   PG_ADMIN_URL    postgres://postgres@127.0.0.1/postgres (default); the database
#                   ql_roll_N is created on that server and kept
#   DATA_DIR        where the SQLite file is kept (default /tmp/ql-roll-data)
#   BIN             the binary timed (default target/release/quota-levy, built here)
#   LABEL           what the binary is, in the table (default the commit)
#   FRESH=1         regenerate the data even if it is there
set -euo pipefail

N="${1:-200000}"
BACKENDS="${BACKENDS:-sqlite postgres}"
FORMATS="${FORMATS:-csv xlsx}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1/postgres}"
PG_DB="ql_roll_$N"
DATA_DIR="${DATA_DIR:-/tmp/ql-roll-data}"
YEAR=2025

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
if [[ -z "${BIN:-}" ]]; then
    echo "== building release"
    cargo build --release --quiet --bin quota-levy
    BIN="$ROOT/target/release/quota-levy"
fi
LABEL="${LABEL:-$(git rev-parse --short HEAD)$(git diff --quiet || echo +changes)}"
mkdir -p "$DATA_DIR"
WORK="$(mktemp -d /tmp/ql-bench-roll.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

pg_url() { local base="${PG_ADMIN_URL%%\?*}"; echo "${base%/*}/$1"; }
to_seconds() {
    awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<<"$1"
}

# The roll's join as the database exports it: the floor.
FLOOR_SQL="SELECT e.id, e.uscc, e.name, e.kind, e.region, a.staff_x12_e4, a.required_e4, \
a.disabled_x12_e4, a.payable_fen, a.exempt, a.policy_snapshot_id, a.shortfall_e4 \
FROM employers e JOIN assessments a ON a.employer_id = e.id AND a.levy_year = $YEAR AND a.is_current \
WHERE e.region LIKE '41%' ORDER BY e.uscc"
# One chunk of the roll as src/db/assessments.rs (roll_chunk) asks for it, after a USCC
# in the middle.
CHUNK_COLUMNS="e.id, e.uscc, e.name, e.kind, e.region, a.staff_x12_e4, a.required_e4, \
a.disabled_x12_e4, a.payable_fen, a.exempt, a.policy_snapshot_id, a.shortfall_e4"
CHUNK_WHERE="WHERE e.uscc > '9' AND e.region LIKE '41%' AND a.employer_id = e.id \
AND a.levy_year = $YEAR AND a.is_current ORDER BY e.uscc LIMIT 2000"
SQLITE_CHUNK_SQL="SELECT $CHUNK_COLUMNS FROM employers e CROSS JOIN assessments a \
INDEXED BY assessments_roll $CHUNK_WHERE"
PG_CHUNK_SQL="SELECT $CHUNK_COLUMNS FROM employers e CROSS JOIN assessments a $CHUNK_WHERE"

prepare() { # backend url
    local backend="$1" url="$2" marker="$DATA_DIR/$1-$N.ready"
    if [[ -f "$marker" && "${FRESH:-0}" != 1 ]]; then return; fi
    export QUOTA_LEVY__DATABASE__URL="$url"
    echo "== $backend: generating and assessing $N employers"
    "$BIN" demo generate --employers "$N" --levy-year "$YEAR" --seed 1 >/dev/null
    "$BIN" assess --levy-year "$YEAR" >/dev/null
    if [[ "$backend" == postgres ]]; then psql "$url" -qc "VACUUM ANALYZE" >/dev/null; fi
    touch "$marker"
}

ROWS="$WORK/rows.tsv"
: >"$ROWS"
PLANS="$WORK/plans.md"
: >"$PLANS"

timed() { # name backend format command…  → appends a row
    local name="$1" backend="$2" format="$3"
    shift 3
    /usr/bin/time -v "$@" >"$WORK/out" 2>"$WORK/time" || { cat "$WORK/time" >&2; return 1; }
    local wall rss secs
    wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time")"
    rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time")"
    secs="$(to_seconds "$wall")"
    printf '%s\t%s\t%s\t%.2f\t%.0f\n' "$backend" "$name" "$format" "$secs" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" >>"$ROWS"
    echo "== $backend $name $format: ${secs} s, peak RSS $((rss / 1024)) MB"
}

bench() { # backend url
    local backend="$1" url="$2"
    prepare "$backend" "$url"
    export QUOTA_LEVY__DATABASE__URL="$url"
    # Data kept from an earlier run gets this build's migrations (indexes).
    "$BIN" migrate >/dev/null
    if [[ "$backend" == sqlite ]]; then
        local file="${url#sqlite://}"
        timed floor sqlite csv sqlite3 -csv "$file" "$FLOOR_SQL"
        { echo "SQLite, \`EXPLAIN QUERY PLAN\` of one chunk:"; echo '```'
          sqlite3 "$file" "EXPLAIN QUERY PLAN $SQLITE_CHUNK_SQL"; echo '```'; } >>"$PLANS"
    else
        timed floor postgres csv psql "$url" -qAtc "COPY ($FLOOR_SQL) TO STDOUT WITH (FORMAT csv)"
        { echo "PostgreSQL, \`EXPLAIN (ANALYZE, BUFFERS)\` of one chunk:"; echo '```'
          psql "$url" -qAtc "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $PG_CHUNK_SQL"; echo '```'; } >>"$PLANS"
    fi
    for f in $FORMATS; do
        timed export "$backend" "$f" "$BIN" levy-roll export --levy-year "$YEAR" --region 410000 \
            --as-of 2026-12-01 --format "$f" -o "$WORK/roll.$f"
        if [[ "$f" == csv ]]; then
            local lines
            lines="$(wc -l <"$WORK/roll.csv")"
            echo "   $lines lines (header, rows, totals)"
        fi
    done
}

LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
for b in $BACKENDS; do
    case "$b" in
    sqlite) bench sqlite "sqlite://$DATA_DIR/roll-$N.db" ;;
    postgres)
        if ! psql "$PG_ADMIN_URL" -qAtc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1; then
            psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null
            rm -f "$DATA_DIR/postgres-$N.ready"
        fi
        bench postgres "$(pg_url "$PG_DB")"
        ;;
    *) echo "unknown backend $b" >&2; exit 2 ;;
    esac
done

MACHINE="$(nproc) cores, load avg at start $LOAD"
DATE="$(date -u +%Y-%m-%d)"
python3 - "$ROOT/BENCHMARKS.md" "$ROWS" "$PLANS" "$N" "$MACHINE" "$DATE" "$LABEL" <<'PY'
import sys
path, rows_path, plans_path, n, machine, date, label = sys.argv[1:]
start, end = "<!-- bench-roll:start -->", "<!-- bench-roll:end -->"
text = open(path, encoding="utf-8").read()
names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
rows = [l.rstrip("\n").split("\t") for l in open(rows_path, encoding="utf-8")]
floor = {r[0]: float(r[3]) for r in rows if r[1] == "floor"}
old_rows = []
if start in text and end in text:
    old = text[text.index(start):text.index(end)]
    # Rows of other sizes or other builds are kept; this run replaces its own.
    old_rows = [l for l in old.splitlines()
                if l.startswith("| ") and not l.startswith("| backend")
                and not (f"| {int(n):,} |" in l and f"| {label} |" in l)]
new_rows = []
for b, name, fmt, secs, rss in rows:
    what = "floor: the database's own CSV export" if name == "floor" else f"`levy-roll export --format {fmt}`"
    ratio = float(secs) / floor[b] if floor.get(b) else 0.0
    new_rows.append(f"| {names[b]} | {int(n):,} | {what} | {float(secs):.2f} | {ratio:.1f}× | {rss} | {label} | {machine} | {date} |")
plans = open(plans_path, encoding="utf-8").read()
section = f"""{start}
## Levy roll (`scripts/bench-roll.sh`)

`quota-levy levy-roll export --levy-year 2025 --region 410000 --format csv|xlsx -o FILE`
end to end under `/usr/bin/time -v`, over `demo generate --employers N --seed 1` data
assessed by `quota-levy assess` (every employer on the roll), release build. The floor
is the database's own CSV export of the same join in USCC order, in the same run
(`sqlite3 -csv`, `psql COPY … TO STDOUT`): no surcharge, no formatting, no workbook.
Target: 1,000,000 employers in 10 s or less per backend and format, memory constant.

| backend | employers | what | elapsed (s) | × floor | peak RSS (MB) | build | machine | date |
|---|---:|---|---:|---:|---:|---|---|---|
""" + "\n".join(old_rows + new_rows) + f"""

Query plans of one chunk (`scripts/bench-roll.sh {n}`, {date}):

{plans}
"""
if start in text and end in text:
    text = text[:text.index(start)] + section + text[text.index(end):]
else:
    text = text.rstrip("\n") + "\n\n" + section + end + "\n"
open(path, "w", encoding="utf-8").write(text)
PY
echo "== BENCHMARKS.md updated"
