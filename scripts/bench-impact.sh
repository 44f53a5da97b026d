#!/usr/bin/env bash
# Benchmark of the rule-change preview: generates N employers with
# `quota-levy demo generate`, then times, under /usr/bin/time -v and on the same data,
# `quota-levy policy impact` (a draft of the Henan pack lowering the quota ratio from
# 1.6 % to 1.5 %, over region 411200) and `quota-levy assess` (the batch it must keep
# pace with), on SQLite (a temporary file) and on PostgreSQL (a fresh database), and
# writes the figures into the "Rule-change preview" section of BENCHMARKS.md.
#
# Usage: scripts/bench-impact.sh [N]          (default 100000)
# Environment:
#   BACKENDS        "sqlite postgres" (default) or one of them
#   PROFILE         release (default) or debug: which build of the binary is timed;
#                   both commands are timed with the same one, so the ratio holds
#   PG_ADMIN_URL    postgres://postgres@127.0.0.1/postgres (default); the benchmark
#                   database ql_bench_impact is dropped and created on that server
#   SEED            generator seed (default 1)
set -euo pipefail

N="${1:-100000}"
BACKENDS="${BACKENDS:-sqlite postgres}"
PROFILE="${PROFILE:-release}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1/postgres}"
PG_DB="${PG_DB:-ql_bench_impact}"
SEED="${SEED:-1}"
YEAR=2025

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
BIN="$ROOT/target/$PROFILE/quota-levy"
WORK="$(mktemp -d /tmp/ql-bench-impact.XXXXXX)"
cleanup() {
    rm -rf "$WORK"
    if [[ " $BACKENDS " == *" postgres "* ]]; then
        psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

echo "== building $PROFILE"
if [[ "$PROFILE" == release ]]; then cargo build --release --quiet; else cargo build --quiet; fi

# The draft: the shipped Henan pack, its ratio closed on 2025-06-30 and 1.5 % after.
DRAFT="$WORK/410000-henan.toml"
python3 - "$ROOT/config/policies/410000-henan.toml" "$DRAFT" <<'PY'
import sys
src, dst = sys.argv[1:]
text = open(src, encoding="utf-8").read()
old = '[[quota_ratio]]\nfrom = 2010-01-01\nvalue = "1.6%"\n'
assert old in text, "the Henan pack's quota ratio moved"
text = text.replace(old, '[[quota_ratio]]\nfrom = 2010-01-01\nto = 2025-06-30\nvalue = "1.6%"\n', 1)
text += '\n[[quota_ratio]]\nfrom = 2025-07-01\nvalue = "1.5%"\ncitation = "benchmark draft"\nconfidence = "choice"\n'
open(dst, "w", encoding="utf-8").write(text)
PY

pg_url() { local base="${PG_ADMIN_URL%%\?*}"; echo "${base%/*}/$1"; }
to_seconds() {
    awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<<"$1"
}

ROWS="$WORK/rows.tsv"
: >"$ROWS"

timed() { # backend what command...
    local backend="$1" what="$2"
    shift 2
    /usr/bin/time -v "$@" >"$WORK/$backend-$what.out" 2>"$WORK/$backend-$what.time" || {
        cat "$WORK/$backend-$what.out" "$WORK/$backend-$what.time" >&2
        return 1
    }
    local wall rss secs
    wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/$backend-$what.time")"
    rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/$backend-$what.time")"
    secs="$(to_seconds "$wall")"
    printf '%s\t%s\t%s\t%.1f\t%.0f\n' "$backend" "$what" "$N" "$secs" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" >>"$ROWS"
    echo "== $backend $what: ${secs} s, peak RSS $((rss / 1024)) MB"
}

bench() { # backend url
    local backend="$1" url="$2"
    export QUOTA_LEVY__DATABASE__URL="$url"
    echo "== $backend: generating $N employers"
    "$BIN" demo generate --employers "$N" --levy-year "$YEAR" --seed "$SEED" >/dev/null
    if [[ "$backend" == postgres ]]; then psql "$url" -qc "VACUUM ANALYZE" >/dev/null; fi
    timed "$backend" impact "$BIN" policy impact --pack "$DRAFT" --region 411200 --levy-year "$YEAR" --format json
    grep -m1 '"employers"' "$WORK/$backend-impact.out"
    timed "$backend" assess "$BIN" assess --levy-year "$YEAR" --region 411200
}

LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
for b in $BACKENDS; do
    case "$b" in
    sqlite) bench sqlite "sqlite://$WORK/bench.db" ;;
    postgres)
        psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
        psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null
        bench postgres "$(pg_url "$PG_DB")"
        ;;
    *) echo "unknown backend $b (sqlite or postgres)" >&2; exit 2 ;;
    esac
done

MACHINE="$(nproc) cores, load avg at start $LOAD"
DATE="$(date -u +%Y-%m-%d)"
COMMAND="PROFILE=$PROFILE scripts/bench-impact.sh $N"
python3 - "$ROOT/BENCHMARKS.md" "$ROWS" "$MACHINE" "$DATE" "$COMMAND" "$PROFILE" <<'PY'
import sys
path, rows_path, machine, date, command, profile = sys.argv[1:]
start, end = "<!-- bench-impact:start -->", "<!-- bench-impact:end -->"
text = open(path, encoding="utf-8").read()
rows = {}
if start in text and end in text:
    for line in text[text.index(start):text.index(end)].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 9 and cells[0] in ("SQLite", "PostgreSQL"):
            rows[(cells[0], cells[1], cells[2])] = cells
names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
got = {}
for line in open(rows_path, encoding="utf-8"):
    b, what, n, secs, rss = line.rstrip("\n").split("\t")
    got[(b, what)] = (n, secs, rss)
for b in names:
    if (b, "impact") in got and (b, "assess") in got:
        n, si, ri = got[(b, "impact")]
        _, sa, ra = got[(b, "assess")]
        ratio = f"{float(si) / max(float(sa), 0.05):.2f}"
        rows[(names[b], f"{int(n):,}", profile)] = [names[b], f"{int(n):,}", profile, si, sa, ratio, f"{ri} / {ra}", f"{machine}, {date}", f"`{command}`"]
table = "\n".join(
    ["| backend | employers | build | impact (s) | assess (s) | impact / assess | peak RSS impact / assess (MB) | machine, date | command |",
     "|---|---:|---|---:|---:|---:|---:|---|---|"]
    + ["| " + " | ".join(r) + " |" for r in sorted(rows.values())]
)
section = f"""{start}
## Rule-change preview (`quota-levy policy impact`)

`/usr/bin/time -v quota-levy policy impact --pack 410000-henan.toml --region 411200
--levy-year 2025 --format json` (the Henan pack with its quota ratio lowered to 1.5 %
from 2025-07-01) and then `quota-levy assess --levy-year 2025 --region 411200`, both on
the same employers made by `quota-levy demo generate --employers N --seed 1`, with the
same build. The preview computes every declaration twice (today's packs and the draft)
and writes nothing; the target is the speed class of `assess` and a peak RSS that does
not grow with the register (it keeps one chunk, sums, the 20 largest changes and the
first 1,000 changes of status). The machine is shared: see the load average.

{table}
"""
if start in text and end in text:
    text = text[:text.index(start)] + section + text[text.index(end):]
else:
    text = text.rstrip("\n") + "\n\n" + section + end + "\n"
open(path, "w", encoding="utf-8").write(text)
PY
echo "== BENCHMARKS.md updated"
