#!/usr/bin/env python3
"""The quota-levy conformance runner: checks that a calculator gives the figures of
every golden case, to the fen.

Either posts each case's request to a calculator over HTTP:

    python3 run.py --url http://127.0.0.1:8080

or reads a calculator's answers from a folder, one `<case id>.json` a case:

    python3 run.py --outputs answers/

and compares every expected figure of the case with the answer. Prints one line a case
(PASS or FAIL, with every figure that differs) and exits 0 when every case passes, 1 when
any figure differs or an answer is missing or unreadable, 2 on a usage error.

Python 3 standard library only. See README.md next to this file.
"""

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from decimal import Decimal, InvalidOperation

DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def load_cases(folder):
    """Every case of `folder` (`*.json`), by id."""
    cases = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            case = json.load(f, parse_float=Decimal)
        case.setdefault("id", name[: -len(".json")])
        cases.append(case)
    return cases


def as_text(value):
    """A value of an answer as the cases write it: strings as they are, JSON text else."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, Decimal)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def lookup(answer, key):
    """A top-level field, or a JSON pointer (RFC 6901) when `key` starts with "/"."""
    if not key.startswith("/"):
        if isinstance(answer, dict) and key in answer:
            return True, answer[key]
        return False, None
    node = answer
    for token in key[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False, None
    return True, node


def same(want, got):
    """Decimals compare by exact value (so "180000.00" and 180000.00 agree, 180000.01
    does not); everything else by its text."""
    got_text = as_text(got)
    if DECIMAL.match(want) and DECIMAL.match(got_text):
        try:
            return Decimal(want) == Decimal(got_text)
        except InvalidOperation:
            return False
    return want == got_text


def compare(case, answer, texts):
    """The faults of one answer: every expected figure that differs or is missing."""
    faults = []
    if not isinstance(answer, dict):
        return ["the answer is not a JSON object"]
    for key, want in case.get("expect", {}).items():
        found, got = lookup(answer, key)
        if not found:
            faults.append(f"{key}: expected {want}, missing from the answer")
        elif not same(str(want), got):
            faults.append(f"{key}: expected {want}, got {as_text(got)}")
    if texts:
        warnings = [w for w in answer.get("warnings", []) if isinstance(w, str)]
        for want in case.get("warnings_contain", []):
            if not any(want in w for w in warnings):
                faults.append(f"warnings: none contains {want!r}")
        for lack in case.get("warnings_lack", []):
            if any(lack in w for w in warnings):
                faults.append(f"warnings: one contains {lack!r}")
        for key, want in case.get("citation_contains", {}).items():
            found, got = lookup(answer, key)
            if not (found and isinstance(got, str) and want in got):
                faults.append(f"{key}: does not contain {want!r}")
    return faults


def post(url, body, timeout):
    """POSTs `body` as JSON; (status, parsed answer or None, error text)."""
    data = json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")
    req = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        return None, None, f"no answer from {url}: {e}"
    try:
        return status, json.loads(raw.decode("utf-8"), parse_float=Decimal), None
    except (UnicodeDecodeError, ValueError) as e:
        return status, None, f"HTTP {status}, the body is not JSON: {e}"


def answer_of(case, args):
    """The calculator's answer to a case, or the reason there is none."""
    endpoint = case.get("endpoint", "/api/v1/levy/calculate")
    if args.outputs:
        path = os.path.join(args.outputs, case["id"] + ".json")
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f, parse_float=Decimal), None
        except FileNotFoundError:
            return None, f"no answer file {path}"
        except (OSError, ValueError) as e:
            return None, f"{path} is not readable JSON: {e}"
    if endpoint.endswith("/surcharge") and args.surcharge_url:
        url = args.surcharge_url
    elif not endpoint.endswith("/surcharge") and args.calculate_url:
        url = args.calculate_url
    elif args.url:
        url = args.url.rstrip("/") + endpoint
    else:
        return None, f"no address for {endpoint}: give --url, --calculate-url or --surcharge-url"
    status, answer, error = post(url, case["request"], args.timeout)
    if error:
        return None, error
    if status != 200:
        return None, f"HTTP {status}: {as_text(answer)[:300]}"
    return answer, None


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(
        description="Check a levy calculator against the golden cases, figure by figure."
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--url", help="base address of a calculator: each case is posted to this + its endpoint")
    src.add_argument("--outputs", help="folder of answers already computed, one <case id>.json a case")
    p.add_argument("--calculate-url", help="full address for the levy cases (instead of --url + endpoint)")
    p.add_argument("--surcharge-url", help="full address for the surcharge cases (instead of --url + endpoint)")
    p.add_argument("--cases", default=os.path.join(here, "cases"), help="folder of cases (default: cases/ next to this script)")
    p.add_argument("--only", action="append", default=[], help="run only this case id (may be repeated)")
    p.add_argument("--texts", action="store_true", help="also check the warnings and citations the cases name (quota-levy's own wording)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each answer (default 30)")
    args = p.parse_args(argv)
    direct = args.calculate_url or args.surcharge_url
    if not (args.url or args.outputs or direct):
        p.error("give --url (or --calculate-url / --surcharge-url), or --outputs")
    if args.outputs and direct:
        p.error("--outputs reads answers from a folder: no address goes with it")
    try:
        cases = load_cases(args.cases)
    except (OSError, ValueError) as e:
        print(f"cannot read the cases in {args.cases}: {e}", file=sys.stderr)
        return 2
    if args.only:
        unknown = sorted(set(args.only) - {c["id"] for c in cases})
        if unknown:
            print(f"no such case: {', '.join(unknown)}", file=sys.stderr)
            return 2
        cases = [c for c in cases if c["id"] in args.only]
    if not cases:
        print(f"no cases in {args.cases}", file=sys.stderr)
        return 2
    failed = 0
    for case in cases:
        answer, error = answer_of(case, args)
        faults = [error] if error else compare(case, answer, args.texts)
        if faults:
            failed += 1
            print(f"FAIL {case['id']}")
            for f in faults:
                print(f"     {f}")
        else:
            print(f"PASS {case['id']} ({len(case.get('expect', {}))} figures)")
    print(f"{len(cases) - failed} passed, {failed} failed, {len(cases)} cases")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:
        # Output piped into a command that stopped reading (e.g. head): not a failure
        # of the calculator; quiet, and the exit code still says something went wrong.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
