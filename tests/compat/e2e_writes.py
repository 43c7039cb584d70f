#!/usr/bin/env python3
"""End-to-end check of the write actions: the official Kombo Python SDK's `create_application`
and `create_candidate` against a running `atsbridge demo`, checked against the simulated
Sage HR account (the applicant exists, the uploaded file's bytes match, the source is set).

Usage: e2e_writes.py DEMO_JSON   (the demo.json the demo writes)
"""
from __future__ import annotations

import base64
import hashlib
import json
import sys
import urllib.request
import uuid
import warnings

from kombo import Kombo, errors

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


def sim_control_get(info: dict, path: str) -> dict:
    with urllib.request.urlopen(info["sim_control_url"] + path, timeout=30) as r:
        return json.load(r)


def main() -> int:
    info = json.load(open(sys.argv[1]))
    kombo = Kombo(api_key=info["api_key"], integration_id=info["integration_id"], server_url=info["base_url"])
    run = uuid.uuid4().hex[:8]

    jobs = [j for j in kombo.ats.get_jobs(page_size=250, statuses=["OPEN"]).result.data.results]
    check(len(jobs) >= 1, "the demo has an open job")
    job = jobs[0]

    # create_application with a CV and an extra file, by Kombo job id.
    cv = b"%PDF-1.4 e2e CV " + run.encode() + bytes(range(256))
    email = f"sdk-{run}@example.com"
    key = f"e2e-{run}"
    kwargs = dict(
        job_id=job.id,
        candidate={
            "first_name": "Sdk",
            "last_name": "Writer",
            "email_address": email,
            "phone_number": "+49 30 1234",
            "title": "Engineer",
            "gender": "OTHER",
            "location": {"country": "DE", "city": "Berlin"},
        },
        attachments=[
            {"name": "cv.pdf", "type": "CV", "content_type": "application/pdf", "data": base64.b64encode(cv).decode()},
            {"name": "extra.txt", "type": "OTHER", "content_type": "text/plain", "data": base64.b64encode(b"extra").decode()},
        ],
        source={"name": "SDK Board"},
        http_headers={"Idempotency-Key": key},
    )
    created = kombo.ats.create_application(**kwargs)
    app = created.data
    check(created.data is not None, "create_application succeeds")
    check(app.job_id == job.id, "the application is on the job")
    check(app.candidate is not None and app.candidate.first_name == "Sdk", "the response has the full candidate")
    check(app.candidate.source == "SDK Board", f"the source is written (got {app.candidate.source})")
    check(app.outcome == "PENDING", "a new application is PENDING")
    messages = [w.message for w in created.warnings]
    check(any("candidate.gender" in m for m in messages), f"a warning for gender ({messages})")
    check(any("attachments[1]" in m for m in messages), f"a warning for the second file ({messages})")

    detail = sim_get(info, f"/recruitment/applicants/{app.remote_id}")["data"]
    check(detail["email"] == email, "the applicant exists in Sage HR")
    check(str(detail["position_id"]) == job.remote_id, "on the right position")
    check(detail["source"] == "SDK Board", "with the source")
    check(detail.get("address") == "Berlin, DE", f"with the address (got {detail.get('address')})")
    files = sim_control_get(info, f"/applicants/{app.remote_id}/files")["data"]
    check(len(files) == 1 and files[0]["sha256"] == hashlib.sha256(cv).hexdigest(), "the CV's bytes reached Sage HR")

    listed = kombo.ats.get_applications(ids=[app.id]).result.data.results
    check(len(listed) == 1 and listed[0].remote_id == app.remote_id, "readable at once through get_applications")

    # The same Idempotency-Key replays the first result.
    again = kombo.ats.create_application(**kwargs)
    check(again.data.id == app.id, "the same Idempotency-Key answers the first result")
    # Without it, Sage HR refuses the duplicate.
    kwargs.pop("http_headers")
    try:
        kombo.ats.create_application(**kwargs)
        check(False, "a duplicate is refused")
    except errors.KomboAtsError as e:
        check(e.data.error.code == "ATS.APPLICATION_ALREADY_EXISTS", f"duplicate code (got {e.data.error.code})")

    # create_candidate with a remote job id.
    cand = kombo.ats.create_candidate(
        candidate={"first_name": "Cand", "last_name": "Idate", "email_address": f"cand-{run}@example.com"},
        application={"job_id": f"remote:{job.remote_id}"},
    )
    c = cand.data
    check(cand.data is not None, "create_candidate succeeds")
    check(len(c.applications) == 1 and c.applications[0].job is not None and c.applications[0].job.id == job.id, "the candidate has its application on the job")
    detail = sim_get(info, f"/recruitment/applicants/{c.remote_id}")["data"]
    check(detail["first_name"] == "Cand", "the candidate's applicant exists in Sage HR")

    # Validation errors come back as PLATFORM.INPUT_INVALID through the SDK.
    try:
        kombo.ats.create_application(job_id=job.id, candidate={"first_name": "X", "last_name": "Y", "email_address": "nope"})
        check(False, "a bad email is refused")
    except errors.KomboAtsError as e:
        check(e.data.error.code == "PLATFORM.INPUT_INVALID" and "candidate.email_address" in e.data.error.message, f"bad email named ({e.data.error.message})")

    print(f"e2e_writes: {CHECKS} checks against the demo with the official SDK")
    print(f"{CHECKS - len(FAILURES)} passed, {len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
