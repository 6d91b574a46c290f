/**
 * Okta's contract for an event hook's answers (https://developer.okta.com/docs/concepts/event-hooks/):
 * - the one-time verification GET: 200 with JSON `{"verification": "<the x-okta-verification-challenge value>"}`;
 * - a delivery POST: 200 or 204, "should be empty", within 3 s. Okta retries once after a timeout or a 5xx and
 *   never after a 4xx, so a 4xx loses the delivery's events.
 */
import { checkTransport, error, isJsonContentType, warning, type Answer, type Finding } from "./findings.ts";

export function checkVerificationAnswer(challenge: string, answer: Answer): Finding[] {
  const consequence = "the hook stays unverified and receives no events";
  const transport = checkTransport(answer, consequence);
  if (transport.length > 0) return transport;
  if (answer.status !== 200) return [error(`HTTP ${answer.status}, Okta needs 200 with {"verification": …}: ${consequence}`)];
  const findings: Finding[] = [];
  if (!isJsonContentType(answer.contentType)) {
    findings.push(warning(`content-type is ${answer.contentType ?? "missing"}, not application/json`));
  }
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return [...findings, error(`the body is not JSON: ${consequence}`)];
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return [...findings, error(`the body is not a JSON object: ${consequence}`)];
  }
  const verification = (body as Record<string, unknown>).verification;
  if (verification !== challenge) {
    findings.push(
      error(
        verification === undefined
          ? `the body has no "verification" field: ${consequence}`
          : `"verification" is not the value of the x-okta-verification-challenge header: ${consequence}`,
      ),
    );
  }
  const extra = Object.keys(body).filter((k) => k !== "verification");
  if (extra.length > 0) findings.push(warning(`fields besides "verification": ${extra.join(", ")}`));
  return findings;
}

export function checkDeliveryAnswer(events: number, answer: Answer): Finding[] {
  const what = `${events} event${events === 1 ? "" : "s"}`;
  const transport = checkTransport(answer, `Okta retries once, then drops these ${what}`);
  if (transport.length > 0) return transport;
  if (answer.status >= 400 && answer.status < 500) {
    return [error(`HTTP ${answer.status}: Okta never retries a 4xx, so these ${what} are lost`)];
  }
  if (answer.status >= 500) return [error(`HTTP ${answer.status}: Okta retries once, then drops these ${what}`)];
  if (answer.status !== 200 && answer.status !== 204) {
    return [error(`HTTP ${answer.status}: Okta expects 200 or 204 for a delivery`)];
  }
  return answer.bytes > 0 ? [warning(`the body is not empty (${answer.bytes} bytes); Okta expects none`)] : [];
}
