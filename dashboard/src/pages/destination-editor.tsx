/**
 * Create or edit a destination: URL, event-type filter and conditions, format, attempt timeout. The API's 400
 * names the field ("eventTypes[1]: must be an event type…"), and the message is shown beside that field. A new
 * destination's signing secret is shown once, with a copy button.
 */
import { useRef, useState } from "preact/hooks";
import { formErrorsOf, NO_ERRORS, type FormErrors } from "../api/errors";
import { createDestination, getDestination, updateDestination } from "../api/gateway";
import type { Destination, DestinationConditions, DestinationInput } from "../api/types";
import { Loading, Problem } from "../components/feedback";
import { Checkbox, focusFirstError, listOf, Select, TextArea, TextField } from "../components/fields";
import { Page } from "../components/page";
import { OneTimeSecret } from "../components/secret";
import { useLoad } from "../components/use-load";
import { href, navigate } from "../router";

/** The API's field paths this form has a control for. */
const FIELDS = [
  "name",
  "url",
  "eventTypes",
  "conditions.outcomeResults",
  "conditions.actorIds",
  "conditions.targetTypes",
  "format",
  "oktaAuth",
  "oktaAuth.header",
  "oktaAuth.value",
  "timeoutMs",
] as const;

interface Draft {
  name: string;
  url: string;
  eventTypes: string;
  outcomeResults: string;
  actorIds: string;
  targetTypes: string;
  format: "standard" | "okta";
  oktaHeader: string;
  oktaValue: string;
  timeoutMs: string;
  startPaused: boolean;
}

function draftOf(d: Destination | undefined): Draft {
  return {
    name: d?.name ?? "",
    url: d?.url ?? "",
    eventTypes: (d?.eventTypes ?? ["*"]).join("\n"),
    outcomeResults: (d?.conditions.outcomeResults ?? []).join(", "),
    actorIds: (d?.conditions.actorIds ?? []).join(", "),
    targetTypes: (d?.conditions.targetTypes ?? []).join(", "),
    format: d?.format ?? "standard",
    oktaHeader: d?.oktaAuth?.header ?? "authorization",
    oktaValue: "",
    timeoutMs: String(d?.timeoutMs ?? 10000),
    startPaused: false,
  };
}

function inputOf(draft: Draft, editing: boolean): DestinationInput {
  const conditions: DestinationConditions = {};
  for (const [key, text] of [
    ["outcomeResults", draft.outcomeResults],
    ["actorIds", draft.actorIds],
    ["targetTypes", draft.targetTypes],
  ] as const) {
    const list = listOf(text);
    if (list.length > 0) conditions[key] = list;
  }
  return {
    name: draft.name,
    url: draft.url.trim(),
    eventTypes: listOf(draft.eventTypes),
    conditions,
    format: draft.format,
    // Sent only when typed: an edit without a new value keeps the stored one.
    ...(draft.format === "okta" && draft.oktaValue !== "" && { oktaAuth: { header: draft.oktaHeader.trim(), value: draft.oktaValue } }),
    timeoutMs: Number(draft.timeoutMs.trim()),
    ...(!editing && { state: draft.startPaused ? "paused" : "active" }),
  };
}

function Form({ existing }: { existing?: Destination }) {
  const editing = existing !== undefined;
  const [draft, setDraft] = useState<Draft>(() => draftOf(existing));
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ id: string; name: string; secret: string } | null>(null);
  const form = useRef<HTMLFormElement>(null);
  const set = <K extends keyof Draft>(key: K) => (value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const err = (field: (typeof FIELDS)[number]) => errors.fields[field];

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!/^\d+$/.test(draft.timeoutMs.trim())) {
      setErrors({ fields: { timeoutMs: "must be a whole number of milliseconds" }, form: null });
      focusFirstError(form.current);
      return;
    }
    setBusy(true);
    setErrors(NO_ERRORS);
    try {
      const input = inputOf(draft, editing);
      if (editing) {
        await updateDestination(existing.id, input);
        navigate(href("destinations"));
      } else {
        const result = await createDestination(input);
        setCreated({ id: result.id, name: result.name, secret: result.secret });
      }
    } catch (error) {
      setErrors(formErrorsOf(error, FIELDS));
      focusFirstError(form.current);
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return (
      <OneTimeSecret secret={created.secret} title={`${created.name} was created`}>
        <p>
          <a class="button" href={href("destinations")}>
            Back to destinations
          </a>
        </p>
      </OneTimeSecret>
    );
  }

  return (
    <form ref={form} onSubmit={submit} noValidate class="form" aria-label={editing ? "Edit destination" : "New destination"}>
      {errors.form ? <Problem error={new Error(errors.form)} /> : null}
      <TextField id="name" label="Name" value={draft.name} onInput={set("name")} error={err("name")} required />
      <TextField
        id="url"
        label="URL"
        type="url"
        value={draft.url}
        onInput={set("url")}
        error={err("url")}
        required
        placeholder="https://receiver.example.com/okta-events"
        hint="https only; private, loopback and metadata addresses are refused."
      />
      <TextArea
        id="eventTypes"
        label="Event types"
        rows={3}
        value={draft.eventTypes}
        onInput={set("eventTypes")}
        error={err("eventTypes")}
        code
        hint={
          <>
            One per line: an exact type (<code>user.session.start</code>), a prefix (<code>user.lifecycle.*</code>) or <code>*</code> for all.
          </>
        }
      />
      <fieldset>
        <legend>Conditions (optional; all must hold)</legend>
        <TextField
          id="outcomeResults"
          label="Outcome results"
          value={draft.outcomeResults}
          onInput={set("outcomeResults")}
          error={err("conditions.outcomeResults")}
          hint="Comma-separated, e.g. FAILURE, DENY."
        />
        <TextField id="actorIds" label="Actor ids" value={draft.actorIds} onInput={set("actorIds")} error={err("conditions.actorIds")} hint="Comma-separated Okta user or app ids." />
        <TextField
          id="targetTypes"
          label="Target types"
          value={draft.targetTypes}
          onInput={set("targetTypes")}
          error={err("conditions.targetTypes")}
          hint="Comma-separated, e.g. User, AppInstance."
        />
      </fieldset>
      <Select
        id="format"
        label="Format"
        value={draft.format}
        onChange={(v) => set("format")(v as Draft["format"])}
        error={err("format")}
        options={[
          ["standard", "Standard Webhooks (signed)"],
          ["okta", "Okta's envelope (existing receiver)"],
        ]}
      />
      {draft.format === "okta" ? (
        <fieldset>
          <legend>Header your Okta receiver checks</legend>
          <TextField id="oktaHeader" label="Header name" value={draft.oktaHeader} onInput={set("oktaHeader")} error={err("oktaAuth.header")} />
          <TextField
            id="oktaValue"
            label="Header value"
            type="password"
            value={draft.oktaValue}
            onInput={set("oktaValue")}
            error={err("oktaAuth.value") ?? err("oktaAuth")}
            hint={existing?.oktaAuth?.valueSet ? "A value is stored; leave this empty to keep it." : "Stored encrypted; never shown again."}
          />
        </fieldset>
      ) : null}
      <TextField
        id="timeoutMs"
        label="Attempt timeout (ms)"
        inputMode="numeric"
        value={draft.timeoutMs}
        onInput={set("timeoutMs")}
        error={err("timeoutMs")}
        hint="1000 to 30000."
      />
      {!editing ? (
        <Checkbox id="startPaused" label="Create paused (events wait until you resume it)" checked={draft.startPaused} onChange={set("startPaused")} />
      ) : null}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : editing ? "Save changes" : "Create destination"}
        </button>
        <a class="button secondary" href={href("destinations")}>
          Cancel
        </a>
      </div>
    </form>
  );
}

export function DestinationEditor({ id }: { id?: string }) {
  const loaded = useLoad(() => (id === undefined ? Promise.resolve(undefined) : getDestination(id)), [id]);
  return (
    <Page title={id === undefined ? "New destination" : loaded.data ? `Edit ${loaded.data.name}` : "Edit destination"}>
      <p>
        <a href={href("destinations")}>← Destinations</a>
      </p>
      {id !== undefined && loaded.loading ? <Loading what="the destination" /> : null}
      {loaded.error ? <Problem error={loaded.error} retry={loaded.reload} /> : null}
      {!loaded.loading && !loaded.error ? <Form existing={loaded.data} /> : null}
    </Page>
  );
}
