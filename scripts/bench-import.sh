#!/usr/bin/env bash
# Benchmark of the bulk import: generates a CSV of N employers (valid USCCs with their
# GB 32100 check character, spread over Sanmenxia's counties, a few public bodies) and
# two CSVs of their declarations for levy year 2025 (about 30 % with one disabled
# employee on a roster row, 15 % with a certified count; the second changes every body
# and moves the rosters), then times `quota-levy import employers`, `quota-levy import
# declarations` (every declaration created) and the second file (every declaration
# updated) end to end under /usr/bin/time -v, on SQLite (a temporary file) and on
# PostgreSQL (a fresh database), and writes the figures into the "Bulk import" section
# of BENCHMARKS.md (other sections are kept).
#
# Usage: scripts/bench-import.sh [N]          (default 100000)
# Environment:
#   BACKENDS        "sqlite postgres" (default) or one of them
#   PG_ADMIN_URL    postgres://postgres@127.0.0.1/postgres (default); the benchmark
#                   database ql_bench_import is dropped and created on that server
#   BIN             the binary to time (default: target/release/quota-levy, built
#                   first); e.g. a copy of an older build, to compare
#   LABEL           what BIN is, for the table (default: `git describe --always --dirty`)
#   SEED            shifts the generated codes (default 1)
#   KEEP=1          keep the files and the PostgreSQL database afterwards
set -euo pipefail

N="${1:-${BENCH_EMPLOYERS:-100000}}"
BACKENDS="${BACKENDS:-sqlite postgres}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1/postgres}"
PG_DB="${PG_DB:-ql_bench_import}"
SEED="${SEED:-1}"
YEAR=2025

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
if [[ -z "${BIN:-}" ]]; then
    echo "== building release"
    cargo build --release --quiet
    BIN="$ROOT/target/release/quota-levy"
fi
LABEL="${LABEL:-$(git describe --always --dirty 2>/dev/null || echo unknown)}"
WORK="$(mktemp -d /tmp/ql-bench-import.XXXXXX)"
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

pg_url() { # the admin URL with the database replaced
    local base="${PG_ADMIN_URL%%\?*}"
    echo "${base%/*}/$1"
}

# Seconds from /usr/bin/time's "h:mm:ss" or "m:ss.ss".
to_seconds() {
    awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<<"$1"
}

echo "== generating $N employers and their declarations"
python3 - "$N" "$SEED" "$WORK/employers.csv" "$WORK/declarations.csv" "$WORK/amended.csv" <<'PY'
import datetime, sys
n, seed, emp_path, decl_path, amend_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY"
W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
IDW = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
def uscc(first17):  # GB 32100-2015 check character
    s = sum(ALPHA.index(c) * w for c, w in zip(first17, W))
    return first17 + ALPHA[(31 - s % 31) % 31]
def resident_id(first17):  # GB 11643-1999 check character
    s = sum(int(c) * w for c, w in zip(first17, IDW))
    return first17 + "10X98765432"[s % 11]
def base31(x, width):
    out = []
    for _ in range(width):
        out.append(ALPHA[x % 31]); x //= 31
    return "".join(reversed(out))
COUNTIES = ["411202", "411203", "411221", "411224", "411281", "411282"]
epoch = datetime.date(2000, 1, 1)
born = datetime.date(1966, 1, 1)
def declaration(i, code, county, step):
    # `step` changes every body and moves the rosters to other employers.
    staff = 10 + i % 490
    wages = f"{staff * 61234 + step}.50"
    cert = months = wage = count = ""
    if (i + step) % 10 < 3:
        birth = (born + datetime.timedelta(days=i % 12000)).strftime("%Y%m%d")
        cert = resident_id(county + birth + f"{(i // 12000) % 1000:03d}") + "43"
        months, wage = "1-12", "3200.00"
    elif (i + step) % 20 < 9:
        count = "1"
    return f"{code},{staff},{wages},{count},{cert},{months},{wage}\n"
HEAD = "uscc,average_headcount,total_wages,disabled_count,certificate_no,months,monthly_wage\n"
with open(emp_path, "w", encoding="utf-8", newline="") as e, \
        open(decl_path, "w", encoding="utf-8", newline="") as d, \
        open(amend_path, "w", encoding="utf-8", newline="") as a:
    e.write("uscc,name,kind,region,registered_on,contact_email,establishment_size,committee_member\n")
    d.write(HEAD)
    a.write(HEAD)
    for i in range(n):
        county = COUNTIES[i % len(COUNTIES)]
        serial = base31(seed * 10_000_000 + i, 7)
        public = i % 20 == 7
        if public:
            code = uscc("12" + county + "MB" + serial)
            name, kind, size, member = f"示例第{i}事业单位", "事业单位", str(40 + i % 300), "是"
        else:
            code = uscc("91" + county + "MA" + serial)
            name, kind, size, member = f"示例{i}有限公司", "企业", "", "否"
        reg = (epoch + datetime.timedelta(days=i % 8000)).isoformat()
        mail = f"hr{i}@example.cn" if i % 10 < 7 else ""
        e.write(f"{code},{name},{kind},{county},{reg},{mail},{size},{member}\n")
        d.write(declaration(i, code, county, 0))
        a.write(declaration(i, code, county, 5))
PY

ROWS="$WORK/rows.tsv"
: >"$ROWS"

timed() { # backend import-name report-json args...
    local backend="$1" what="$2" report="$3"
    shift 3
    echo "== $backend: import $what"
    /usr/bin/time -v "$BIN" "$@" --report-json "$report" >"$WORK/$backend-$what.txt" 2>"$WORK/$backend-$what-time.txt" || {
        cat "$WORK/$backend-$what.txt" "$WORK/$backend-$what-time.txt" >&2
        return 1
    }
    head -3 "$WORK/$backend-$what.txt"
    local wall rss secs rate imported
    wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/$backend-$what-time.txt")"
    rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/$backend-$what-time.txt")"
    imported="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["imported"])' "$report")"
    if [[ "$imported" != "$N" ]]; then
        echo "$backend: $what imported $imported of $N" >&2
        return 1
    fi
    secs="$(to_seconds "$wall")"
    rate="$(awk -v n="$imported" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')"
    printf '%s\t%s\t%s\t%.1f\t%s\t%.0f\n' "$backend" "$what" "$imported" "$secs" "$rate" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" >>"$ROWS"
    echo "== $backend: $what: $imported in ${secs} s = $rate rows/s, peak RSS $((rss / 1024)) MB"
}

bench() { # backend url
    local backend="$1" url="$2"
    export QUOTA_LEVY__DATABASE__URL="$url"
    # Migrations are applied before the clock starts (import would apply them too).
    "$BIN" migrate >/dev/null
    timed "$backend" employers "$WORK/$backend-employers.json" import employers "$WORK/employers.csv"
    timed "$backend" declarations "$WORK/$backend-declarations.json" import declarations --levy-year "$YEAR" "$WORK/declarations.csv"
    timed "$backend" declarations-changed "$WORK/$backend-amended.json" import declarations --levy-year "$YEAR" "$WORK/amended.csv"
    local audited
    if [[ "$backend" == postgres ]]; then
        audited="$(psql "$url" -Atc "SELECT count(*) FROM audit_log WHERE request_id LIKE 'import-%'")"
    else
        audited="$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM audit_log WHERE request_id LIKE '"'"'import-%'"'"'").fetchone()[0])' "${url#sqlite://}")"
    fi
    echo "== $backend: $audited audit entries written by the imports (expected $((3 * N)))"
    if [[ "$audited" != "$((3 * N))" ]]; then
        echo "$backend: expected one audit entry per employer and per declaration written" >&2
        return 1
    fi
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

# Update BENCHMARKS.md: the rows of this run replace those of the same backend, import,
# size and build label.
MACHINE="$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), load avg at start $LOAD"
DATE="$(date -u +%Y-%m-%d)"
COMMAND="scripts/bench-import.sh $N"
python3 - "$ROOT/BENCHMARKS.md" "$ROWS" "$MACHINE" "$DATE" "$COMMAND" "$LABEL" <<'PY'
import sys
path, rows_path, machine, date, command, label = sys.argv[1:]
start, end = "<!-- bench-import:start -->", "<!-- bench-import:end -->"
try:
    text = open(path, encoding="utf-8").read()
except FileNotFoundError:
    text = "# Benchmarks\n"
rows = {}
if start in text and end in text:
    old = text[text.index(start):text.index(end)]
    for line in old.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 10 and cells[0] in ("SQLite", "PostgreSQL"):
            rows[(cells[0], cells[1], cells[2], cells[6])] = cells
names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
for line in open(rows_path, encoding="utf-8"):
    b, what, n, secs, rate, rss = line.rstrip("\n").split("\t")
    n_fmt = f"{int(n):,}"
    cells = [names[b], what, n_fmt, secs, f"{int(rate):,}", rss, label, machine, date, f"`{command}`"]
    rows[(cells[0], cells[1], cells[2], cells[6])] = cells
ORDER = {"employers": 0, "declarations": 1, "declarations-changed": 2}
def key(r):
    # Stable: rows already in the table keep their order (earlier builds first).
    return (r[0], ORDER.get(r[1], 9), -int(r[2].replace(",", "")))
table = "\n".join(
    ["| backend | import | rows | elapsed (s) | rows/s | peak RSS (MB) | build | machine | date | command |",
     "|---|---|---:|---:|---:|---:|---|---|---|---|"]
    + ["| " + " | ".join(r) + " |" for r in sorted(rows.values(), key=key)]
)
section = f"""{start}
## Bulk import (`quota-levy import`)

End to end: `/usr/bin/time -v quota-levy import employers FILE`, then `quota-levy
import declarations --levy-year 2025 FILE` on the same database (every declaration
created), then again with a file that changes every body and moves the rosters
(`declarations-changed`: every declaration updated, its roster replaced), over CSV
files the script generates (N employers with valid USCCs over Sanmenxia's six counties,
one in twenty a public institution; one declaration row each, about 30 % carrying one
disabled employee's certificate, 15 % a certified count), on a freshly migrated SQLite
file and a fresh PostgreSQL database, release build. Elapsed is the wall clock of the
whole process (reading, validating, writing, report); rows/s is rows imported over it;
peak RSS is time's "Maximum resident set size". The script checks that every row was
imported and that the imports wrote one audit entry per employer and per declaration
written. "build" names the binary timed (`BIN`, `LABEL`); rows of an earlier build are
kept above those of a later one. The machine is shared: other work running at the same
time (see the load average) slows the figures down.

{table}
"""
if start in text and end in text:
    text = text[:text.index(start)] + section + text[text.index(end):]
else:
    text = text.rstrip("\n") + "\n\n" + section + end + "\n"
open(path, "w", encoding="utf-8").write(text)
PY
echo "== BENCHMARKS.md updated"
