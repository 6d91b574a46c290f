/**
 * The admin API's errors as the dashboard shows them. Every error body is {"error":{"code","message"}}, and a 400's
 * message names the field first ("eventTypes[0]: must be an event type…", "definition.pattern: is not a valid
 * RE2 regular expression…"), so a form can put the message beside the input it is about.
 *
 * Pure: no DOM, no fetch (the Worker's tests check it against the API's real messages).
 */

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    /** The API's error code, or "network" when the gateway did not answer. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiFailure";
  }
}

/** A field path the API names: `name`, `eventTypes[0]`, `definition.value.key.attribute`. */
const FIELD_MESSAGE = /^([A-Za-z_$][\w$]*(?:\[\d+\]|\.[A-Za-z_$][\w$]*)*): (.+)$/s;

/** The field a 400 message is about, and what it says of it; no field when the message names none. */
export function splitFieldMessage(message: string): { field: string | null; text: string } {
  const match = FIELD_MESSAGE.exec(message);
  return match ? { field: match[1]!, text: match[2]! } : { field: null, text: message };
}

/**
 * Which of a form's fields an API field path belongs to: the longest one that is the path or a prefix of it
 * (`eventTypes[2]` → `eventTypes`, `definition.value.value.x` → `definition.value.value`). Null: none does.
 */
export function formFieldFor(path: string, fields: readonly string[]): string | null {
  let best: string | null = null;
  for (const field of fields) {
    const isPrefix = path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`);
    if (isPrefix && (best === null || field.length > best.length)) best = field;
  }
  return best;
}

/** Errors of a form: per field, and one for the form when the message names no field of it. */
export interface FormErrors {
  fields: Record<string, string>;
  form: string | null;
}

export const NO_ERRORS: FormErrors = { fields: {}, form: null };

/** A failed save as form errors: a 400 naming a known field goes beside it; anything else is the form's. */
export function formErrorsOf(error: unknown, fields: readonly string[]): FormErrors {
  if (!(error instanceof ApiFailure)) return { fields: {}, form: error instanceof Error ? error.message : String(error) };
  if (error.status === 400) {
    const { field, text } = splitFieldMessage(error.message);
    const target = field === null ? null : formFieldFor(field, fields);
    if (target !== null) {
      const detail = field !== target ? `${field!.slice(target.length).replace(/^\./, "")}: ${text}` : text;
      return { fields: { [target]: detail }, form: null };
    }
  }
  return { fields: {}, form: error.message };
}
