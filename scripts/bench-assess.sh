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
#   KEEP=1          keep the SQLite file and the PostgreSQL database afterwards
set -euo pipefail

N="${1:-${BENCH_EMPLOYERS:-1000000}}"
BACKENDS="${BACKENDS:-sqlite postgres}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1/postgres}"
PG_DB="${PG_DB:-ql_bench}"
SEED="${SEED:-1}"
YEAR=2025

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
BIN="$ROOT/target/release/quota-levy"
WORK="$(mktemp -d /tmp/ql-bench.XXXXXX)"
cleanup() {
    if [[ "${KEEP:-0}" != 1 ]]; then
        rm -rf "$WORK"
        if [[ " $BACKENDS " == *" postgres "* ]]; then
            psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
        fi
    else
        echo "kept $WORK (and database $PG_DB)"
    fi
}
trap cleanup EXIT

echo "== building release"
cargo build --release --quiet

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

bench() { # backend url
    local backend="$1" url="$2"
    export QUOTA_LEVY__DATABASE__URL="$url"
    echo "== $backend: generating $N employers"
    "$BIN" demo generate --employers "$N" --levy-year "$YEAR" --seed "$SEED" | tee "$WORK/$backend-generate.txt"
    if [[ "$backend" == postgres ]]; then
        # A database in service has statistics; a freshly loaded one gets them here.
        psql "$url" -qc "VACUUM ANALYZE" >/dev/null
    fi
    echo "== $backend: assess --levy-year $YEAR"
    /usr/bin/time -v "$BIN" assess --levy-year "$YEAR" >"$WORK/$backend-assess.txt" 2>"$WORK/$backend-time.txt" || {
        cat "$WORK/$backend-assess.txt" "$WORK/$backend-time.txt" >&2
        return 1
    }
    cat "$WORK/$backend-assess.txt"
    local wall rss secs rate processed
    wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/$backend-time.txt")"
    rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/$backend-time.txt")"
    processed="$(awk '/^  processed /{ print $2 }' "$WORK/$backend-assess.txt")"
    secs="$(to_seconds "$wall")"
    rate="$(awk -v n="$processed" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')"
    printf '%s\t%s\t%.1f\t%s\t%.0f\n' "$backend" "$processed" "$secs" "$rate" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" >>"$ROWS"
    echo "== $backend: $processed employers in ${secs} s = $rate employers/s, peak RSS $((rss / 1024)) MB"
}

LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
for b in $BACKENDS; do
    case "$b" in
    sqlite)
        bench sqlite "sqlite://$WORK/bench.db"
        ;;
    postgres)
        if ! pg_isready -q -d "$PG_ADMIN_URL"; then
            pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
            sleep 2
        fi
        psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
        psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null
        bench postgres "$(pg_url "$PG_DB")"
        ;;
    *)
        echo "unknown backend $b (sqlite or postgres)" >&2
        exit 2
        ;;
    esac
done

# Update BENCHMARKS.md: the rows of this run replace those of the same backend and size.
MACHINE="$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), load avg at start $LOAD"
DATE="$(date -u +%Y-%m-%d)"
COMMAND="scripts/bench-assess.sh $N"
python3 - "$ROOT/BENCHMARKS.md" "$ROWS" "$MACHINE" "$DATE" "$COMMAND" <<'PY'
import re, sys
path, rows_path, machine, date, command = sys.argv[1:]
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
            rows[(cells[0], cells[1])] = cells
names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
for line in open(rows_path, encoding="utf-8"):
    b, n, secs, rate, rss = line.rstrip("\n").split("\t")
    n_fmt = f"{int(n):,}"
    rows[(names[b], n_fmt)] = [names[b], n_fmt, secs, f"{int(rate):,}", rss, machine, date, f"`{command}`"]
def key(r):
    return (r[0], -int(r[1].replace(",", "")))
table = "\n".join(
    ["| backend | employers | elapsed (s) | employers/s | peak RSS (MB) | machine | date | command |",
     "|---|---:|---:|---:|---:|---|---|---|"]
    + ["| " + " | ".join(r) + " |" for r in sorted(rows.values(), key=key)]
)
section = f"""{start}
## Batch assessment (`quota-levy assess`)

End to end: `/usr/bin/time -v target/release/quota-levy assess --levy-year 2025` over
employers made by `quota-levy demo generate --employers N --levy-year 2025 --seed 1`
(about 30 % with a roster, 15 % with a certified count), release build. Elapsed is the
wall clock of the whole process (migration check, run set-up, all chunks, summary);
peak RSS is time's "Maximum resident set size". Targets: 60 s or less per backend for
1,000,000 employers, peak RSS under 512 MB. The machine is shared: other work running
at the same time (see the load average) slows the figures down.

{table}
"""
if start in text and end in text:
    text = text[:text.index(start)] + section + text[text.index(end):]
else:
    text = text.rstrip("\n") + "\n\n" + section + end + "\n"
open(path, "w", encoding="utf-8").write(text)
PY
echo "== BENCHMARKS.md updated"
