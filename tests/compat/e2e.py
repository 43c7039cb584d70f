#!/usr/bin/env python3
"""End-to-end check: the official Kombo Python SDK against a running `atsbridge demo`.

It pages through all four models with page_size=7 and compares what it gets with what the
simulated Sage HR account holds (read directly from the simulator), checks that filters
return exactly the right subsets, and that a stage move made in Sage HR shows up through
`updated_after` after a forced sync.

Usage: e2e.py DEMO_JSON   (the demo.json the demo writes)
"""
from __future__ import annotations

import json
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import warnings

from kombo import Kombo

warnings.simplefilter("ignore", DeprecationWarning)

FAILURES: list[str] = []
CHECKS = 0


def check(condition: bool, what: str) -> None:
    global CHECKS
    CHECKS += 1
    if not condition:
        FAILURES.append(what)
        print("FAIL", what)


def sim_get(info: dict, path: str) -> dict:
    req = urllib.request.Request(info["sim_url"] + path, headers={"X-Auth-Token": info["sim_api_key"]})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def sim_control(info: dict, method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body or {}).encode()
    req = urllib.request.Request(info["sim_control_url"] + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read()
        return json.loads(text) if text else {}


def sim_all(info: dict, path: str) -> list[dict]:
    out, page = [], 1
    while True:
        body = sim_get(info, f"{path}{'&' if '?' in path else '?'}per_page=100&page={page}")
        out += body["data"]
        if not body["meta"]["next_page"]:
            return out
        page = body["meta"]["next_page"]


def sdk_all(call, **filters) -> list:
    out = []
    response = call(page_size=7, **filters)
    while response is not None:
        out += response.result.data.results
        response = response.next()
    return out


def main() -> int:
    info = json.load(open(sys.argv[1]))
    kombo = Kombo(api_key=info["api_key"], integration_id=info["integration_id"], server_url=info["base_url"])

    positions = sim_all(info, "/recruitment/positions")
    applicants = [a | {"position_id": p["id"]} for p in positions for a in sim_all(info, f"/recruitment/positions/{p['id']}/applicants")]
    by_remote = {str(a["id"]): a for a in applicants}

    jobs = sdk_all(kombo.ats.get_jobs)
    candidates = sdk_all(kombo.ats.get_candidates)
    applications = sdk_all(kombo.ats.get_applications)
    stages = sdk_all(kombo.ats.get_application_stages)

    check(sorted(j.remote_id for j in jobs) == sorted(str(p["id"]) for p in positions), "jobs are exactly the positions")
    check(len({j.id for j in jobs}) == len(jobs), "no job repeated across pages")
    check(sorted(c.remote_id for c in candidates) == sorted(by_remote), "candidates are exactly the applicants")
    check(sorted(a.remote_id for a in applications) == sorted(by_remote), "applications are exactly the applicants")
    check(sorted(s.remote_id for s in stages) == sorted({str(a["stage"]["id"]) for a in applicants}), "stages are exactly the stages in use")

    status = {"draft": "DRAFT", "published": "OPEN", "internal": "OPEN", "completed": "CLOSED", "cancelled": "CLOSED"}
    pos = {str(p["id"]): p for p in positions}
    for j in jobs:
        p = pos[j.remote_id]
        check(j.name == p["title"] and j.status == status[p["status"]], f"job {j.remote_id} name/status")
        used = sorted({str(a["stage"]["id"]) for a in applicants if a["position_id"] == p["id"]}, key=int)
        check([s.remote_id for s in j.stages] == used, f"job {j.remote_id} stages")
        check(len(j.hiring_team) > 0 and all(m.id and m.remote_id and m.job_roles for m in j.hiring_team), f"job {j.remote_id} hiring team")
    jobs_by_id = {j.id: j for j in jobs}
    for a in applications:
        raw = by_remote[a.remote_id]
        outcome = "HIRED" if raw["hired_date"] else "DECLINED" if raw["disqualified_date"] else "PENDING"
        check(a.outcome == outcome, f"application {a.remote_id} outcome")
        check(a.job is not None and a.job.remote_id == str(raw["position_id"]) and a.job_id in jobs_by_id, f"application {a.remote_id} job")
        check(a.current_stage is not None and a.current_stage.remote_id == str(raw["stage"]["id"]), f"application {a.remote_id} stage")
        check(a.candidate is not None and a.candidate.remote_id == a.remote_id and a.candidate.first_name == raw["first_name"], f"application {a.remote_id} candidate")
    for c in candidates:
        raw = by_remote[c.remote_id]
        emails = [e.email_address for e in (c.email_addresses or [])]
        check(emails == ([raw["email"]] if raw["email"] else []), f"candidate {c.remote_id} email")
        check(len(c.applications) == 1 and c.applications[0].remote_id == c.remote_id, f"candidate {c.remote_id} applications")

    # Filters return exactly the right subsets.
    open_jobs = sdk_all(kombo.ats.get_jobs, statuses=["OPEN"])
    check(sorted(j.remote_id for j in open_jobs) == sorted(str(p["id"]) for p in positions if p["status"] in ("published", "internal")), "statuses=OPEN")
    hired = sdk_all(kombo.ats.get_applications, outcomes=["HIRED"])
    check(sorted(a.remote_id for a in hired) == sorted(str(a["id"]) for a in applicants if a["hired_date"]), "outcomes=HIRED")
    some_job = jobs[0]
    of_job = sdk_all(kombo.ats.get_applications, job_ids=[some_job.id])
    check(sorted(a.remote_id for a in of_job) == sorted(str(a["id"]) for a in applicants if str(a["position_id"]) == some_job.remote_id), "applications job_ids")
    cands_of_job = sdk_all(kombo.ats.get_candidates, job_ids=[some_job.id])
    check(sorted(c.remote_id for c in cands_of_job) == sorted(a.remote_id for a in of_job), "candidates job_ids")
    two = [applications[0].id, applications[-1].id]
    check(sorted(a.id for a in sdk_all(kombo.ats.get_applications, ids=two)) == sorted(two), "ids")
    check([j.remote_id for j in sdk_all(kombo.ats.get_jobs, remote_ids=[some_job.remote_id])] == [some_job.remote_id], "remote_ids")

    # A stage move in Sage HR shows up through updated_after after a forced sync; so does a
    # deletion, with include_deleted.
    target = next(a for a in applications if a.outcome == "PENDING")
    raw = by_remote[target.remote_id]
    other_stage = next(a["stage"]["id"] for a in applicants if a["position_id"] == raw["position_id"] and a["stage"]["id"] != raw["stage"]["id"]) if any(
        a["position_id"] == raw["position_id"] and a["stage"]["id"] != raw["stage"]["id"] for a in applicants) else None
    before = datetime.now(timezone.utc) - timedelta(milliseconds=5)
    time.sleep(0.05)
    victim = next(a for a in applications if a.remote_id != target.remote_id)
    if other_stage is not None:
        sim_control(info, "POST", f"/applicants/{target.remote_id}/move", {"stage_id": other_stage})
    else:
        sim_control(info, "POST", f"/applicants/{target.remote_id}/disqualify", {})
    sim_control(info, "DELETE", f"/applicants/{victim.remote_id}")
    kombo.general.trigger_sync(type_="FULL")
    changed = []
    for _ in range(100):
        changed = sdk_all(kombo.ats.get_applications, updated_after=before)
        if any(a.remote_id == target.remote_id for a in changed) and any(a.remote_id == victim.remote_id for a in sdk_all(kombo.ats.get_applications, updated_after=before, include_deleted=True)):
            break
        time.sleep(0.2)
    check([a.remote_id for a in changed] == [target.remote_id], f"updated_after returns the moved application only (got {[a.remote_id for a in changed]})")
    moved_candidates = sdk_all(kombo.ats.get_candidates, updated_after=before)
    check(target.remote_id in [c.remote_id for c in moved_candidates], "the moved application's candidate matches updated_after")
    check(all(a.remote_id != victim.remote_id for a in sdk_all(kombo.ats.get_applications)), "a deleted application is hidden")
    deleted = [a for a in sdk_all(kombo.ats.get_applications, include_deleted=True) if a.remote_id == victim.remote_id]
    check(len(deleted) == 1 and deleted[0].remote_deleted_at is not None, "include_deleted shows it with remote_deleted_at")

    print(f"e2e: {CHECKS} checks against the demo with the official SDK")
    print(f"{CHECKS - len(FAILURES)} passed, {len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
