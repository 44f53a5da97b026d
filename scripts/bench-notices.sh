#!/usr/bin/env bash
# Benchmark of notice publication: `quota-levy notices publish --dry-run` (compose and
# digest, nothing written), `quota-levy notices publish` (entries stored as rows, mails
# recorded as owed) and `quota-levy notices mail` (the owed mails queued) of the whole
# demo city, end to end under /usr/bin/time -v, on SQLite and
# PostgreSQL. Generates N employers with `quota-levy demo generate` and assesses them
# once per backend (kept in $DATA_DIR / database ql_notices_N for later runs), records
# the query plan of one chunk of the composition (EXPLAIN on both backends), and writes
# the figures into the "Notices" section of BENCHMARKS.md (other sections are kept).
# Each run publishes one more notice of the same region and year.
#
# Usage: scripts/bench-notices.sh [N]         (default 200000)
# Environment:
#   BACKENDS        "sqlite postgres" (default) or one of them
#   PG_ADMIN_URL    postgres://postgres@127.0.0.1/postgres (default); the database
#                   ql_notices_N is created on that server and kept
#   DATA_DIR        where the SQLite file is kept (default /tmp/ql-notices-data)
#   BIN             the binary timed (default target/release/quota-levy, built here)
#   LABEL           what the binary is, in the table (default the commit)
#   FRESH=1         regenerate the data even if it is there
set -euo pipefail

N="${1:-200000}"
BACKENDS="${BACKENDS:-sqlite postgres}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1/postgres}"
PG_DB="ql_notices_$N"
DATA_DIR="${DATA_DIR:-/tmp/ql-notices-data}"
YEAR=2025
REGION=411200

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
if [[ -z "${BIN:-}" ]]; then
    echo "== building release"
    cargo build --release --quiet --bin quota-levy
    BIN="$ROOT/target/release/quota-levy"
fi
LABEL="${LABEL:-$(git rev-parse --short HEAD)$(git diff --quiet || echo +changes)}"
mkdir -p "$DATA_DIR"
WORK="$(mktemp -d /tmp/ql-bench-notices.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

pg_url() { local base="${PG_ADMIN_URL%%\?*}"; echo "${base%/*}/$1"; }
to_seconds() {
    awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<<"$1"
}

# One chunk of the composition as src/db/notices.rs (snapshot_chunk) asks for it, after
# a key in the middle of the city.
chunk_sql() { # backend
    local c=""
    [[ "$1" == postgres ]] && c=' COLLATE "C"'
    cat <<SQL
SELECT e.uscc, e.name, e.kind, e.region, d.status, d.version, d.body_digest,
 a.declaration_version, dv.body_digest, a.staff_x12_e4, a.required_e4, a.disabled_x12_e4,
 a.shortfall_e4, a.exempt
FROM employers e
LEFT JOIN declarations d ON d.employer_id = e.id AND d.levy_year = $YEAR
LEFT JOIN assessments a ON a.employer_id = e.id AND a.levy_year = $YEAR AND a.is_current
LEFT JOIN declaration_versions dv ON dv.declaration_id = a.declaration_id AND dv.version = a.declaration_version
 AND a.declaration_version <> d.version
WHERE (e.region$c, e.name$c, e.uscc$c) > ('411221', '渑池', '')
 AND e.region$c < '4113' AND e.region LIKE '4112%'
 AND (e.registered_on IS NULL OR e.registered_on <= '$YEAR-12-31')
ORDER BY e.region$c, e.name$c, e.uscc$c LIMIT 2000
SQL
}

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

timed() { # name backend command…  → appends a row
    local name="$1" backend="$2"
    shift 2
    /usr/bin/time -v "$@" >"$WORK/out" 2>"$WORK/time" || { cat "$WORK/out" "$WORK/time" >&2; return 1; }
    cat "$WORK/out"
    local wall rss secs employers
    wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time")"
    rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time")"
    secs="$(to_seconds "$wall")"
    employers="$(awk '/^  employers /{ print $2 } /^mails queued /{ print $3 }' "$WORK/out")"
    printf '%s\t%s\t%s\t%.2f\t%.0f\n' "$backend" "$name" "$employers" "$secs" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" >>"$ROWS"
    echo "== $backend $name: $employers employers, ${secs} s, peak RSS $((rss / 1024)) MB"
}

bench() { # backend url
    local backend="$1" url="$2"
    prepare "$backend" "$url"
    export QUOTA_LEVY__DATABASE__URL="$url"
    # Data kept from an earlier run gets this build's migrations (indexes).
    "$BIN" migrate >/dev/null
    if [[ "$backend" == sqlite ]]; then
        local file="${url#sqlite://}"
        { echo "SQLite, \`EXPLAIN QUERY PLAN\` of one chunk:"; echo '```'
          sqlite3 "$file" "EXPLAIN QUERY PLAN $(chunk_sql sqlite)"; echo '```'; } >>"$PLANS"
    else
        { echo "PostgreSQL, \`EXPLAIN (ANALYZE, BUFFERS)\` of one chunk:"; echo '```'
          psql "$url" -qAtc "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $(chunk_sql postgres)"; echo '```'; } >>"$PLANS"
    fi
    timed "publish --dry-run" "$backend" "$BIN" notices publish --region "$REGION" --levy-year "$YEAR" --dry-run
    timed "publish" "$backend" "$BIN" notices publish --region "$REGION" --levy-year "$YEAR"
    timed "mail" "$backend" "$BIN" notices mail
}

LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
for b in $BACKENDS; do
    case "$b" in
    sqlite) bench sqlite "sqlite://$DATA_DIR/notices-$N.db" ;;
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
start, end = "<!-- bench-notices:start -->", "<!-- bench-notices:end -->"
text = open(path, encoding="utf-8").read()
names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
rows = [l.rstrip("\n").split("\t") for l in open(rows_path, encoding="utf-8")]
old_rows = []
old_plans = ""
if start in text and end in text:
    old = text[text.index(start):text.index(end)]
    # Rows of other sizes, backends or builds are kept; this run replaces its own.
    done = {(names[r[0]], r[1]) for r in rows}
    def mine(l):
        cells = [c.strip() for c in l.strip().strip("|").split("|")]
        return (len(cells) > 3 and cells[1] == f"{int(n):,}" and cells[6] == label
                and (cells[0], cells[2].strip("`").replace("notices ", "")) in done)
    old_rows = [l for l in old.splitlines()
                if l.startswith("| ") and not l.startswith("| backend") and not mine(l)]
new_rows = [
    f"| {names[b]} | {int(n):,} | `notices {name}` | {employers} | {float(secs):.2f} | {rss} | {label} | {machine} | {date} |"
    for b, name, employers, secs, rss in rows
]
plans = open(plans_path, encoding="utf-8").read()
section = f"""{start}
## Notices (`scripts/bench-notices.sh`)

`quota-levy notices publish --region 411200 --levy-year 2025 [--dry-run]` end to end
under `/usr/bin/time -v` (wall clock of the whole process, peak RSS as time's "Maximum
resident set size"), over `demo generate --employers N --seed 1` data assessed by
`quota-levy assess`, release build. `--dry-run` composes the notice and its digest and
writes nothing; `publish` also stores every entry as a row and records, in the same
transaction, that the employers named with a contact address (about 70 % of the demo's)
are owed a mail; `mail` then queues those mails, 2,000 entries a transaction (docs/notices.md,
"Mails"; its "entries" are the mails queued). Targets: 1,000,000 employers in 10 s or less,
peak RSS 256 MB or less, for `publish` and `--dry-run`. The machine is
shared: other work running at the same time (see the load average) slows it down.

| backend | employers | what | entries | elapsed (s) | peak RSS (MB) | build | machine | date |
|---|---:|---|---:|---:|---:|---|---|---|
""" + "\n".join(old_rows + new_rows) + f"""

Query plans of one chunk (`scripts/bench-notices.sh {n}`, {date}):

{plans}
"""
if start in text and end in text:
    text = text[:text.index(start)] + section + text[text.index(end):]
else:
    text = text.rstrip("\n") + "\n\n" + section + end + "\n"
open(path, "w", encoding="utf-8").write(text)
PY
echo "== BENCHMARKS.md updated"
