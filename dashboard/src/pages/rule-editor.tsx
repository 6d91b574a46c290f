/**
 * Create or edit an inline hook rule: its kind (what it does), name, priority (lower runs first), whether it is
 * enabled, and the kind's own fields (./rule-kinds.ts). The API refuses a rule the builders would refuse — a
 * reserved claim, a pattern RE2 cannot compile — with a 400 naming the field, shown beside it.
 */
import { useRef, useState } from "preact/hooks";
import { formErrorsOf, NO_ERRORS, type FormErrors } from "../api/errors";
import { createRule, getRule, replaceRule } from "../api/gateway";
import { INLINE_HOOK_TYPES, type InlineHookType, type Rule, type RuleInput } from "../api/types";
import { Loading, Problem } from "../components/feedback";
import { Checkbox, focusFirstError, Select, TextArea, TextField } from "../components/fields";
import { Page } from "../components/page";
import { useLoad } from "../components/use-load";
import { href, navigate } from "../router";
import { definitionOf, FieldProblem, kindSpec, kindsOf, valuesOf, type FieldSpec, type KindSpec, type Values } from "./rule-kinds";

const controlId = (path: string) => `rule-${path.replace(/\./g, "-")}`;

function Control({ field, values, setValue, error }: { field: FieldSpec; values: Values; setValue: (path: string, value: string | boolean) => void; error?: string | undefined }) {
  const id = controlId(field.path);
  const value = values[field.path];
  const label = field.optional ? `${field.label} (optional)` : field.label;
  switch (field.type) {
    case "checkbox":
      return <Checkbox id={id} label={label} checked={value === true} onChange={(v) => setValue(field.path, v)} error={error} hint={field.hint} />;
    case "select":
      return <Select id={id} label={label} value={String(value ?? "")} onChange={(v) => setValue(field.path, v)} options={field.options ?? []} error={error} hint={field.hint} />;
    case "json":
    case "list":
    case "key-values":
      return (
        <TextArea
          id={id}
          label={label}
          rows={field.type === "json" ? 3 : 3}
          code
          value={String(value ?? "")}
          onInput={(v) => setValue(field.path, v)}
          error={error}
          hint={field.hint}
        />
      );
    default:
      return <TextField id={id} label={label} value={String(value ?? "")} onInput={(v) => setValue(field.path, v)} error={error} hint={field.hint} />;
  }
}

function Form({ type, existing }: { type: InlineHookType; existing?: Rule }) {
  const kinds = kindsOf(type);
  const [spec, setSpec] = useState<KindSpec>(() => (existing ? kindSpec(existing.kind)! : kinds[0]!));
  const [values, setValues] = useState<Values>(() => valuesOf(spec, existing));
  const [name, setName] = useState(existing?.name ?? "");
  const [priority, setPriority] = useState(String(existing?.priority ?? 100));
  const [enabled, setEnabled] = useState(existing?.enabled ?? true);
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const fieldPaths = ["kind", "name", "priority", "enabled", "definition", ...spec.fields.map((f) => f.path)];

  const chooseKind = (kind: string) => {
    const next = kindSpec(kind)!;
    setSpec(next);
    setValues(valuesOf(next));
    setErrors(NO_ERRORS);
  };
  const setValue = (path: string, value: string | boolean) => setValues((v) => ({ ...v, [path]: value }));

  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors(NO_ERRORS);
    let input: RuleInput;
    try {
      if (!/^\d+$/.test(priority.trim())) throw new FieldProblem("priority", "must be a whole number from 0 (first) to 1000000");
      input = {
        kind: spec.kind,
        ...(name.trim() !== "" && { name: name.trim() }),
        priority: Number(priority.trim()),
        enabled,
        definition: definitionOf(spec, values),
      };
    } catch (problem) {
      if (!(problem instanceof FieldProblem)) throw problem;
      setErrors({ fields: { [problem.path]: problem.message }, form: null });
      focusFirstError(form.current);
      return;
    }
    setBusy(true);
    try {
      if (existing) await replaceRule(existing.id, input);
      else await createRule(input);
      navigate(`${href("inline-hooks")}?type=${type}`);
    } catch (error) {
      setErrors(formErrorsOf(error, fieldPaths));
      focusFirstError(form.current);
    } finally {
      setBusy(false);
    }
  };

  const visible = spec.fields.filter((f) => !f.when || f.when(values));
  return (
    <form ref={form} onSubmit={submit} noValidate class="form" aria-label={existing ? "Edit rule" : "New rule"}>
      {errors.form ? <Problem error={new Error(errors.form)} /> : null}
      <Select
        id="rule-kind"
        label="What the rule does"
        value={spec.kind}
        onChange={chooseKind}
        options={kinds.map((k) => [k.kind, k.label] as const)}
        error={errors.fields.kind}
        hint={spec.summary}
      />
      <TextField id="rule-name" label="Name (optional)" value={name} onInput={setName} error={errors.fields.name} />
      <TextField
        id="rule-priority"
        label="Priority"
        inputMode="numeric"
        value={priority}
        onInput={setPriority}
        error={errors.fields.priority}
        hint="Lower runs first; rules of a type are evaluated in this order."
      />
      <Checkbox id="rule-enabled" label="Enabled" checked={enabled} onChange={setEnabled} error={errors.fields.enabled} />
      <fieldset>
        <legend>Definition</legend>
        {errors.fields.definition ? (
          <p class="field-error" role="alert">
            {errors.fields.definition}
          </p>
        ) : null}
        {visible.map((field) => (
          <Control key={`${spec.kind}:${field.path}`} field={field} values={values} setValue={setValue} error={errors.fields[field.path]} />
        ))}
      </fieldset>
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : existing ? "Save rule" : "Create rule"}
        </button>
        <a class="button secondary" href={`${href("inline-hooks")}?type=${type}`}>
          Cancel
        </a>
      </div>
    </form>
  );
}

export function RuleEditor({ id, params }: { id?: string; params?: URLSearchParams }) {
  const loaded = useLoad(() => (id === undefined ? Promise.resolve(undefined) : getRule(id)), [id]);
  const asked = params?.get("type");
  const type: InlineHookType = loaded.data?.hookType ?? (INLINE_HOOK_TYPES.includes(asked as InlineHookType) ? (asked as InlineHookType) : "token");
  const hasKinds = kindsOf(type).length > 0;
  return (
    <Page title={id === undefined ? `New ${type} rule` : loaded.data ? `Edit rule ${loaded.data.name ?? loaded.data.id}` : "Edit rule"}>
      <p>
        <a href={`${href("inline-hooks")}?type=${type}`}>← Inline hooks: {type}</a>
      </p>
      {id !== undefined && loaded.loading ? <Loading what="the rule" /> : null}
      {loaded.error ? <Problem error={loaded.error} retry={loaded.reload} /> : null}
      {!loaded.loading && !loaded.error && hasKinds ? <Form type={type} existing={loaded.data} /> : null}
      {!hasKinds ? <p>The {type} inline hook has no rule kinds: it is decided by TypeScript handlers (src/handlers/).</p> : null}
    </Page>
  );
}
