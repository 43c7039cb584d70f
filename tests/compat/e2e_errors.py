#!/usr/bin/env python3
"""End-to-end check of error answers: the official Kombo Python SDK against a running
`atsbridge demo`, driving the general endpoints and an ATS endpoint into their error paths.

Each error must reach the caller as the SDK's typed error class for its endpoint
(`errors.KomboGeneralError` for force-sync, passthrough, integrations, check-api-key, connect;
`errors.KomboAtsError` for `/ats/...`) with the expected code, never as a
`ResponseValidationError` (which the SDK raises when a general endpoint answers a code outside
the eight `PLATFORM.*` codes of its model, e.g. `INTEGRATION.INACTIVE`).

The demo is shared with the other e2e scripts: the integration is disabled for a moment and
always enabled again.

Usage: e2e_errors.py DEMO_JSON   (the demo.json the demo writes)
"""
from __future__ import annotations

import json
import sys
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


def expect_error(what: str, cls: type, call, code: str, status: int | None = None, mentions: tuple[str, ...] = ()) -> None:
    """`call()` must raise `cls` (the SDK's typed error) with `code`, `status` and a message
    mentioning each of `mentions`."""
    try:
        call()
    except errors.ResponseValidationError as e:
        check(False, f"{what}: the SDK could not parse the error answer ({e.status_code} {e.body[:300]})")
        return
    except cls as e:
        error = e.data.error
        check(error.code == code, f"{what}: code {error.code}, wanted {code} ({error.message})")
        if status is not None:
            check(e.status_code == status, f"{what}: status {e.status_code}, wanted {status}")
        for m in mentions:
            check(m in error.message, f"{what}: the message mentions {m!r} ({error.message})")
        check(bool(error.title), f"{what}: a title")
        return
    except Exception as e:  # noqa: BLE001 - any other class is the failure being tested for
        check(False, f"{what}: raised {type(e).__name__} instead of {cls.__name__}: {e}")
        return
    check(False, f"{what}: no error raised")


def main() -> int:
    info = json.load(open(sys.argv[1]))
    base, key, integration = info["base_url"], info["api_key"], info["integration_id"]
    kombo = Kombo(api_key=key, integration_id=integration, server_url=base)
    passthrough = dict(tool="sagehr", api="api", method="GET", path="/recruitment/positions")

    before = kombo.general.get_integration_details(integration_id=integration).data.status
    check(before == "ACTIVE", f"the demo's integration is ACTIVE to begin with ({before})")

    # A disabled integration: force-sync and passthrough refuse with a general code, the
    # ATS endpoints with INTEGRATION.INACTIVE (their model has it).
    kombo.general.set_integration_enabled(integration_id=integration, value=False)
    try:
        check(kombo.general.get_integration_details(integration_id=integration).data.status == "INACTIVE", "disabling makes it INACTIVE")
        expect_error("force-sync on a disabled integration", errors.KomboGeneralError,
                     lambda: kombo.general.trigger_sync(type_="FULL"),
                     "PLATFORM.INPUT_INVALID", 403, ("INTEGRATION.INACTIVE", "disabled"))
        expect_error("passthrough on a disabled integration", errors.KomboGeneralError,
                     lambda: kombo.general.send_passthrough_request(**passthrough),
                     "PLATFORM.INPUT_INVALID", 403, ("INTEGRATION.INACTIVE",))
        expect_error("get_jobs on a disabled integration", errors.KomboAtsError,
                     lambda: kombo.ats.get_jobs(page_size=1),
                     "INTEGRATION.INACTIVE", 403)
    finally:
        kombo.general.set_integration_enabled(integration_id=integration, value=True)
    after = kombo.general.get_integration_details(integration_id=integration).data.status
    check(after == "ACTIVE", f"enabled again, the integration is ACTIVE ({after})")

    # Bad input.
    expect_error("passthrough with a path leaving the API", errors.KomboGeneralError,
                 lambda: kombo.general.send_passthrough_request(tool="sagehr", api="api", method="GET", path="/../admin"),
                 "PLATFORM.INPUT_INVALID", 400, ("path",))
    expect_error("passthrough to another tool", errors.KomboGeneralError,
                 lambda: kombo.general.send_passthrough_request(tool="greenhouse", api="harvest", method="GET", path="/jobs"),
                 "PLATFORM.INPUT_INVALID", 400, ("path",))
    expect_error("a connection link for a category without tools", errors.KomboGeneralError,
                 lambda: kombo.connect.create_connection_link(end_user_email="it@x.example", end_user_organization_name="X",
                                                              integration_category="LMS"),
                 "PLATFORM.INPUT_INVALID", 400, ("integration_category",))

    # Unknown integrations and tokens.
    unknown = "sagehr:UnknownUnknownUnknownabc"
    expect_error("get_integration_details of an unknown id", errors.KomboGeneralError,
                 lambda: kombo.general.get_integration_details(integration_id=unknown),
                 "PLATFORM.INTEGRATION_NOT_FOUND", 404)
    expect_error("set_integration_enabled of an unknown id", errors.KomboGeneralError,
                 lambda: kombo.general.set_integration_enabled(integration_id=unknown, value=True),
                 "PLATFORM.INTEGRATION_NOT_FOUND", 404)
    other = Kombo(api_key=key, integration_id=unknown, server_url=base)
    expect_error("force-sync of an unknown integration", errors.KomboGeneralError,
                 lambda: other.general.trigger_sync(type_="FULL"),
                 "PLATFORM.INTEGRATION_NOT_FOUND", 404)
    expect_error("get_integration_by_token with an unknown token", errors.KomboGeneralError,
                 lambda: kombo.connect.get_integration_by_token(token="no-such-token"),
                 "PLATFORM.INTEGRATION_NOT_FOUND", 404)

    # A wrong API key, on a general and on an ATS endpoint.
    wrong = Kombo(api_key="not-an-atsbridge-key", integration_id=integration, server_url=base)
    expect_error("check_api_key with a wrong key", errors.KomboGeneralError,
                 lambda: wrong.general.check_api_key(),
                 "PLATFORM.AUTHENTICATION_INVALID", 401)
    expect_error("force-sync with a wrong key", errors.KomboGeneralError,
                 lambda: wrong.general.trigger_sync(type_="FULL"),
                 "PLATFORM.AUTHENTICATION_INVALID", 401)
    expect_error("get_jobs with a wrong key", errors.KomboAtsError,
                 lambda: wrong.ats.get_jobs(page_size=1),
                 "PLATFORM.AUTHENTICATION_INVALID", 401)

    # An ATS write on a job that does not exist.
    expect_error("create_application on an unknown job", errors.KomboAtsError,
                 lambda: kombo.ats.create_application(
                     job_id="NoSuchJobNoSuchJobNoSuch",
                     candidate={"first_name": "No", "last_name": "Job", "email_address": "no-job@example.com"}),
                 "PLATFORM.INPUT_INVALID", 400, ("job_id",))

    print(f"e2e_errors: {CHECKS} checks against the demo with the official SDK")
    print(f"{CHECKS - len(FAILURES)} passed, {len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
