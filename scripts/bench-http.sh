#!/usr/bin/env bash
# HTTP benchmark, every target in one run on one machine so that they compare: a bare
# actix-web JSON echo (src/bin/echo-floor.rs, the floor), the calculator API
# `POST /api/v1/levy/calculate` (a typical request, every figure explained) and the
# calculator result page `GET /calculator?request=…` for the same request, each under
# wrk at 64 connections on loopback. Writes requests/s, p50, p99 and the ratios
# (calculator / echo requests/s, target ≥ 0.5; page / API p99, target ≤ 1.5) into the
# "HTTP" section of BENCHMARKS.md, with the load average at the start, and the result
# page's weight with its stylesheet (target under 100 KB).
#
# Usage: scripts/bench-http.sh
# Environment:
#   DURATION     wrk duration per target (default 15s)
#   CONNECTIONS  (default 64)
#   THREADS      wrk threads (default 2)
#   WORKERS      server workers for both servers (default 0: actix's default, one a core)
#   BUILD=0      use the release binaries as they are
set -euo pipefail

DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
WORKERS="${WORKERS:-0}"

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
WORK="$(mktemp -d /tmp/ql-bench-http.XXXXXX)"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

if [[ "${BUILD:-1}" == 1 ]]; then
    echo "== building release (service and the echo floor)"
    cargo build --release --quiet --bin quota-levy --bin echo-floor
fi
BIN="$ROOT/target/release/quota-levy"
ECHO="$ROOT/target/release/echo-floor"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_up() { # url
    for _ in $(seq 1 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return; sleep 0.1; done
    curl -fsS -o /dev/null "$1"
}

PORT="$(free_port)"
QUOTA_LEVY__DATABASE__URL="sqlite://$WORK/bench.db" \
QUOTA_LEVY__SERVER__PORT="$PORT" \
QUOTA_LEVY__SERVER__WORKERS="$WORKERS" \
QUOTA_LEVY__LOG__LEVEL=warn \
    "$BIN" serve >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
BASE="http://127.0.0.1:$PORT"
wait_up "$BASE/healthz"
ECHO_PORT="$(free_port)"
"$ECHO" "$ECHO_PORT" "$WORKERS" >"$WORK/echo.log" 2>&1 &
PIDS+=($!)
ECHO_URL="http://127.0.0.1:$ECHO_PORT/echo"
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null -H 'Content-Type: application/json' -d '{}' "$ECHO_URL" 2>/dev/null && break
    sleep 0.1
done

# A typical request: a mid-sized employer of Sanmenxia with
# two disabled employees (made-up numbers, valid check characters).
cat >"$WORK/request.json" <<'JSON'
{"region":"411200","levy_year":2025,"employer":{"kind":"enterprise"},
 "staff":{"monthly_headcount":[180,182,185,185,190,190,192,195,195,196,198,200]},
 "total_wages":"11250000.00",
 "disabled_employees":[
  {"certificate_no":"11010519491231002X43","months":[1,2,3,4,5,6,7,8,9,10,11,12],"contract_months":24,"monthly_wage":"3200"},
  {"certificate_no":"41120219800101002212","months":[4,5,6,7,8,9,10,11,12],"contract_months":12,"monthly_wage":"2600"}
 ]}
JSON
python3 -c 'import json, sys; p = sys.argv[1]; r = json.load(open(p)); json.dump(r, open(p, "w"), separators=(",", ":"))' "$WORK/request.json"
QUERY="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(open(sys.argv[1]).read(), safe=""))' "$WORK/request.json")"
PAGE="$BASE/calculator?request=$QUERY"
API="$BASE/api/v1/levy/calculate"

status_api="$(curl -s -o "$WORK/api.json" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$WORK/request.json" "$API")"
status_page="$(curl -s -o "$WORK/page.html" -w '%{http_code}' -H 'Accept-Language: zh-CN' "$PAGE")"
status_echo="$(curl -s -o "$WORK/echo.json" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$WORK/request.json" "$ECHO_URL")"
[[ "$status_api" == 200 && "$status_page" == 200 && "$status_echo" == 200 ]] \
    || { echo "API $status_api, page $status_page, echo $status_echo" >&2; exit 1; }
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d.get("explanation"), "no explanation"' "$WORK/api.json"
API_BYTES="$(wc -c <"$WORK/api.json")"
PAGE_BYTES="$(wc -c <"$WORK/page.html")"
CSS_BYTES="$(curl -fsS "$BASE/static/site.css" | wc -c)"
echo "== API answer $API_BYTES bytes (with explanation); page $PAGE_BYTES + stylesheet $CSS_BYTES bytes"

cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$WORK/request.json", "r")
wrk.body = f:read("*a")
f:close()
LUA

LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
run() { # name wrk-args…
    local name="$1"
    shift
    wrk -t"$THREADS" -c"$CONNECTIONS" -d3s "$@" >/dev/null
    echo "== $name"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" | tee "$WORK/$name.txt"
}
run echo -s "$WORK/post.lua" "$ECHO_URL"
run api -s "$WORK/post.lua" "$API"
run page -H 'Accept-Language: zh-CN' "$PAGE"
# The floor once more at the end: the machine is shared, this shows how much it moved.
run echo2 -s "$WORK/post.lua" "$ECHO_URL"

MACHINE="$(nproc) cores, load avg at start $LOAD"
DATE="$(date -u +%Y-%m-%d)"
python3 - "$ROOT/BENCHMARKS.md" "$WORK" "$MACHINE" "$DATE" "$CONNECTIONS" "$DURATION" "$API_BYTES" "$(git rev-parse --short HEAD)" "$PAGE_BYTES" "$CSS_BYTES" <<'PY'
import re, sys
path, work, machine, date, conns, duration, api_bytes, commit, page_bytes, css_bytes = sys.argv[1:]
weight = int(page_bytes) + int(css_bytes)

def read(name):
    t = open(f"{work}/{name}.txt").read()
    def ms(pct):
        m = re.search(r"^\s*%s%%\s+([\d.]+)(us|ms|s)\s*$" % pct, t, re.M)
        v, u = float(m.group(1)), m.group(2)
        return v / 1000 if u == "us" else v * 1000 if u == "s" else v
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    if errors:
        sys.exit(f"{name}: {errors.group(1)} non-2xx answers")
    return rps, ms(50), ms(99)

r = {n: read(n) for n in ("echo", "api", "page", "echo2")}
echo_rps = (r["echo"][0] + r["echo2"][0]) / 2
share = r["api"][0] / echo_rps
p99_ratio = r["page"][2] / r["api"][2]
rows = "\n".join(
    f"| {label} | {v[0]:,.0f} | {v[1]:.2f} | {v[2]:.2f} |"
    for label, v in (
        ("floor: bare actix-web JSON echo (`src/bin/echo-floor.rs`)", r["echo"]),
        ("calculator API `POST /api/v1/levy/calculate`", r["api"]),
        ("calculator page `GET /calculator?request=…`", r["page"]),
        ("floor again, after the others", r["echo2"]),
    )
)
start, end = "<!-- bench-http:start -->", "<!-- bench-http:end -->"
section = f"""{start}
## HTTP: calculator against a bare echo (`scripts/bench-http.sh`)

One release `quota-levy serve` and the echo floor on loopback, wrk at {conns}
connections for {duration} per target (after 3 s of warm-up), in one run: the same
request (Sanmenxia 2025, about 190 staff, two disabled employees) to a bare actix-web
JSON echo, to the calculator API (answer {int(api_bytes):,} bytes with the explanation)
and to the result page. Targets: calculator ≥ 50 % of the echo's requests/s, API p99 ≤
10 ms, page p99 ≤ 1.5 × the API's. Built from {commit}.

| target | requests/s | p50 (ms) | p99 (ms) |
|---|---:|---:|---:|
{rows}

Calculator / echo requests/s (echo averaged over its two runs): **{share:.0%}**.
Page / API p99: **{p99_ratio:.2f}**. Page weight: {int(page_bytes):,} bytes of HTML +
{int(css_bytes):,} bytes of stylesheet = **{weight / 1024:.1f} KB** (uncompressed; target
under 100 KB). Machine: {machine}; {date}.
{end}"""
text = open(path, encoding="utf-8").read()
if start in text and end in text:
    text = text[:text.index(start)] + section + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w", encoding="utf-8").write(text)
print(f"calculator / echo {share:.0%}; page / API p99 {p99_ratio:.2f}")
PY
echo "== BENCHMARKS.md updated"
