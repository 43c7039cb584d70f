#!/usr/bin/env python3
"""Compatibility check against the official Kombo Python SDK.

Reads JSON fixtures written by the Rust model (`compat_fixtures` example) and checks each one
against the SDK model it names:

1. the SDK parses it (strictly, so an enum value outside Kombo's list fails even where the
   SDK would otherwise accept an unknown string);
2. every key we emit is a field the SDK model knows (besides `remote_data`), because the SDK
   silently ignores unknown keys and would not notice a misspelled optional field;
3. on response fixtures, every field the SDK model has is present, since we promise to emit
   every key.

Then it proves it can fail: it renames every key of every fixture in turn, and applies a
table of wrong types and enum values, and expects each broken copy to be rejected.

Usage: check.py FIXTURE_DIR
"""
from __future__ import annotations

import copy
import importlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import warnings

import pydantic

# The SDK flags deprecated fields (confidential, contact_id, …) when read; we emit them on purpose.
warnings.simplefilter("ignore", DeprecationWarning)

# Free-form objects: their keys are data, not schema.
FREE_FORM = {"remote_data", "custom_fields", "remote_fields", "raw", "raw_question", "answer"}

EXPECTED_MODELS = {
    "kombo.models.GetAtsJobsPositiveResponse",
    "kombo.models.GetAtsCandidatesPositiveResponse",
    "kombo.models.GetAtsApplicationsPositiveResponse",
    "kombo.models.GetAtsApplicationStagesPositiveResponse",
    "kombo.models.PostAtsJobsJobIDApplicationsPositiveResponse",
    "kombo.models.PostAtsCandidatesPositiveResponse",
    "kombo.models.PostAtsJobsJobIDApplicationsRequestBody",
    "kombo.models.PostAtsCandidatesRequestBody",
    "kombo.models.GetIntegrationsIntegrationIDPositiveResponse",
    "kombo.models.GetCheckAPIKeyPositiveResponse",
    "kombo.errors.komboatserror.KomboAtsErrorData",
    "kombo.errors.kombogeneralerror.KomboGeneralErrorData",
    "kombo.models.GetHrisEmployeesPositiveResponse",
    "kombo.models.GetHrisEmploymentsPositiveResponse",
    "kombo.models.GetHrisGroupsPositiveResponse",
    "kombo.models.GetHrisAbsenceTypesPositiveResponse",
    "kombo.models.GetHrisAbsencesPositiveResponse",
    "kombo.models.GetHrisTimeOffBalancesPositiveResponse",
    "kombo.errors.kombohriserror.KomboHrisErrorData",
    # The create-employee answer has no model: kombo 1.4.0 omits the deprecated
    # POST /v1/hris/employees. Its fixtures carry `sdk_model: null` and are listed as skipped.
}

# Keys Kombo sends (its OpenAPI spec and examples have them) that the SDK's models lack, by the
# SDK model they would belong to. The SDK drops them silently, so they cannot be checked against
# it; they are allowed only where listed, must be present there (we promise every key), and
# renaming them is still caught. Like `remote_data`, the SDK strips `integration_fields`;
# `teams` (employee) and `approver_id` (absence) are deprecated and gone from the SDK.
NOT_IN_SDK = {
    "GetHrisEmployeesPositiveResponseResult": {"integration_fields", "teams"},
    "Employment": {"integration_fields"},  # the employee's nested employments
    "GetHrisEmploymentsPositiveResponseResult": {"integration_fields"},
    "GetHrisAbsencesPositiveResponseResult": {"approver_id"},
}
NOT_IN_SDK_KEYS = set().union(*NOT_IN_SDK.values())

# A deprecated key that must repeat a sibling the SDK does check: `teams` is Kombo's old name
# for `groups`. Comparing the two makes a broken `teams` visible although the SDK ignores it.
DEPRECATED_COPIES = {"teams": "groups"}

# Fields the SDK types as `Any` although Kombo documents a format: absences carry plain dates
# and clock times, not date-times. Checked here, by SDK model, since the SDK would take anything.
FORMATS = {
    "GetHrisAbsencesPositiveResponseResult": {
        "start_date": r"\d{4}-\d{2}-\d{2}",
        "end_date": r"\d{4}-\d{2}-\d{2}",
        "start_time": r"\d{2}:\d{2}:\d{2}",
        "end_time": r"\d{2}:\d{2}:\d{2}",
    },
}

# (fixture, path, replacement, what it breaks). `DELETE` removes the key.
DELETE = object()
TARGETED = [
    ("jobs_full", "data.results.0.name", 123, "a string field given a number"),
    ("jobs_full", "data.results.0.employment_type", "FULLTIME", "a misspelled open-enum value"),
    ("jobs_full", "data.results.0.status", "open", "an enum value in the wrong case"),
    ("jobs_full", "data.results.0.stages.0.status", "ARCHIVED", "a closed-enum value Kombo lacks"),
    ("jobs_full", "data.results.0.screening_questions.0.format.type", "ESSAY", "an unknown question format"),
    ("jobs_full", "data.results.0.changed_at", "yesterday", "a timestamp that is not one"),
    ("jobs_full", "data.results.0.id", DELETE, "a required key left out"),
    ("jobs_nulls", "data.results.0.changed_at", None, "a non-nullable timestamp set to null"),
    ("jobs_nulls", "data.results.0.stages", None, "a list set to null"),
    ("candidates_full", "data.results.0.email_addresses", {"email_address": "a@b.co"}, "an object where a list belongs"),
    ("candidates_full", "data.results.0.applications.0.outcome", "REJECTED", "an outcome Kombo lacks"),
    ("candidates_nulls", "data.results.0.remote_id", None, "a non-nullable remote_id set to null"),
    ("applications_full", "data.results.0.outcome", "hired", "an outcome in the wrong case"),
    ("applications_full", "data.results.0.offers.0.status", "PENDING", "an offer status Kombo lacks"),
    ("applications_full", "data.results.0.screening_question_answers.0.question.type", "ESSAY", "an unknown answer type"),
    ("application_stages_full", "data.results.0.status", "ENABLED", "a stage status Kombo lacks"),
    ("create_application_response_full", "warnings", None, "warnings set to null"),
    ("create_application_response_full", "warnings.0.message", DELETE, "a warning without message"),
    ("create_application_request_full", "candidate.first_name", DELETE, "a required candidate field left out"),
    ("create_application_request_full", "attachments.0.type", "RESUME", "an attachment type Kombo lacks"),
    ("create_candidate_request_full", "application.job_id", DELETE, "a create-candidate without job"),
    ("create_candidate_request_full", "candidate.gender", "male", "a gender in the wrong case"),
    ("integration_full", "data.status", "ENABLED", "an integration status Kombo lacks"),
    ("integration_full", "data.setup_status", "DONE", "a setup status Kombo lacks"),
    ("error_platform_input_invalid", "error.code", "PLATFORM.NOPE", "an error code Kombo lacks"),
    ("error_platform_input_invalid", "status", "failure", "an error status other than `error`"),
    ("general_error_platform_input_invalid", "error.code", "ATS.JOB_CLOSED", "an ATS code on a general endpoint"),
    ("error_platform_input_invalid", "error.code", "HRIS.EMPLOYEE_ALREADY_EXISTS", "an HRIS code on an ATS endpoint"),
    ("hris_error_hris_employee_already_exists", "error.code", "ATS.APPLICATION_ALREADY_EXISTS", "an ATS code on an HRIS endpoint"),
    ("hris_employees_full", "data.results.0.gender", "male", "a gender in the wrong case"),
    ("hris_employees_full", "data.results.0.employment_type", "FULLTIME", "a misspelled open-enum value"),
    ("hris_employees_full", "data.results.0.date_of_birth", "1986-01-01", "a date where Kombo sends a date-time"),
    ("hris_employees_full", "data.results.0.groups.0.type", "SQUAD", "a group type Kombo lacks"),
    ("hris_employees_full", "data.results.0.teams.0.name", "Other team", "teams differing from groups"),
    ("hris_employees_full", "data.results.0.time_off_balances.0.balance_unit", "WEEKS", "a time unit Kombo lacks"),
    ("hris_employees_full", "data.results.0.manager", [], "a list where the manager object belongs"),
    ("hris_employees_full", "data.results.0.bank_accounts.0.domestic_bank_routing.type", "IBAN", "a routing type Kombo lacks"),
    ("hris_employees_nulls", "data.results.0.remote_id", None, "a non-nullable employee remote_id set to null"),
    ("hris_employees_nulls", "data.results.0.employments", None, "a list set to null"),
    ("hris_employments_full", "data.results.0.pay_rate", "85000", "a number given as a string"),
    ("hris_employments_full", "data.results.0.employee_id", DELETE, "a required key left out"),
    ("hris_groups_full", "data.results.0.type", "PROJECT", "a closed group type Kombo lacks (no raw pass-through)"),
    ("hris_groups_nulls", "data.results.0.type", "TEAMS", "a misspelled group type"),
    ("hris_absence_types_full", "data.results.0.unit", "WEEKS", "an absence unit Kombo lacks"),
    ("hris_absences_full", "data.results.0.amount", "1.5", "an absence amount given as a string"),
    ("hris_absences_full", "data.results.0.start_date", "2026-08-04T00:00:00.000Z", "an absence date given as a date-time"),
    ("hris_absences_full", "data.results.0.end_time", "17:00", "a clock time without seconds"),
    ("hris_absences_full", "data.results.0.status", "approved", "an absence status in the wrong case"),
    ("hris_absences_full", "data.results.0.type.unit", "days", "an embedded type's unit in the wrong case"),
    ("hris_time_off_balances_full", "data.results.0.type", None, "the required embedded type set to null"),
    ("hris_time_off_balances_full", "data.results.0.used", "3", "a balance given as a string"),
]


class Failure(Exception):
    pass


def load_model(dotted: str) -> type[pydantic.BaseModel]:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def field_by_key(model: pydantic.BaseModel) -> dict[str, str]:
    return {(f.alias or name): name for name, f in type(model).model_fields.items()}


def walk(raw: Any, obj: Any, path: str, check_missing: bool, problems: list[str]) -> None:
    """Walk our JSON beside the SDK's parsed object; the parse already chose union members."""
    if isinstance(obj, pydantic.BaseModel):
        if not isinstance(raw, dict):
            problems.append(f"{path}: expected an object")
            return
        fields = field_by_key(obj)
        model = type(obj).__name__
        not_in_sdk = NOT_IN_SDK.get(model, set())
        for key, value in raw.items():
            if key == "remote_data":
                continue
            if key in not_in_sdk:
                sibling = DEPRECATED_COPIES.get(key)
                if sibling is not None and value != raw.get(sibling):
                    problems.append(f"{path}.{key}: must repeat {sibling}")
                continue
            if key not in fields:
                problems.append(f"{path}.{key}: the SDK model {type(obj).__name__} has no such field")
                continue
            if key not in FREE_FORM:
                walk(value, getattr(obj, fields[key]), f"{path}.{key}", check_missing, problems)
        for key, pattern in FORMATS.get(model, {}).items():
            value = raw.get(key)
            if value is not None and not (isinstance(value, str) and re.fullmatch(pattern, value)):
                problems.append(f"{path}.{key}: {value!r} does not match Kombo's format {pattern}")
        if check_missing:
            for key in fields:
                if key not in raw:
                    problems.append(f"{path}.{key}: the SDK model {model} has it, we do not emit it")
            for key in not_in_sdk:
                if key not in raw:
                    problems.append(f"{path}.{key}: Kombo sends it (the SDK drops it), we do not emit it")
    elif isinstance(obj, list) and isinstance(raw, list):
        for i, (r, o) in enumerate(zip(raw, obj)):
            walk(r, o, f"{path}.{i}", check_missing, problems)


def check(fixture: dict[str, Any], body: Any) -> None:
    model = load_model(fixture["sdk_model"])
    try:
        parsed = model.model_validate_json(json.dumps(body), strict=fixture["strict"])
    except pydantic.ValidationError as e:
        raise Failure(f"the SDK rejects it: {e}") from None
    problems: list[str] = []
    is_response = not fixture["sdk_model"].endswith("RequestBody")
    walk(body, parsed, "$", is_response, problems)
    if problems:
        raise Failure("; ".join(problems))


def rejected(fixture: dict[str, Any], body: Any) -> bool:
    try:
        check(fixture, body)
    except Failure:
        return True
    return False


def key_paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Paths of every key that belongs to the schema (not inside free-form objects)."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "remote_data":
                continue
            out.append(path + (key,))
            # Inside keys the SDK lacks there is nothing it could notice, except in a
            # deprecated copy, which is compared with the key it copies.
            if key not in FREE_FORM and (key not in NOT_IN_SDK_KEYS or key in DEPRECATED_COPIES):
                out.extend(key_paths(value, path + (key,)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(key_paths(value, path + (i,)))
    return out


def parent(body: Any, path: tuple) -> Any:
    node = body
    for step in path[:-1]:
        node = node[step]
    return node


def renamed(body: Any, path: tuple) -> Any:
    broken = copy.deepcopy(body)
    node = parent(broken, path)
    node[path[-1] + "_x"] = node.pop(path[-1])
    return broken


def replaced(body: Any, dotted: str, value: Any) -> Any:
    broken = copy.deepcopy(body)
    path = tuple(int(p) if p.isdigit() else p for p in dotted.split("."))
    node = parent(broken, path)
    node[path[-1]]  # a KeyError or IndexError here means the table names a path that is gone
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return broken


def main() -> int:
    directory = Path(sys.argv[1])
    fixtures = {p.stem: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}
    failures: list[str] = []
    passed = 0

    # Shapes the SDK has no model for: named, with the reason, rather than silently passed.
    for name in [n for n, f in fixtures.items() if f["sdk_model"] is None]:
        print(f"SKIP {name}: {fixtures.pop(name)['no_sdk_model']}")

    for name, fixture in fixtures.items():
        try:
            check(fixture, fixture["body"])
            passed += 1
        except Failure as e:
            failures.append(f"{name}: {e}")

    missing = EXPECTED_MODELS - {f["sdk_model"] for f in fixtures.values()}
    if missing:
        failures.append(f"no fixture for {sorted(missing)}")

    # The check must be able to fail: every renamed key and every targeted breakage is caught.
    mutations = 0
    for name, fixture in fixtures.items():
        for path in key_paths(fixture["body"]):
            mutations += 1
            if not rejected(fixture, renamed(fixture["body"], path)):
                failures.append(f"{name}: renaming {'.'.join(map(str, path))} went unnoticed")
    for name, dotted, value, what in TARGETED:
        mutations += 1
        if name not in fixtures:
            failures.append(f"targeted mutation names missing fixture {name}")
            continue
        try:
            broken = replaced(fixtures[name]["body"], dotted, value)
        except (Failure, KeyError, IndexError) as e:
            failures.append(f"{name}: {e}")
            continue
        if not rejected(fixtures[name], broken):
            failures.append(f"{name}: {what} ({dotted}) went unnoticed")

    for f in failures:
        print("FAIL", f)
    print(f"compat: {passed} fixtures accepted by the Kombo SDK, {mutations} broken copies checked")
    print(f"{passed + mutations - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
