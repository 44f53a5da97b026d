#!/usr/bin/env bash
# Benchmark of the calculator result page against the API it is built on: one release
# server on loopback, the same request as `GET /calculator?request=…` (the page: the
# API's calculation, four figures-only engine runs for "what would change", the HTML) and as
# `POST /api/v1/levy/calculate` (the JSON), each under wrk at 64 connections in the same
# run. Writes the figures (requests/s, p50, p99, their ratio, page weight with the
# stylesheet) into the "Calculator page" section of BENCHMARKS.md (other sections kept).
#
# Usage: scripts/bench-calculator-page.sh
# Environment:
#   DURATION     wrk duration per target (default 20s)
#   CONNECTIONS  (default 64)
#   THREADS      wrk threads (default 2)
set -euo pipefail

DURATION="${DURATION:-20s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
BIN="$ROOT/target/release/quota-levy"
WORK="$(mktemp -d /tmp/ql-bench-page.XXXXXX)"
PID=""
cleanup() {
    if [[ -n "$PID" ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

echo "== building release"
cargo build --release --locked --bin quota-levy

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
QUOTA_LEVY__DATABASE__URL="sqlite://$WORK/bench.db" \
QUOTA_LEVY__SERVER__PORT="$PORT" \
QUOTA_LEVY__LOG__LEVEL=warn \
    "$BIN" serve >"$WORK/serve.log" 2>&1 &
PID=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$BASE/healthz" >/dev/null

# A mid-sized employer of Sanmenxia with three disabled employees (made-up numbers,
# valid check characters): what a person checks before declaring.
cat >"$WORK/request.json" <<'JSON'
{"region":"411200","levy_year":2025,"employer":{"kind":"enterprise"},
 "staff":{"monthly_headcount":[180,182,185,185,190,190,192,195,195,196,198,200]},
 "total_wages":"11250000.00",
 "disabled_employees":[
  {"certificate_no":"11010519491231002X43","months":[1,2,3,4,5,6,7,8,9,10,11,12],"contract_months":24,"monthly_wage":"3200"},
  {"certificate_no":"41120219800101002212","months":[4,5,6,7,8,9,10,11,12],"contract_months":12,"monthly_wage":"2600"}
 ]}
JSON
# One line: a query value may hold no line break.
python3 -c 'import json, sys; p = sys.argv[1]; r = json.load(open(p)); json.dump(r, open(p, "w"), separators=(",", ":"))' "$WORK/request.json"
QUERY="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(open(sys.argv[1]).read(), safe=""))' "$WORK/request.json")"
PAGE="$BASE/calculator?request=$QUERY"

status_page="$(curl -s -o "$WORK/page.html" -w '%{http_code}' -H 'Accept-Language: zh-CN' "$PAGE")"
status_api="$(curl -s -o "$WORK/api.json" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$WORK/request.json" "$BASE/api/v1/levy/calculate")"
[[ "$status_page" == 200 && "$status_api" == 200 ]] || { echo "page $status_page, API $status_api" >&2; exit 1; }
LEVY="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["levy_payable"])' "$WORK/api.json")"
grep -q "<tr class=\"main\"><th scope=\"row\">[^<]*</th><td class=\"n\">$LEVY</td>" "$WORK/page.html" \
    || { echo "the page does not show the API's levy $LEVY" >&2; exit 1; }
CSS_BYTES="$(curl -s "$BASE/static/site.css" | wc -c)"
PAGE_BYTES="$(wc -c <"$WORK/page.html")"
echo "== levy $LEVY; page $PAGE_BYTES bytes + stylesheet $CSS_BYTES bytes"

cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$WORK/request.json", "r")
wrk.body = f:read("*a")
f:close()
LUA

LOAD="$(cut -d' ' -f1 /proc/loadavg)"
echo "== warm-up"
wrk -t"$THREADS" -c"$CONNECTIONS" -d3s "$PAGE" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s "$WORK/post.lua" "$BASE/api/v1/levy/calculate" >/dev/null
echo "== page: GET /calculator?request=…"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H 'Accept-Language: zh-CN' "$PAGE" | tee "$WORK/page.txt"
echo "== API: POST /api/v1/levy/calculate"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/post.lua" "$BASE/api/v1/levy/calculate" | tee "$WORK/api.txt"

MACHINE="$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), load avg at start $LOAD"
DATE="$(date -u +%Y-%m-%d)"
python3 - "$ROOT/BENCHMARKS.md" "$WORK/page.txt" "$WORK/api.txt" "$PAGE_BYTES" "$CSS_BYTES" \
    "$MACHINE" "$DATE" "$CONNECTIONS" "$DURATION" "$LEVY" <<'PY'
import re, sys
path, page_txt, api_txt, page_bytes, css_bytes, machine, date, conns, duration, levy = sys.argv[1:]

def read(p):
    t = open(p).read()
    def ms(pct):
        m = re.search(r"^\s*%s%%\s+([\d.]+)(us|ms|s)\s*$" % pct, t, re.M)
        v, u = float(m.group(1)), m.group(2)
        return v / 1000 if u == "us" else v * 1000 if u == "s" else v
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return rps, ms(50), ms(99), int(errors.group(1)) if errors else 0

page, api = read(page_txt), read(api_txt)
if page[3] or api[3]:
    sys.exit(f"non-2xx answers: page {page[3]}, API {api[3]}")
ratio = page[2] / api[2]
weight = int(page_bytes) + int(css_bytes)
start, end = "<!-- bench-pages:start -->", "<!-- bench-pages:end -->"
section = f"""{start}
## Calculator page (`scripts/bench-calculator-page.sh`)

The result page `GET /calculator?request=…` against `POST /api/v1/levy/calculate` for the
same request (Sanmenxia, 2025, about 190 staff, two disabled employees; levy {levy} yuan),
one release server on loopback, wrk at {conns} connections for {duration} each, in the
same run. The page does the API's calculation, runs the engine four more times (figures
only) for "what would change the result" and renders the HTML. Targets: p99 ratio ≤ 1.5, page and stylesheet under 100 KB.

| target | requests/s | p50 (ms) | p99 (ms) |
|---|---:|---:|---:|
| page `GET /calculator?request=…` | {page[0]:,.0f} | {page[1]:.2f} | {page[2]:.2f} |
| API `POST /api/v1/levy/calculate` | {api[0]:,.0f} | {api[1]:.2f} | {api[2]:.2f} |

p99 ratio page / API: **{ratio:.2f}**. Page weight: {int(page_bytes):,} bytes of HTML +
{int(css_bytes):,} bytes of stylesheet = **{weight / 1024:.1f} KB** (uncompressed).
Machine: {machine}; {date}.
{end}"""
try:
    text = open(path, encoding="utf-8").read()
except FileNotFoundError:
    text = "# Benchmarks\n"
if start in text and end in text:
    text = text[:text.index(start)] + section + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w", encoding="utf-8").write(text)
print(f"p99 ratio {ratio:.2f}; weight {weight / 1024:.1f} KB")
PY
echo "== BENCHMARKS.md updated"
