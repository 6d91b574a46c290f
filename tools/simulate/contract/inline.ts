/**
 * Okta's contract for inline hook answers (https://developer.okta.com/docs/concepts/inline-hooks/ and each type's
 * guide): 200 with `{commands, error, debugContext}` or 204 where the type has an empty answer, under 256 KB,
 * within 3 s, each command one the type allows and valid for what was asked (a patch only of a token that was
 * requested, a profile update only for the registration kind it belongs to, LINK_USER with the user to link…).
 * Okta's published JSON schemas are checked first (./published-schemas.ts); the rules of Okta's prose are shared
 * with the gateway's builders where they are pure (src/okta/inline/).
 */
import { MAX_RESPONSE_BYTES, parsePointer, type InlineHookType } from "../../../src/okta/inline/common.ts";
import { samlOpProblem } from "../../../src/okta/inline/saml.ts";
import { TELEPHONY_STATUSES } from "../../../src/okta/inline/telephony.ts";
import { LIFETIME_PATH, tokenOpProblem, type TokenKind, type TokenPatchOp } from "../../../src/okta/inline/token.ts";
import type { SimulatedInlineRequest } from "../inline-requests.ts";
import { checkTransport, error, isJsonContentType, warning, type Answer, type Finding } from "./findings.ts";
import { publishedSchemaProblems } from "./published-schemas.ts";

/** What Okta does when a call of this type fails, times out or is answered with something it cannot use. */
export const FAILURE_CONSEQUENCE: Record<InlineHookType, string> = {
  token: "the token is issued unchanged",
  registration: "the registration is denied",
  "password-import": "the user cannot sign in",
  saml: "the assertion is sent unchanged",
  "user-import": "the import goes on and the user is created",
  telephony: "Okta sends the OTP through its own providers",
};

/** The commands each type accepts. */
export const ALLOWED_COMMANDS: Record<InlineHookType, readonly string[]> = {
  token: ["com.okta.identity.patch", "com.okta.access.patch"],
  registration: ["com.okta.user.profile.update", "com.okta.user.progressive.profile.update", "com.okta.action.update"],
  "password-import": ["com.okta.action.update"],
  saml: ["com.okta.assertion.patch"],
  "user-import": ["com.okta.appUser.profile.update", "com.okta.user.profile.update", "com.okta.action.update", "com.okta.user.update"],
  telephony: ["com.okta.telephony.action"],
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function tokenCommandProblems(command: Json, at: string, request: SimulatedInlineRequest): string[] {
  const kind: TokenKind = command.type === "com.okta.identity.patch" ? "identity" : "access";
  const token = request.request.data?.[kind] as { claims?: Json } | undefined;
  if (!token) {
    return [`${at}: ${command.type} patches the ${kind === "identity" ? "ID" : "access"} token, which was not requested; Okta rejects the patch`];
  }
  if (!Array.isArray(command.value) || command.value.length === 0) return [`${at}.value: must be a non-empty list of operations`];
  const problems: string[] = [];
  command.value.forEach((op: unknown, j) => {
    const where = `${at}.value[${j}]`;
    if (!isObject(op) || typeof op.op !== "string" || typeof op.path !== "string") {
      problems.push(`${where}: needs "op" and "path"`);
      return;
    }
    if (!["add", "replace", "remove"].includes(op.op)) {
      problems.push(`${where}.op: "${op.op}" is not add, replace or remove`);
      return;
    }
    const problem = tokenOpProblem(kind, op as unknown as TokenPatchOp);
    if (problem) {
      problems.push(`${where}: ${problem}`);
      return;
    }
    if (op.op !== "add" && op.path !== LIFETIME_PATH) {
      const claim = parsePointer(op.path)?.[1];
      if (claim !== undefined && !(token.claims && claim in token.claims)) {
        problems.push(`${where}: "${op.op}" of claim "${claim}", which the token does not have (Okta rejects the patch)`);
      }
    }
  });
  return problems;
}

function registrationCommandProblems(command: Json, at: string, request: SimulatedInlineRequest): string[] {
  const progressive = request.request.requestType === "progressive.profile";
  if (command.type === "com.okta.action.update") {
    const registration = isObject(command.value) ? command.value.registration : undefined;
    return registration === "ALLOW" || registration === "DENY" ? [] : [`${at}.value.registration: must be "ALLOW" or "DENY"`];
  }
  if (!isObject(command.value) || Object.keys(command.value).length === 0) return [`${at}.value: must set at least one attribute`];
  if ("password" in command.value) return [`${at}.value: a registration hook cannot set the password`];
  if (command.type === "com.okta.user.profile.update" && progressive) {
    return [`${at}: com.okta.user.profile.update is for self-service registration; progressive profiling takes com.okta.user.progressive.profile.update`];
  }
  if (command.type === "com.okta.user.progressive.profile.update" && !progressive) {
    return [`${at}: com.okta.user.progressive.profile.update is for progressive profiling, not self-service registration`];
  }
  return [];
}

function commandProblems(type: InlineHookType, command: Json, at: string, request: SimulatedInlineRequest): string[] {
  switch (type) {
    case "token":
      return tokenCommandProblems(command, at, request);
    case "registration":
      return registrationCommandProblems(command, at, request);
    case "password-import": {
      const credential = isObject(command.value) ? command.value.credential : undefined;
      return credential === "VERIFIED" || credential === "UNVERIFIED" ? [] : [`${at}.value.credential: must be "VERIFIED" or "UNVERIFIED"`];
    }
    case "saml": {
      if (!Array.isArray(command.value) || command.value.length === 0) return [`${at}.value: must be a non-empty list of operations`];
      return command.value.flatMap((op: unknown, j) => {
        if (!isObject(op) || typeof op.op !== "string" || typeof op.path !== "string") return [`${at}.value[${j}]: needs "op" and "path"`];
        const problem = samlOpProblem(op as { op: string; path: string; value?: unknown });
        return problem ? [`${at}.value[${j}]: ${problem}`] : [];
      });
    }
    case "user-import": {
      if (!isObject(command.value)) return [`${at}.value: must be an object`];
      if (command.type === "com.okta.action.update") {
        const result = command.value.result;
        return result === "CREATE_USER" || result === "LINK_USER" ? [] : [`${at}.value.result: must be "CREATE_USER" or "LINK_USER"`];
      }
      if (command.type === "com.okta.user.update") {
        return typeof command.value.id === "string" && command.value.id !== "" ? [] : [`${at}.value.id: the Okta user id to link is missing`];
      }
      return Object.keys(command.value).length === 0 ? [`${at}.value: must set at least one attribute`] : [];
    }
    case "telephony": {
      const value = command.value;
      if (!Array.isArray(value) || value.length === 0) return [`${at}.value: must be a list with the delivery's status`];
      return value.flatMap((v: unknown, j) =>
        isObject(v) && TELEPHONY_STATUSES.includes(v.status as (typeof TELEPHONY_STATUSES)[number])
          ? []
          : [`${at}.value[${j}].status: must be one of ${TELEPHONY_STATUSES.join(", ")}`],
      );
    }
  }
}

/** Rules across commands: LINK_USER and com.okta.user.update go together; telephony needs its one action. */
function combinationProblems(type: InlineHookType, commands: Json[]): string[] {
  if (type === "user-import") {
    const links = commands.some((c) => c.type === "com.okta.action.update" && isObject(c.value) && c.value.result === "LINK_USER");
    const userUpdate = commands.some((c) => c.type === "com.okta.user.update");
    if (links && !userUpdate) return ["commands: LINK_USER needs a com.okta.user.update {id} command naming the user"];
    if (userUpdate && !links) return ["commands: com.okta.user.update {id} only means something with LINK_USER"];
  }
  if (type === "telephony" && !commands.some((c) => c.type === "com.okta.telephony.action")) {
    return ["commands: no com.okta.telephony.action, so Okta does not know whether the OTP was sent"];
  }
  return [];
}

/**
 * Okta's prose documents `"value": null` on a `remove` op as the same as no value (its own examples send it); the
 * published schema's `oneOf` has no null. Checked as the prose has it.
 */
function withoutNullRemoveValues(body: Json): Json {
  if (!Array.isArray(body.commands)) return body;
  const commands = body.commands.map((command: unknown) => {
    if (!isObject(command) || !Array.isArray(command.value)) return command;
    const value = command.value.map((op: unknown) => {
      if (!isObject(op) || op.op !== "remove" || op.value !== null) return op;
      const { value: _null, ...rest } = op;
      return rest;
    });
    return { ...command, value };
  });
  return { ...body, commands };
}

/** Everything Okta would object to in `answer` to `request`. */
export function checkInlineAnswer(request: SimulatedInlineRequest, answer: Answer): Finding[] {
  const { type } = request;
  const consequence = FAILURE_CONSEQUENCE[type];
  const transport = checkTransport(answer, consequence);
  if (transport.length > 0) return transport;
  if (answer.bytes >= MAX_RESPONSE_BYTES) {
    const size = answer.bytes > MAX_RESPONSE_BYTES ? "more than 256 KB" : "256 KB";
    return [error(`the answer is ${size}; Okta takes answers under 256 KB only, so ${consequence}`)];
  }
  if (answer.status === 204) {
    if (type === "telephony") return [error(`HTTP 204: a telephony hook must answer com.okta.telephony.action (200); ${consequence}`)];
    return answer.bytes > 0 ? [warning(`HTTP 204 with a ${answer.bytes}-byte body; Okta expects none`)] : [];
  }
  if (answer.status !== 200) {
    return [error(`HTTP ${answer.status}: Okta counts anything but 200 or 204 as a failed call, so ${consequence}`)];
  }
  const findings: Finding[] = [];
  if (!isJsonContentType(answer.contentType)) findings.push(warning(`content-type is ${answer.contentType ?? "missing"}, not application/json`));
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return [...findings, error(`the body is not JSON: ${consequence}`)];
  }
  if (!isObject(body)) return [...findings, error(`the body is not a JSON object: ${consequence}`)];

  for (const problem of publishedSchemaProblems(type, withoutNullRemoveValues(body))) {
    findings.push(error(`Okta's published response schema: ${problem}`));
  }
  const extra = Object.keys(body).filter((k) => !["commands", "error", "debugContext"].includes(k));
  if (extra.length > 0) findings.push(warning(`top-level fields Okta does not define: ${extra.join(", ")}`));
  if (body.debugContext !== undefined && !isObject(body.debugContext)) findings.push(error("debugContext: must be an object"));
  if (body.error !== undefined) {
    if (!isObject(body.error)) findings.push(error("error: must be an object"));
    else if (typeof body.error.errorSummary !== "string" || body.error.errorSummary === "") {
      findings.push(warning('error.errorSummary is missing; Okta shows "The callback service returned an error"'));
    }
  }
  if (body.commands === undefined) {
    if (type === "telephony") {
      findings.push(
        isObject(body.error)
          ? warning(`an error and no com.okta.telephony.action: ${consequence}, and the user may get two messages`)
          : error(`no commands: a telephony hook must answer com.okta.telephony.action; ${consequence}`),
      );
    }
    return findings;
  }
  if (!Array.isArray(body.commands)) return [...findings, error("commands: must be a list")];
  const commands: Json[] = [];
  body.commands.forEach((command: unknown, i) => {
    const at = `commands[${i}]`;
    if (!isObject(command) || typeof command.type !== "string" || !("value" in command)) {
      findings.push(error(`${at}: every command needs "type" and "value"`));
      return;
    }
    if (!ALLOWED_COMMANDS[type].includes(command.type)) {
      findings.push(error(`${at}: "${command.type}" is not a ${type} hook command (allowed: ${ALLOWED_COMMANDS[type].join(", ")})`));
      return;
    }
    commands.push(command);
    for (const problem of commandProblems(type, command, at, request)) findings.push(error(problem));
  });
  for (const problem of combinationProblems(type, commands)) findings.push(error(problem));
  return findings;
}

/** One line that says what an answer decided: the command types and patch paths, never values. */
export function describeInlineAnswer(answer: Answer): string {
  if (answer.status === 204) return "empty (204)";
  try {
    const body = JSON.parse(answer.body) as Json;
    const parts: string[] = [];
    for (const c of Array.isArray(body.commands) ? (body.commands as Json[]) : []) {
      if (Array.isArray(c.value) && c.type !== "com.okta.telephony.action") {
        for (const op of c.value as Json[]) parts.push(`${String(op?.op)} ${String(op?.path)}`);
      } else if (c.type === "com.okta.action.update" && isObject(c.value)) {
        parts.push(Object.values(c.value).map(String).join(","));
      } else if (c.type === "com.okta.telephony.action" && Array.isArray(c.value)) {
        parts.push(`telephony ${String((c.value[0] as Json | undefined)?.status)}`);
      } else if (isObject(c.value)) {
        parts.push(`${String(c.type).replace(/^com\.okta\./, "")} ${Object.keys(c.value).join(",")}`);
      }
    }
    if (isObject(body.error)) parts.push("error");
    return parts.length > 0 ? parts.join("; ") : "no commands";
  } catch {
    return "";
  }
}
