#!/usr/bin/env python3
"""End-to-end check of the connection flow with the official Kombo Python SDK against a running
`atsbridge demo`: `connect.create_connection_link`, the hosted page (fetched and submitted as a
browser without JavaScript would), `connect.get_integration_by_token`, the new integration's
first sync seen through `ats.get_jobs`, and `general.create_reconnection_link`.

Usage: e2e_connect.py DEMO_JSON   (the demo.json the demo writes)
"""
from __future__ import annotations

import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
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


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: D401 - keep 3xx answers as they are
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def fetch(url: str, form: dict | None = None, origin: str | None = None) -> tuple[int, object, str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(url, data=data)
    if origin:
        req.add_header("Origin", origin)
    try:
        with OPENER.open(req, timeout=60) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def main() -> int:
    info = json.load(open(sys.argv[1]))
    base = info["base_url"]
    origin = base.rsplit("/v1", 1)[0]
    kombo = Kombo(api_key=info["api_key"], server_url=base)

    # The SDK's default category is HRIS, which atsbridge connects for Sage HR too.
    res = kombo.connect.create_connection_link(end_user_email="it@globex.example", end_user_organization_name="Globex")
    check(res.data.link.startswith(origin + "/connect/"), f"an HRIS link by default ({res.data.link})")
    # A category without tools is refused, naming the field.
    try:
        kombo.connect.create_connection_link(end_user_email="it@globex.example", end_user_organization_name="Globex",
                                             integration_category="LMS")
        check(False, "an LMS link is refused")
    except (errors.KomboGeneralError, errors.KomboAtsError) as e:
        check(e.data.error.code == "PLATFORM.INPUT_INVALID" and "integration_category" in e.data.error.message,
              f"a category without tools is named ({e.data.error.message})")

    res = kombo.connect.create_connection_link(
        end_user_email="it@globex.example",
        end_user_organization_name="Globex",
        end_user_origin_id="globex-1",
        integration_category="ATS",
        integration_tool="sagehr",
        language="de",
        link_type="MAGIC_LINK",
    )
    link = res.data.link
    check(link.startswith(origin + "/connect/"), f"the link points at the server ({link})")

    status, headers, html = fetch(link)
    check(status == 200, f"the page opens ({status})")
    check('lang="de"' in html and "Voraussetzungen" in html, "the page is in German")
    check("default-src 'none'" in headers.get("Content-Security-Policy", ""), "the page has a strict CSP")

    status, _, html = fetch(link, {"subdomain": info["sim_subdomain"], "api_key": "falsch"}, origin)
    check(status == 422 and 'id="form-error"' in html, f"a wrong key is reported ({status})")
    check("falsch" not in html, "the wrong key is not echoed")

    status, _, html = fetch(link, {"subdomain": info["sim_subdomain"], "api_key": info["sim_api_key"], "source_name": "Globex Jobs"}, origin)
    check(status == 200 and 'id="connect-done"' in html, f"the right key connects ({status})")
    m = re.search(r'data-token="([^"]+)"', html)
    check(m is not None, "the done page hands back a token")
    token = m.group(1) if m else ""

    got = kombo.connect.get_integration_by_token(token=token).data
    check(got.tool == "sagehr" and got.id.startswith("sagehr:"), f"integration by token ({got.id})")
    check(got.end_user_organization_name == "Globex" and got.end_user_email == "it@globex.example"
          and got.end_user_origin_id == "globex-1", "the end user comes back")
    check(got.id != info["integration_id"], "a new integration")
    check(got.setup_status in ("FINAL_SYNC_PENDING", "COMPLETED"), f"setup status ({got.setup_status})")

    # The first sync runs by itself; its jobs match the demo's integration (same account).
    new = Kombo(api_key=info["api_key"], integration_id=got.id, server_url=base)
    deadline = time.time() + 60
    jobs = None
    while time.time() < deadline:
        try:
            jobs = new.ats.get_jobs(page_size=250).result.data.results
            break
        except errors.KomboAtsError as e:
            check(e.data.error.code == "INTEGRATION.SETUP_SYNC_PENDING", f"pending until the first sync ({e.data.error.code})")
            time.sleep(0.2)
    old = Kombo(api_key=info["api_key"], integration_id=info["integration_id"], server_url=base)
    want = sorted(j.remote_id for j in old.ats.get_jobs(page_size=250).result.data.results)
    check(jobs is not None and sorted(j.remote_id for j in jobs) == want, "the new integration has the account's jobs")
    integration = kombo.general.get_integration_details(integration_id=got.id).data
    check(integration.setup_status == "COMPLETED" and integration.status == "ACTIVE", "ACTIVE and COMPLETED after the first sync")

    status, _, _ = fetch(link)
    check(status == 410, f"the link is single-use ({status})")

    relink = kombo.general.create_reconnection_link(integration_id=got.id, language="en").data.link
    status, _, html = fetch(relink)
    check(status == 200 and "Reconnect your Sage HR account" in html, "the reconnection page opens")

    print(f"e2e_connect: {CHECKS} checks against the demo with the official SDK")
    print(f"{CHECKS - len(FAILURES)} passed, {len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
