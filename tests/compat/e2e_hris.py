#!/usr/bin/env python3
"""End-to-end check of the HRIS category: the official Kombo Python SDK against a running
`atsbridge demo`, through its HRIS integration (`hris_integration_id` in demo.json).

It pages through every HRIS model with page_size=7 (the SDK parses every page into its
models) and compares what it gets with what the simulated Sage HR account holds (read from
the simulator's control API), then checks the filters.

Usage: e2e_hris.py DEMO_JSON
"""
from __future__ import annotations

import json
import sys
import urllib.request
from datetime import date, datetime, timedelta, timezone

import warnings

from kombo import Kombo

warnings.simplefilter("ignore", DeprecationWarning)

FAILURES: list[str] = []
CHECKS = 0
# The window of leave requests atsbridge reads (HrisConfig's default), around today.
DAYS_BACK, DAYS_AHEAD = 365, 365


def check(condition: bool, what: str) -> None:
    global CHECKS
    CHECKS += 1
    if not condition:
        FAILURES.append(what)
        print("FAIL", what)


def sim_raw(info: dict) -> dict:
    with urllib.request.urlopen(info["sim_control_url"] + "/hris", timeout=30) as r:
        return json.load(r)["data"]


def sdk_all(call, **filters) -> list:
    out = []
    response = call(page_size=7, **filters)
    while response is not None:
        out += response.result.data.results
        response = response.next()
    return out


def main() -> int:
    info = json.load(open(sys.argv[1]))
    kombo = Kombo(api_key=info["api_key"], integration_id=info["hris_integration_id"], server_url=info["base_url"])
    raw = sim_raw(info)
    today = date.fromisoformat(raw["today"])

    employees = sdk_all(kombo.hris.get_employees)
    sim_employees = {str(e["id"]): e for e in raw["employees"]}
    check(sorted(e.remote_id for e in employees) == sorted(sim_employees), "employees are exactly Sage HR's, active and terminated")
    check(len({e.id for e in employees}) == len(employees), "no employee repeated across pages")
    by_id = {e.id: e for e in employees}
    teams = {str(t["id"]): t for t in raw["teams"]}
    for e in employees:
        s = sim_employees[e.remote_id]
        check(e.first_name == s["first_name"] and e.last_name == s["last_name"], f"employee {e.remote_id} names")
        check((e.employment_status == "INACTIVE") == s["terminated"], f"employee {e.remote_id} status {e.employment_status}")
        if not s["terminated"]:
            check(e.work_email == s["email"], f"employee {e.remote_id} work email")
            if s["team_id"] is not None:
                check([g.remote_id for g in e.groups] == [str(s["team_id"])], f"employee {e.remote_id} group")
                check(e.groups[0].name == teams[str(s["team_id"])]["name"], f"employee {e.remote_id} group name")
            if s["reports_to_employee_id"] is not None:
                check(e.manager is not None and e.manager.remote_id == str(s["reports_to_employee_id"]), f"employee {e.remote_id} manager")
        check(e.custom_fields == {f["label"]: f["value"] for f in s["custom_fields"]}, f"employee {e.remote_id} custom fields")
        check(len(e.employments) == len(s["compensations"]), f"employee {e.remote_id} employments")
        check(all(b.employee_id == e.id and b.type_id for b in e.time_off_balances), f"employee {e.remote_id} balances")

    employments = sdk_all(kombo.hris.get_employments)
    check(len(employments) == sum(len(s["compensations"]) for s in raw["employees"]), "employments: one per compensation row")
    check(all(x.employee_id in by_id for x in employments), "every employment's employee is served")

    groups = sdk_all(kombo.hris.get_groups)
    check(sorted(g.remote_id for g in groups) == sorted(teams), "groups are exactly the teams")
    check(all(g.type == "TEAM" for g in groups), "groups are TEAMs")

    types = sdk_all(kombo.hris.get_absence_types)
    check(sorted(t.remote_id for t in types) == sorted(str(p["id"]) for p in raw["policies"]), "absence types are exactly the policies")

    low, high = today - timedelta(days=DAYS_BACK), today + timedelta(days=DAYS_AHEAD)
    in_window = {str(r["id"]): r for r in raw["leave_requests"]
                 if date.fromisoformat(r["start_date"]) <= high and date.fromisoformat(r["end_date"]) >= low}
    absences = sdk_all(kombo.hris.get_absences)
    check(sorted(a.remote_id for a in absences) == sorted(in_window), f"absences are the leave requests of the window ({len(absences)} vs {len(in_window)})")
    for a in absences[:200]:
        r = in_window[a.remote_id]
        check(str(a.start_date)[:10] == r["start_date"] and str(a.end_date)[:10] == r["end_date"], f"absence {a.remote_id} days")
        check(a.type is not None and a.type.id == a.type_id and a.employee_id in by_id, f"absence {a.remote_id} type and employee")

    balances = sdk_all(kombo.hris.get_time_off_balances)
    check(len(balances) > 0 and all(b.employee_id in by_id for b in balances), "balances belong to served employees")
    check(all(b.type is not None and b.type.id == b.type_id for b in balances), "each balance embeds its type")

    # Filters return exactly the right subsets.
    active = sdk_all(kombo.hris.get_employees, employment_statuses=["ACTIVE"])
    check(sorted(e.remote_id for e in active) == sorted(e.remote_id for e in employees if e.employment_status == "ACTIVE"), "employment_statuses=ACTIVE")
    team = groups[0]
    members = sdk_all(kombo.hris.get_employees, group_ids=[team.id])
    check(sorted(e.remote_id for e in members) == sorted(e.remote_id for e in employees if [g.id for g in e.groups] == [team.id]), "group_ids")
    sized = sorted(str(s["id"]) for s in raw["employees"]
                   if any(f["label"] == "T-shirt size" and f["value"] == "M" for f in s["custom_fields"]))
    got = sdk_all(kombo.hris.get_employees, custom_fields=json.dumps({"T-shirt size": "M"}))
    check(len(sized) > 0 and sorted(e.remote_id for e in got) == sized, "custom_fields filter")
    one = active[0]
    theirs = sdk_all(kombo.hris.get_absences, employee_id=one.id)
    check(sorted(a.remote_id for a in theirs) == sorted(a.remote_id for a in absences if a.employee_id == one.id), "absences employee_id")
    start = datetime(today.year, today.month, 1, tzinfo=timezone.utc)
    end = start + timedelta(days=30)
    month = sdk_all(kombo.hris.get_absences, date_from=start, date_until=end)
    expected = [a.remote_id for a in absences
                if str(a.end_date)[:10] >= start.date().isoformat() and str(a.start_date)[:10] <= end.date().isoformat()]
    check(sorted(a.remote_id for a in month) == sorted(expected), "absences date_from/date_until overlap")
    check([b.employee_id for b in sdk_all(kombo.hris.get_time_off_balances, employee_id=one.id)] == [b.employee_id for b in balances if b.employee_id == one.id],
          "balances employee_id")

    print(f"e2e_hris: {CHECKS} checks against the demo's HRIS integration with the official SDK")
    print(f"{CHECKS - len(FAILURES)} passed, {len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
