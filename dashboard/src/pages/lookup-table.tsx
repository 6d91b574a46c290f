/** One lookup table: its entries in key order (paged), set an entry (key → JSON value), delete one. */
import { useEffect, useRef, useState } from "preact/hooks";
import { formErrorsOf, NO_ERRORS, type FormErrors } from "../api/errors";
import { deleteLookupEntry, listLookupEntries, putLookupEntry } from "../api/gateway";
import type { LookupEntry } from "../api/types";
import { EmptyState, Flash, Loading, Problem } from "../components/feedback";
import { focusFirstError, TextArea, TextField } from "../components/fields";
import { whenMs } from "../components/format";
import { Page } from "../components/page";
import { href } from "../router";

export function LookupTable({ table }: { table: string }) {
  const [entries, setEntries] = useState<LookupEntry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const form = useRef<HTMLFormElement>(null);

  const load = async (after?: string) => {
    setLoading(true);
    setError(null);
    try {
      const page = await listLookupEntries(table, after);
      setEntries((current) => (after === undefined ? page.entries : [...current, ...page.entries]));
      setNext(page.next);
    } catch (failure) {
      setError(failure);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void load(), [table]);

  const save = async (e: Event) => {
    e.preventDefault();
    setErrors(NO_ERRORS);
    if (key.trim() === "") {
      setErrors({ fields: { key: "is required" }, form: null });
      focusFirstError(form.current);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      setErrors({ fields: { value: 'is not JSON: quote text ("gold"), or write a number, true, false, [ … ] or { … }' }, form: null });
      focusFirstError(form.current);
      return;
    }
    try {
      await putLookupEntry(table, key.trim(), parsed);
      setFlash(`${key.trim()} was saved.`);
      setKey("");
      setValue("");
      await load();
    } catch (failure) {
      setErrors(formErrorsOf(failure, ["key", "value"]));
      focusFirstError(form.current);
    }
  };

  const remove = async (entry: LookupEntry) => {
    try {
      await deleteLookupEntry(table, entry.key);
      setFlash(`${entry.key} was deleted.`);
      await load();
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <Page title={`Lookup table ${table}`}>
      <p>
        <a href={href("inline-hooks")}>← Inline hooks</a>
      </p>
      <Flash message={flash} />
      {error ? <Problem error={error} retry={() => void load()} /> : null}
      {loading && entries.length === 0 ? <Loading what="entries" /> : null}
      {!loading && !error && entries.length === 0 ? (
        <EmptyState title="No entries">
          <p>A table exists once it has an entry. Add one below: rules reading this table find the value by its key.</p>
        </EmptyState>
      ) : null}
      {entries.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption>Entries of {table}, in key order</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Value</th>
                <th scope="col">Updated</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.key}>
                  <th scope="row">
                    <code>{entry.key}</code>
                  </th>
                  <td>
                    <code>{JSON.stringify(entry.value)}</code>
                  </td>
                  <td>{whenMs(entry.updatedAt)}</td>
                  <td>
                    <button
                      type="button"
                      class="secondary small"
                      onClick={() => {
                        setKey(entry.key);
                        setValue(JSON.stringify(entry.value, null, 2));
                      }}
                      aria-label={`Edit ${entry.key}`}
                    >
                      Edit
                    </button>{" "}
                    <button type="button" class="danger small" onClick={() => remove(entry)} aria-label={`Delete ${entry.key}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {next ? (
        <button type="button" class="secondary" disabled={loading} onClick={() => load(next)}>
          More entries
        </button>
      ) : null}
      <form ref={form} class="form card" onSubmit={save} noValidate aria-labelledby="entry-title">
        <h2 id="entry-title">Set an entry</h2>
        {errors.form ? <Problem error={new Error(errors.form)} /> : null}
        <TextField id="key" label="Key" value={key} onInput={setKey} error={errors.fields.key} hint="1-500 characters; an existing key is replaced." />
        <TextArea id="value" label="Value (JSON)" code value={value} onInput={setValue} error={errors.fields.value} hint='e.g. "gold" or {"tier":"gold","limit":5}' />
        <button type="submit">Save entry</button>
      </form>
    </Page>
  );
}
