#!/usr/bin/env node
// End-to-end check with Kombo's official TypeScript SDK (@kombo-api/sdk, pinned in
// package.json / package-lock.json) against a running `atsbridge demo`.
//
// - Pages through all four ATS models (page_size 7) and compares them with the simulated
//   Sage HR account read directly; then every HRIS model of the HRIS integration.
// - Creates an application with a base64 CV on an open job and finds the applicant and the
//   file's bytes in the simulator.
// - Drives general and ATS endpoints into error paths; each must throw the SDK's typed error
//   (KomboGeneralError / KomboAtsError) with the expected code, never ResponseValidationError.
//
// The SDK validates every response with zod (Speakeasy's default; there is no switch to turn
// it off and nothing here tries). A self-check against a tiny local server first proves that
// validation is live: a malformed success and an out-of-model error code must both throw
// ResponseValidationError.
//
// The demo is shared with the other e2e scripts: the integration is disabled for a moment
// and always enabled again.
//
// Usage: node e2e.mjs DEMO_JSON   (the demo.json the demo writes)

import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { isDeepStrictEqual } from "node:util";

import { Kombo } from "@kombo-api/sdk";
import * as errors from "@kombo-api/sdk/models/errors";

const failures = [];
let checks = 0;

function check(condition, what) {
  checks += 1;
  if (!condition) {
    failures.push(what);
    console.log("FAIL", what);
  }
}

const same = (a, b) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

// ---- the simulator, read directly

async function simGet(info, path) {
  const r = await fetch(info.sim_url + path, { headers: { "X-Auth-Token": info.sim_api_key } });
  if (!r.ok) throw new Error(`simulator ${path}: ${r.status}`);
  return r.json();
}

async function simAll(info, path) {
  const out = [];
  let page = 1;
  for (;;) {
    const body = await simGet(info, `${path}${path.includes("?") ? "&" : "?"}per_page=100&page=${page}`);
    out.push(...body.data);
    if (!body.meta.next_page) return out;
    page = body.meta.next_page;
  }
}

// ---- the SDK

/** Every record of a paginated list, following the SDK's own page iterator. */
async function sdkAll(call, request = {}) {
  const out = [];
  let pages = 0;
  for await (const page of await call({ page_size: 7, ...request })) {
    out.push(...page.result.data.results);
    pages += 1;
  }
  return { records: out, pages };
}

/** `call()` must throw `cls` with `code`, `status` and a message mentioning each of `mentions`. */
async function expectError(what, cls, call, code, status, mentions = []) {
  try {
    await call();
  } catch (e) {
    // ResponseValidationError is a KomboError too: test for it first.
    if (e instanceof errors.ResponseValidationError) {
      check(false, `${what}: the SDK could not parse the error answer (${e.statusCode} ${e.body.slice(0, 300)})`);
      return;
    }
    if (!(e instanceof cls)) {
      check(false, `${what}: threw ${e?.name ?? typeof e} instead of ${cls.name}: ${e?.message ?? e}`);
      return;
    }
    const error = e.data$.error;
    check(error.code === code, `${what}: code ${error.code}, wanted ${code} (${error.message})`);
    if (status !== undefined) check(e.statusCode === status, `${what}: status ${e.statusCode}, wanted ${status}`);
    for (const m of mentions) check(error.message.includes(m), `${what}: the message mentions ${m} (${error.message})`);
    check(Boolean(error.title), `${what}: a title`);
    return;
  }
  check(false, `${what}: nothing was thrown`);
}

/** The SDK's response validation is live: a local server answering outside the models. */
async function validationIsOn() {
  const server = createServer((req, res) => {
    res.setHeader("Content-Type", "application/json");
    if (req.url.endsWith("/check-api-key")) {
      res.end(JSON.stringify({ status: "success", data: { environment_id: 42 } }));
    } else {
      res.statusCode = 403;
      res.end(JSON.stringify({
        status: "error",
        error: { code: "INTEGRATION.INACTIVE", title: "Integration inactive", message: "disabled", log_url: null },
      }));
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}/v1`;
  const kombo = new Kombo({ api_key: "k", integration_id: "i", server_url: url });
  const throwsValidation = async (call) => {
    try {
      await call();
      return false;
    } catch (e) {
      return e instanceof errors.ResponseValidationError;
    }
  };
  check(await throwsValidation(() => kombo.general.checkApiKey()),
    "self-check: a malformed success throws ResponseValidationError (response validation is on)");
  check(await throwsValidation(() => kombo.general.triggerSync({})),
    "self-check: a general endpoint answering INTEGRATION.INACTIVE throws ResponseValidationError");
  await new Promise((resolve) => server.close(resolve));
}

async function main() {
  const info = JSON.parse(readFileSync(process.argv[2], "utf8"));
  const kombo = new Kombo({ api_key: info.api_key, integration_id: info.integration_id, server_url: info.base_url });

  await validationIsOn();

  // ---- reads: all four models, page by page, against the simulator
  const positions = await simAll(info, "/recruitment/positions");
  const applicants = [];
  for (const p of positions) {
    for (const a of await simAll(info, `/recruitment/positions/${p.id}/applicants`)) applicants.push({ ...a, position_id: p.id });
  }
  const byRemote = new Map(applicants.map((a) => [String(a.id), a]));

  const jobs = await sdkAll((r) => kombo.ats.getJobs(r));
  const candidates = await sdkAll((r) => kombo.ats.getCandidates(r));
  const applications = await sdkAll((r) => kombo.ats.getApplications(r));
  const stages = await sdkAll((r) => kombo.ats.getApplicationStages(r));
  check(jobs.pages > 1 && applications.pages > 1, `several pages were read (${jobs.pages} of jobs, ${applications.pages} of applications)`);

  check(same(jobs.records.map((j) => j.remote_id), positions.map((p) => String(p.id))), "jobs are exactly the positions");
  check(new Set(jobs.records.map((j) => j.id)).size === jobs.records.length, "no job repeated across pages");
  check(same(candidates.records.map((c) => c.remote_id), [...byRemote.keys()]), "candidates are exactly the applicants");
  check(same(applications.records.map((a) => a.remote_id), [...byRemote.keys()]), "applications are exactly the applicants");
  check(same(stages.records.map((s) => s.remote_id), [...new Set(applicants.map((a) => String(a.stage.id)))]), "stages are exactly the stages in use");

  const status = { draft: "DRAFT", published: "OPEN", internal: "OPEN", completed: "CLOSED", cancelled: "CLOSED" };
  const posById = new Map(positions.map((p) => [String(p.id), p]));
  for (const j of jobs.records) {
    const p = posById.get(j.remote_id);
    check(j.name === p.title && j.status === status[p.status], `job ${j.remote_id} name/status`);
    check(j.hiring_team.length > 0 && j.hiring_team.every((m) => m.id && m.remote_id && m.job_roles.length > 0), `job ${j.remote_id} hiring team`);
  }
  for (const a of applications.records) {
    const raw = byRemote.get(a.remote_id);
    const outcome = raw.hired_date ? "HIRED" : raw.disqualified_date ? "DECLINED" : "PENDING";
    check(a.outcome === outcome, `application ${a.remote_id} outcome`);
    check(a.job?.remote_id === String(raw.position_id), `application ${a.remote_id} job`);
    check(a.current_stage?.remote_id === String(raw.stage.id), `application ${a.remote_id} stage`);
    check(a.candidate?.first_name === raw.first_name, `application ${a.remote_id} candidate`);
  }
  for (const c of candidates.records) {
    const raw = byRemote.get(c.remote_id);
    const emails = (c.email_addresses ?? []).map((e) => e.email_address);
    check(JSON.stringify(emails) === JSON.stringify(raw.email ? [raw.email] : []), `candidate ${c.remote_id} email`);
  }

  // ---- write: an application with a base64 CV on an open job
  const open = (await kombo.ats.getJobs({ page_size: 250, statuses: ["OPEN"] })).result.data.results;
  check(open.length > 0, "the demo has an open job");
  const run = randomUUID().slice(0, 8);
  const cv = Buffer.concat([Buffer.from(`%PDF-1.4 ts e2e CV ${run} `), Buffer.from([...Array(256).keys()])]);
  const email = `ts-sdk-${run}@example.com`;
  const created = await kombo.ats.createApplication({
    job_id: open[0].id,
    body: {
      candidate: { first_name: "Ts", last_name: "Sdk", email_address: email },
      attachments: [{ name: "cv.pdf", type: "CV", content_type: "application/pdf", data: cv.toString("base64") }],
    },
  });
  const app = created.data;
  check(app.job_id === open[0].id, "the application is on the job");
  check(app.outcome === "PENDING" && app.candidate?.first_name === "Ts", "the answer has the new application and its candidate");
  const detail = (await simGet(info, `/recruitment/applicants/${app.remote_id}`)).data;
  check(detail.email === email && String(detail.position_id) === open[0].remote_id, "the applicant exists in Sage HR on the job's position");
  const files = (await (await fetch(`${info.sim_control_url}/applicants/${app.remote_id}/files`)).json()).data;
  check(files.length === 1 && files[0].sha256 === createHash("sha256").update(cv).digest("hex"), "the CV's bytes reached Sage HR");
  const listed = (await kombo.ats.getApplications({ ids: [app.id] })).result.data.results;
  check(listed.length === 1 && listed[0].remote_id === app.remote_id, "the new application is readable at once");

  // ---- errors: the SDK's typed classes, never a validation error
  const integration = info.integration_id;
  const before = (await kombo.general.getIntegrationDetails({ integration_id: integration })).data.status;
  check(before === "ACTIVE", `the integration is ACTIVE to begin with (${before})`);
  await kombo.general.setIntegrationEnabled({ integration_id: integration, body: { value: false } });
  try {
    await expectError("force-sync on a disabled integration", errors.KomboGeneralError,
      () => kombo.general.triggerSync({ type: "FULL" }), "PLATFORM.INPUT_INVALID", 403, ["INTEGRATION.INACTIVE"]);
    await expectError("passthrough on a disabled integration", errors.KomboGeneralError,
      () => kombo.general.sendPassthroughRequest({ tool: "sagehr", api: "api", body: { method: "GET", path: "/recruitment/positions" } }),
      "PLATFORM.INPUT_INVALID", 403, ["INTEGRATION.INACTIVE"]);
    await expectError("getJobs on a disabled integration", errors.KomboAtsError,
      () => kombo.ats.getJobs({ page_size: 1 }), "INTEGRATION.INACTIVE", 403);
  } finally {
    await kombo.general.setIntegrationEnabled({ integration_id: integration, body: { value: true } });
  }
  const after = (await kombo.general.getIntegrationDetails({ integration_id: integration })).data.status;
  check(after === "ACTIVE", `enabled again, the integration is ACTIVE (${after})`);

  await expectError("passthrough with a path leaving the API", errors.KomboGeneralError,
    () => kombo.general.sendPassthroughRequest({ tool: "sagehr", api: "api", body: { method: "GET", path: "/../admin" } }),
    "PLATFORM.INPUT_INVALID", 400, ["path"]);
  const unknown = "sagehr:UnknownUnknownUnknownabc";
  await expectError("getIntegrationDetails of an unknown id", errors.KomboGeneralError,
    () => kombo.general.getIntegrationDetails({ integration_id: unknown }), "PLATFORM.INTEGRATION_NOT_FOUND", 404);
  await expectError("force-sync of an unknown integration", errors.KomboGeneralError,
    () => new Kombo({ api_key: info.api_key, integration_id: unknown, server_url: info.base_url }).general.triggerSync({}),
    "PLATFORM.INTEGRATION_NOT_FOUND", 404);
  await expectError("getIntegrationByToken with an unknown token", errors.KomboGeneralError,
    () => kombo.connect.getIntegrationByToken({ token: "no-such-token" }), "PLATFORM.INTEGRATION_NOT_FOUND", 404);
  const wrong = new Kombo({ api_key: "not-an-atsbridge-key", integration_id: integration, server_url: info.base_url });
  await expectError("checkApiKey with a wrong key", errors.KomboGeneralError,
    () => wrong.general.checkApiKey(), "PLATFORM.AUTHENTICATION_INVALID", 401);
  await expectError("getJobs with a wrong key", errors.KomboAtsError,
    () => wrong.ats.getJobs({ page_size: 1 }), "PLATFORM.AUTHENTICATION_INVALID", 401);
  await expectError("createApplication on an unknown job", errors.KomboAtsError,
    () => kombo.ats.createApplication({
      job_id: "NoSuchJobNoSuchJobNoSuch",
      body: { candidate: { first_name: "No", last_name: "Job", email_address: "no-job@example.com" } },
    }), "PLATFORM.INPUT_INVALID", 400, ["job_id"]);

  // ---- HRIS: every model of the demo's HRIS integration, page by page (zod validates each
  // page), against the simulator's own data.
  const hris = new Kombo({ api_key: info.api_key, integration_id: info.hris_integration_id, server_url: info.base_url });
  const raw = (await (await fetch(info.sim_control_url + "/hris")).json()).data;
  const employees = (await sdkAll((r) => hris.hris.getEmployees(r))).records;
  check(same(employees.map((e) => e.remote_id), raw.employees.map((e) => String(e.id))),
    "HRIS employees are exactly Sage HR's, active and terminated");
  const simById = new Map(raw.employees.map((e) => [String(e.id), e]));
  for (const e of employees) {
    const s = simById.get(e.remote_id);
    check((e.employment_status === "INACTIVE") === s.terminated, `HRIS employee ${e.remote_id} status`);
    check(e.employments.length === s.compensations.length, `HRIS employee ${e.remote_id} employments`);
    const want = Object.fromEntries(s.custom_fields.map((f) => [f.label, f.value]));
    check(isDeepStrictEqual(e.custom_fields, want), `HRIS employee ${e.remote_id} custom fields`);
  }
  const sized = raw.employees
    .filter((s) => s.custom_fields.some((f) => f.label === "T-shirt size" && f.value === "M"))
    .map((s) => String(s.id));
  const got = (await sdkAll((r) => hris.hris.getEmployees(r), { custom_fields: JSON.stringify({ "T-shirt size": "M" }) })).records;
  check(sized.length > 0 && same(got.map((e) => e.remote_id), sized), "HRIS custom_fields filter");
  const groups = (await sdkAll((r) => hris.hris.getGroups(r))).records;
  check(same(groups.map((g) => g.remote_id), raw.teams.map((t) => String(t.id))), "HRIS groups are the teams");
  const types = (await sdkAll((r) => hris.hris.getAbsenceTypes(r))).records;
  check(same(types.map((t) => t.remote_id), raw.policies.map((p) => String(p.id))), "HRIS absence types are the policies");
  const employments = (await sdkAll((r) => hris.hris.getEmployments(r))).records;
  check(employments.length === raw.employees.reduce((n, e) => n + e.compensations.length, 0), "HRIS employments: one per compensation row");
  const today = new Date(raw.today + "T00:00:00Z");
  const day = (d, n) => new Date(d.getTime() + n * 86400000).toISOString().slice(0, 10);
  const [low, high] = [day(today, -365), day(today, 365)];
  const inWindow = raw.leave_requests.filter((r) => r.start_date <= high && r.end_date >= low).map((r) => String(r.id));
  const absences = (await sdkAll((r) => hris.hris.getAbsences(r))).records;
  check(same(absences.map((a) => a.remote_id), inWindow), `HRIS absences are the leave requests of the window (${absences.length} vs ${inWindow.length})`);
  check(absences.every((a) => a.type && a.type.id === a.type_id), "HRIS absences embed their type");
  const balances = (await sdkAll((r) => hris.hris.getTimeOffBalances(r))).records;
  check(balances.length > 0 && balances.every((b) => b.type.id === b.type_id), "HRIS balances embed their type");
  const active = (await sdkAll((r) => hris.hris.getEmployees(r), { employment_statuses: ["ACTIVE"] })).records;
  check(same(active.map((e) => e.remote_id), employees.filter((e) => e.employment_status === "ACTIVE").map((e) => e.remote_id)),
    "HRIS employment_statuses=ACTIVE");
  await expectError("getEmployees on the ATS integration", errors.KomboHrisError,
    () => kombo.hris.getEmployees({ page_size: 1 }), "PLATFORM.INPUT_INVALID", 400, ["X-Integration-Id"]);

  console.log(`e2e (TypeScript SDK): ${checks} checks against the demo`);
  console.log(`${checks - failures.length} passed, ${failures.length} failed`);
  return failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error("e2e (TypeScript SDK) crashed:", e);
    process.exit(1);
  },
);
