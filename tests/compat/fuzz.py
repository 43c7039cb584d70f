#!/usr/bin/env python3
"""Fuzzes a running `atsbridge demo` with schemathesis, driven by the demo's own OpenAPI
document (`GET /v1/openapi.json`): every operation, positive and negative cases, with the
demo's API key; the ATS and general operations with the ATS integration, the HRIS operations
with the HRIS integration.

The run fails on any answer with status >= 500 and on any answer that breaks the document
(status not documented, body not matching its schema, wrong content type or headers), on
invalid input that is accepted, on a route that ignores a missing key.

Left out on purpose: `positive_data_acceptance` (a request can match the schema and still
name a job, webhook or cursor that does not exist, or an action the tool lacks: Kombo answers
those with a 4xx, as we do) and the stateful checks (no links between operations are declared).

Usage: fuzz.py DEMO_JSON [--long]   (FUZZ_SEED=N picks another seed than 19)
  short (default): a bounded run for ./scripts/test (well under 3 minutes on 2 cores);
  --long: many more cases per operation and a longer time budget.
Prints the operations, cases and failures of each part and exits non-zero on a failure.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "ignored_auth",
])


def run(doc: str, base: str, key: str, integration: str, select: list[str], long: bool, label: str) -> tuple[int, int, int, bool]:
    """One schemathesis run; returns (operations, cases, failures, passed)."""
    st = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    args = [
        st, "run", doc, "--url", base,
        "-H", f"Authorization: Bearer {key}",
        "-H", f"X-Integration-Id: {integration}",
        "--checks", CHECKS,
        "--mode", "all",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", "100" if long else "8",
        "--max-time", "480" if long else "70",
        "--seed", os.environ.get("FUZZ_SEED", "19"),
        "--workers", "2",
        "--no-color",
        "--warnings", "off",
        "--suppress-health-check", "all",
        *select,
    ]
    out = subprocess.run(args, capture_output=True, text=True)
    text = out.stdout + out.stderr
    tested = re.search(r"Tested: (\d+)", text)
    cases = re.search(r"(\d+) generated", text)
    failures = re.search(r"(\d+) unique failures?", text)
    ops = int(tested.group(1)) if tested else 0
    n_cases = int(cases.group(1)) if cases else 0
    n_fail = int(failures.group(1)) if failures else 0
    passed = out.returncode == 0
    if not passed:
        print(text[-20000:])
    print(f"fuzz {label}: {ops} operations, {n_cases} cases, {n_fail} failures")
    return ops, n_cases, n_fail, passed


def main() -> int:
    info = json.load(open(sys.argv[1]))
    long = "--long" in sys.argv[2:]
    base = info["base_url"].removesuffix("/v1")
    with urllib.request.urlopen(info["base_url"] + "/openapi.json") as r:
        doc_text = r.read()
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as f:
        f.write(doc_text)
        doc = f.name
    # Both parts together must cover every operation of the document.
    total = sum(len(item) for item in json.loads(doc_text)["paths"].values())
    results = [
        run(doc, base, info["api_key"], info["integration_id"], ["--exclude-tag", "HRIS"], long, "ats+general"),
        run(doc, base, info["api_key"], info["hris_integration_id"], ["--include-tag", "HRIS"], long, "hris"),
    ]
    os.unlink(doc)
    ops = sum(r[0] for r in results)
    cases = sum(r[1] for r in results)
    fails = sum(r[2] for r in results)
    ok = all(r[3] for r in results) and ops == total
    if ops != total:
        print(f"FAIL: {ops} of the document's {total} operations were tested")
    print(f"fuzz: {ops} operations, {cases} cases, {fails} failures")
    print(f"{1 if ok else 0} passed, {0 if ok else 1} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
