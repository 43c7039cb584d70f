#!/usr/bin/env python3
"""Compares our OpenAPI document with the official Kombo Python SDK's pydantic models for
every Kombo endpoint we serve: the same fields, the same kinds (string, number, boolean,
array, object), the same nullability and the same enum values, recursively.

Differences we make on purpose are listed in DELIBERATE with the reason; anything else fails.

Usage: openapi_sdk.py DEMO_JSON   (reads the document from the running demo)
"""
from __future__ import annotations

import datetime
import enum
import json
import sys
import types
import typing
import urllib.request
import warnings

import pydantic
from kombo import models as km
from kombo.types import UnrecognizedStr

warnings.simplefilter("ignore", DeprecationWarning)

# (operation id, "response" | "request", SDK model): every Kombo endpoint we serve with a
# body worth comparing. The endpoints we answer only with an error have none.
PAIRS = [
    ("ats_get_jobs", "response", km.GetAtsJobsPositiveResponse),
    ("ats_get_candidates", "response", km.GetAtsCandidatesPositiveResponse),
    ("ats_get_applications", "response", km.GetAtsApplicationsPositiveResponse),
    ("ats_get_application_stages", "response", km.GetAtsApplicationStagesPositiveResponse),
    ("ats_create_application", "response", km.PostAtsJobsJobIDApplicationsPositiveResponse),
    ("ats_create_application", "request", km.PostAtsJobsJobIDApplicationsRequestBody),
    ("ats_create_candidate", "response", km.PostAtsCandidatesPositiveResponse),
    ("ats_create_candidate", "request", km.PostAtsCandidatesRequestBody),
    ("hris_get_employees", "response", km.GetHrisEmployeesPositiveResponse),
    ("hris_get_employments", "response", km.GetHrisEmploymentsPositiveResponse),
    ("hris_get_groups", "response", km.GetHrisGroupsPositiveResponse),
    ("hris_get_absence_types", "response", km.GetHrisAbsenceTypesPositiveResponse),
    ("hris_get_absences", "response", km.GetHrisAbsencesPositiveResponse),
    ("hris_get_time_off_balances", "response", km.GetHrisTimeOffBalancesPositiveResponse),
    ("check_api_key", "response", km.GetCheckAPIKeyPositiveResponse),
    ("get_integration", "response", km.GetIntegrationsIntegrationIDPositiveResponse),
    ("delete_integration", "response", km.DeleteIntegrationsIntegrationIDPositiveResponse),
    ("set_integration_enabled", "response", km.PutIntegrationsIntegrationIDEnabledPositiveResponse),
    ("set_integration_enabled", "request", km.PutIntegrationsIntegrationIDEnabledRequestBody),
    ("force_sync", "response", km.PostForceSyncPositiveResponse),
    ("force_sync", "request", km.PostForceSyncRequestBody),
    ("passthrough", "response", km.PostPassthroughToolAPIPositiveResponse),
    ("passthrough", "request", km.PostPassthroughToolAPIRequestBody),
    ("create_connection_link", "response", km.PostConnectCreateLinkPositiveResponse),
    ("create_connection_link", "request", km.PostConnectCreateLinkRequestBody),
    ("get_integration_by_token", "response", km.GetConnectIntegrationByTokenTokenPositiveResponse),
    ("relink_integration", "response", km.PostIntegrationsIntegrationIDRelinkPositiveResponse),
    ("relink_integration", "request", km.PostIntegrationsIntegrationIDRelinkRequestBody),
]

# Paths (operation id, where, field path) whose difference is deliberate, with the reason.
# A path ending in `*` covers everything below it.
REMOTE_DATA = "the raw answer of the tool, kept as Kombo's API serves it; the SDK leaves it out (pydantic drops unknown keys)"
INTEGRATION_FIELDS = "Kombo's integration fields of HRIS records; the SDK 1.4.0 models leave them out (unknown keys are dropped)"
DELIBERATE: dict[str, str] = {
    **{f"{op}.response.data.results[].remote_data": REMOTE_DATA for op in (
        "ats_get_jobs", "ats_get_candidates", "ats_get_applications", "ats_get_application_stages",
        "hris_get_employees", "hris_get_employments", "hris_get_groups", "hris_get_absence_types",
        "hris_get_absences", "hris_get_time_off_balances")},
    "ats_create_application.response.data.remote_data": REMOTE_DATA,
    "ats_create_candidate.response.data.remote_data": REMOTE_DATA,
    "hris_get_employees.response.data.results[].employments[].remote_data": REMOTE_DATA,
    "hris_get_employees.response.data.results[].time_off_balances[].remote_data": REMOTE_DATA,
    "hris_get_time_off_balances.response.data.results[].type.remote_data": REMOTE_DATA,
    "hris_get_employees.response.data.results[].integration_fields": INTEGRATION_FIELDS,
    "hris_get_employees.response.data.results[].employments[].integration_fields": INTEGRATION_FIELDS,
    "hris_get_employments.response.data.results[].integration_fields": INTEGRATION_FIELDS,
    "hris_get_employees.response.data.results[].teams":
        "Kombo's deprecated name of `groups`, still served to older clients; the SDK dropped it",
    "hris_get_absences.response.data.results[].approver_id":
        "served as Kombo's API does (null when the tool has no approver); the SDK 1.4.0 model lacks it",
    "create_connection_link.response.data.static_ips":
        "atsbridge has no fixed egress addresses to announce (enable_static_ips is accepted and ignored)",
    "create_connection_link.request.redirect_url":
        "atsbridge addition: where the browser goes after a successful connection",
    "relink_integration.request.redirect_url":
        "atsbridge addition: where the browser goes after a successful connection",
}

# ---------------------------------------------------------------------------------------
# The document's side: a schema reduced to {kind, nullable, enum, open, props, items}.


class Doc:
    def __init__(self, doc: dict):
        self.doc = doc

    def resolve(self, s: dict) -> dict:
        while "$ref" in s:
            s = self.doc["components"]["schemas"][s["$ref"].rsplit("/", 1)[1]]
        return s

    def shape(self, s: dict) -> dict:
        s = self.resolve(s)
        nullable = False
        for key in ("oneOf", "anyOf"):
            if key in s:
                parts = [self.resolve(p) for p in s[key]]
                rest = [p for p in parts if p.get("type") != "null"]
                nullable = len(rest) < len(parts)
                if len(rest) == 1:
                    inner = self.shape(rest[0])
                    inner["nullable"] = inner["nullable"] or nullable
                    return inner
                return {"kind": "any", "nullable": nullable}
        if "allOf" in s:
            props: dict = {}
            for p in s["allOf"]:
                props.update(self.shape(p).get("props", {}))
            return {"kind": "object", "nullable": False, "props": props}
        t = s.get("type")
        if isinstance(t, list):
            nullable = "null" in t
            t = [x for x in t if x != "null"]
            t = t[0] if len(t) == 1 else None
        out: dict = {"nullable": nullable}
        if t == "object" or "properties" in s:
            out["kind"] = "object"
            out["props"] = {k: v for k, v in s.get("properties", {}).items()}
            if not s.get("properties"):
                out["free"] = True
        elif t == "array":
            out["kind"] = "array"
            out["items"] = s.get("items", {})
        elif t in ("integer", "number"):
            out["kind"] = "number"
        elif t == "boolean":
            out["kind"] = "boolean"
        elif t == "string":
            out["kind"] = "string"
            if "enum" in s:
                out["enum"] = {v for v in s["enum"] if v is not None}
            elif "examples" in s:
                out["enum"] = set(s["examples"])
                out["open"] = True
        else:
            out["kind"] = "any"
        return out


# ---------------------------------------------------------------------------------------
# The SDK's side: an annotation reduced the same way.


def sdk_shape(ann) -> dict:
    nullable = False
    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return sdk_shape(typing.get_args(ann)[0])
    if getattr(ann, "__value__", None) is not None:  # TypeAliasType
        return sdk_shape(ann.__value__)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(ann))
        names = [getattr(a, "__name__", str(a)) for a in args]
        args = [a for a, n in zip(args, names) if n not in ("Unset",)]
        if any(a is UnrecognizedStr for a in args):
            values = set()
            for a in args:
                if typing.get_origin(a) is typing.Literal:
                    values |= set(typing.get_args(a))
            return {"kind": "string", "nullable": nullable, "enum": values, "open": True}
        if len(args) == 1:
            inner = sdk_shape(args[0])
            inner["nullable"] = inner["nullable"] or nullable
            return inner
        if all(typing.get_origin(a) is typing.Literal for a in args):
            values = set()
            for a in args:
                values |= set(typing.get_args(a))
            return {"kind": "string", "nullable": nullable, "enum": values}
        return {"kind": "any", "nullable": nullable}
    if origin is typing.Literal:
        values = set(typing.get_args(ann))
        if all(isinstance(v, str) for v in values):
            return {"kind": "string", "nullable": False, "enum": values}
        return {"kind": "any", "nullable": False}
    if origin in (list, typing.List):
        return {"kind": "array", "nullable": False, "items": typing.get_args(ann)[0]}
    if origin in (dict, typing.Dict):
        return {"kind": "object", "nullable": False, "free": True, "props": {}}
    if isinstance(ann, type) and issubclass(ann, pydantic.BaseModel):
        props = {}
        for name, f in ann.model_fields.items():
            props[f.alias or name] = f.annotation
        return {"kind": "object", "nullable": False, "props": props}
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return {"kind": "string", "nullable": False, "enum": {m.value for m in ann}}
    if ann in (str,) or ann in (datetime.datetime, datetime.date):
        return {"kind": "string", "nullable": False}
    if ann in (int, float):
        return {"kind": "number", "nullable": False}
    if ann is bool:
        return {"kind": "boolean", "nullable": False}
    return {"kind": "any", "nullable": False}


# ---------------------------------------------------------------------------------------

DIFFS: list[str] = []
USED: set[str] = set()


def differ(where: str, text: str) -> None:
    for key in DELIBERATE:
        if where == key or (key.endswith("*") and where.startswith(key[:-1])):
            USED.add(key)
            return
    DIFFS.append(f"{where}: {text}")


def compare(doc: Doc, ours: dict, sdk_ann, where: str, depth: int = 0) -> None:
    if depth > 12:
        return
    a = doc.shape(ours)
    b = sdk_shape(sdk_ann)
    if "any" in (a["kind"], b["kind"]) or a.get("free") or b.get("free"):
        return
    if a["kind"] != b["kind"]:
        differ(where, f"kind {a['kind']} here, {b['kind']} in the SDK")
        return
    if a["nullable"] != b["nullable"]:
        differ(where, f"nullable {a['nullable']} here, {b['nullable']} in the SDK")
    if "enum" in b and not b.get("open") and a.get("enum") != b["enum"]:
        differ(where, f"enum {sorted(a.get('enum') or [])} here, {sorted(b['enum'])} in the SDK")
    if "enum" in b and b.get("open") and a.get("enum") and not a["enum"] <= b["enum"] | {""}:
        differ(where, f"values {sorted(a['enum'] - b['enum'])} not in the SDK's {sorted(b['enum'])}")
    if a["kind"] == "array":
        compare(doc, a["items"], b["items"], where + "[]", depth + 1)
    if a["kind"] == "object":
        for name in sorted(set(a["props"]) | set(b["props"])):
            if name not in b["props"]:
                differ(f"{where}.{name}", "not in the SDK")
            elif name not in a["props"]:
                differ(f"{where}.{name}", "missing here")
            else:
                compare(doc, a["props"][name], b["props"][name], f"{where}.{name}", depth + 1)


def main() -> int:
    info = json.load(open(sys.argv[1]))
    with urllib.request.urlopen(info["base_url"] + "/openapi.json") as r:
        doc = Doc(json.load(r))
    ops = {}
    for item in doc.doc["paths"].values():
        for op in item.values():
            ops[op["operationId"]] = op
    for op_id, side, model in PAIRS:
        op = ops[op_id]
        if side == "response":
            schema = op["responses"]["200"]["content"]["application/json"]["schema"]
        else:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
        compare(doc, schema, model, f"{op_id}.{side}")
    for d in DIFFS:
        print("DIFF", d)
    stale = sorted(set(DELIBERATE) - USED)
    for s in stale:
        print("STALE deliberate difference (no longer differs):", s)
    ok = not DIFFS and not stale
    print(f"openapi vs SDK: {len(PAIRS)} models compared, {len(DIFFS)} differences")
    print(f"{1 if ok else 0} passed, {0 if ok else 1} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
