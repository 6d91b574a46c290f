/**
 * Labelled form controls. Each has a visible label, an optional hint, and an error shown beside it, linked with
 * aria-describedby and aria-invalid so a screen reader announces it with the control.
 */
import type { ComponentChildren } from "preact";

interface Common {
  id: string;
  label: string;
  hint?: ComponentChildren;
  error?: string | undefined;
}

function describedBy(id: string, hint: unknown, error: unknown): string | undefined {
  const ids = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean);
  return ids.length > 0 ? ids.join(" ") : undefined;
}

function Help({ id, hint, error }: { id: string; hint?: ComponentChildren; error?: string | undefined }) {
  return (
    <>
      {hint ? <p class="hint" id={`${id}-hint`}>{hint}</p> : null}
      {error ? (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </>
  );
}

export function TextField(
  props: Common & { value: string; onInput: (value: string) => void; type?: "text" | "password" | "url" | "datetime-local"; required?: boolean; autoComplete?: string; placeholder?: string; inputMode?: "numeric" | "text" | "url" },
) {
  const { id, label, hint, error } = props;
  return (
    <div class={`field${error ? " invalid" : ""}`}>
      <label for={id}>{label}</label>
      <input
        id={id}
        name={id}
        type={(props.type ?? "text") as "text"}
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
        required={props.required}
        autoComplete={props.autoComplete ?? "off"}
        spellcheck={false}
        placeholder={props.placeholder}
        inputMode={props.inputMode}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy(id, hint, error)}
      />
      <Help id={id} hint={hint} error={error} />
    </div>
  );
}

export function TextArea(props: Common & { value: string; onInput: (value: string) => void; rows?: number; required?: boolean; code?: boolean }) {
  const { id, label, hint, error } = props;
  return (
    <div class={`field${error ? " invalid" : ""}`}>
      <label for={id}>{label}</label>
      <textarea
        id={id}
        name={id}
        rows={props.rows ?? 3}
        value={props.value}
        class={props.code ? "code" : undefined}
        onInput={(e) => props.onInput(e.currentTarget.value)}
        required={props.required}
        spellcheck={false}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy(id, hint, error)}
      />
      <Help id={id} hint={hint} error={error} />
    </div>
  );
}

export function Select(props: Common & { value: string; onChange: (value: string) => void; options: ReadonlyArray<readonly [value: string, label: string]> }) {
  const { id, label, hint, error } = props;
  return (
    <div class={`field${error ? " invalid" : ""}`}>
      <label for={id}>{label}</label>
      <select
        id={id}
        name={id}
        value={props.value}
        onChange={(e) => props.onChange(e.currentTarget.value)}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy(id, hint, error)}
      >
        {props.options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
      <Help id={id} hint={hint} error={error} />
    </div>
  );
}

export function Checkbox(props: Common & { checked: boolean; onChange: (checked: boolean) => void }) {
  const { id, label, hint, error } = props;
  return (
    <div class={`field checkbox${error ? " invalid" : ""}`}>
      <input
        id={id}
        name={id}
        type="checkbox"
        checked={props.checked}
        onChange={(e) => props.onChange(e.currentTarget.checked)}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy(id, hint, error)}
      />
      <label for={id}>{label}</label>
      <Help id={id} hint={hint} error={error} />
    </div>
  );
}

/** A list typed one item per line or comma-separated, as the API's arrays. */
export function listOf(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Focus the first invalid control of a form after a failed save. */
export function focusFirstError(form: HTMLFormElement | null): void {
  requestAnimationFrame(() => form?.querySelector<HTMLElement>("[aria-invalid='true']")?.focus());
}
