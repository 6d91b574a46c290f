/**
 * Inline hooks: the rules of each hook type in the order they are evaluated (priority, lower first), with
 * create, edit, enable/disable and move up/down (PATCH: the definition is not sent again), delete; and the lookup
 * tables rules read values from, with their entry counts; and the type's recent calls (./inline-calls.tsx).
 */
import { useState } from "preact/hooks";
import { isMissingEndpoint } from "../api/client";
import { deleteRule, listLookupTables, listRules, patchRule } from "../api/gateway";
import { INLINE_HOOK_TYPES, type InlineHookType, type Rule } from "../api/types";
import { ConfirmDialog } from "../components/dialog";
import { EmptyState, Flash, Loading, Problem } from "../components/feedback";
import { TextField } from "../components/fields";
import { Page } from "../components/page";
import { useAction } from "../components/use-action";
import { useLoad } from "../components/use-load";
import { href, navigate } from "../router";
import { RecentCalls } from "./inline-calls";
import { describeRule, kindSpec, kindsOf, tablesOf } from "./rule-kinds";

export const TYPE_LABELS: Record<InlineHookType, string> = {
  token: "Token",
  registration: "Registration",
  saml: "SAML",
  "user-import": "User import",
  "password-import": "Password import",
  telephony: "Telephony",
};

/** New priorities after moving `index` by `step`: the list's order, renumbered 10, 20, 30… where needed. */
export function reorder(rules: Rule[], index: number, step: -1 | 1): Array<{ rule: Rule; priority: number }> {
  const order = [...rules];
  const [moved] = order.splice(index, 1);
  order.splice(index + step, 0, moved!);
  return order.map((rule, i) => ({ rule, priority: (i + 1) * 10 })).filter(({ rule, priority }) => rule.priority !== priority);
}

function LookupTables({ rules }: { rules: Rule[] }) {
  const [table, setTable] = useState("");
  const [error, setError] = useState<string | undefined>();
  const stored = useLoad(() => listLookupTables().catch((e: unknown) => (isMissingEndpoint(e) ? null : Promise.reject(e))), []);
  const counts = new Map((stored.data?.tables ?? []).map((t) => [t.table, t]));
  const used = new Set(rules.flatMap(tablesOf));
  const names = [...new Set([...counts.keys(), ...used])].sort();
  return (
    <section aria-labelledby="lookup-title" class="card">
      <h2 id="lookup-title">Lookup tables</h2>
      <p class="hint">Key → JSON value tables kept in D1, which rules read claim and attribute values from, and user import links with.</p>
      {stored.error ? <Problem error={stored.error} retry={stored.reload} /> : null}
      {names.length > 0 ? (
        <ul class="table-list">
          {names.map((t) => {
            const c = counts.get(t);
            return (
              <li key={t}>
                <a href={href("inline-hooks", "lookup-tables", t)}>{t}</a>{" "}
                <span class="hint">
                  {c ? `${c.entries.toLocaleString()}${c.entriesCapped ? "+" : ""} entr${c.entries === 1 ? "y" : "ies"}` : stored.data === null ? "" : "no entries"}
                  {used.has(t) ? " · read by rules" : ""}
                </span>
              </li>
            );
          })}
        </ul>
      ) : stored.data ? (
        <p>No table holds entries yet, and no rule reads one.</p>
      ) : null}
      {stored.data?.next ? <p class="hint">The first {stored.data.tables.length} tables are listed; open any other by its name.</p> : null}
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!/^[A-Za-z0-9_.-]{1,100}$/.test(table.trim())) {
            setError("A table name is 1-100 letters, digits, _ . or -.");
            return;
          }
          navigate(href("inline-hooks", "lookup-tables", table.trim()));
        }}
      >
        <TextField id="lookup-table-name" label="Open a table" value={table} onInput={setTable} error={error} placeholder="e.g. tiers" />
        <button type="submit" class="secondary">
          Open
        </button>
      </form>
    </section>
  );
}

export function InlineHooks({ params }: { params: URLSearchParams }) {
  const asked = params.get("type") as InlineHookType | null;
  const type: InlineHookType = asked && INLINE_HOOK_TYPES.includes(asked) ? asked : "token";
  const loaded = useLoad(() => listRules(), []);
  const { busy, flash, failure, act } = useAction(loaded.reload);
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const rules = (loaded.data ?? []).filter((r) => r.hookType === type);
  const hasKinds = kindsOf(type).length > 0;


  const label = (r: Rule) => r.name ?? kindSpec(r.kind)?.label ?? r.kind;
  const move = (index: number, step: -1 | 1) =>
    act(async () => {
      for (const { rule, priority } of reorder(rules, index, step)) await patchRule(rule.id, { priority });
    }, `${label(rules[index]!)} moved ${step < 0 ? "up" : "down"}.`);

  return (
    <Page
      title="Inline hooks"
      actions={
        hasKinds ? (
          <a class="button" href={`${href("inline-hooks", "rules", "new")}?type=${type}`}>
            New {TYPE_LABELS[type].toLowerCase()} rule
          </a>
        ) : undefined
      }
    >
      <p class="lead">
        Okta calls <code>{`${location.origin}/hooks/inline/<type>`}</code> while a user signs in, registers or is imported; the gateway answers from these
        rules (and TypeScript handlers in <code>src/handlers/</code>) inside its deadline.
      </p>
      <nav aria-label="Inline hook types" class="tabs">
        <ul>
          {INLINE_HOOK_TYPES.map((t) => (
            <li key={t}>
              <a href={`${href("inline-hooks")}?type=${t}`} aria-current={t === type ? "page" : undefined}>
                {TYPE_LABELS[t]}
                {loaded.data ? ` (${loaded.data.filter((r) => r.hookType === t).length})` : ""}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <Flash message={flash} />
      {failure ? <Problem error={failure} /> : null}
      {loaded.loading && !loaded.data ? <Loading what="rules" /> : null}
      {loaded.error ? <Problem error={loaded.error} retry={loaded.reload} /> : null}
      {loaded.data && !hasKinds ? (
        <EmptyState title={`No rules for the ${TYPE_LABELS[type].toLowerCase()} hook`}>
          <p>
            This hook is decided by a TypeScript handler: add one in <code>src/handlers/</code> (docs/inline-hooks.md, "Handlers"). Without one, the gateway
            answers with Okta's own default for the type.
          </p>
        </EmptyState>
      ) : null}
      {loaded.data && hasKinds && rules.length === 0 ? (
        <EmptyState title={`No ${TYPE_LABELS[type].toLowerCase()} rules yet`}>
          <p>Without rules, Okta's calls of this hook are answered with no change (or by your handlers).</p>
          <p>
            <a class="button" href={`${href("inline-hooks", "rules", "new")}?type=${type}`}>
              Create a rule
            </a>{" "}
            and point the Okta inline hook at <code>{`${location.origin}/hooks/inline/${type}`}</code>.
          </p>
        </EmptyState>
      ) : null}
      {rules.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption>
              {TYPE_LABELS[type]} rules, in evaluation order
            </caption>
            <thead>
              <tr>
                <th scope="col">Priority</th>
                <th scope="col">Rule</th>
                <th scope="col">What it does</th>
                <th scope="col">State</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rules.map((r, i) => (
                <tr key={r.id} data-rule-id={r.id} class={r.enabled ? undefined : "muted"}>
                  <td>{r.priority}</td>
                  <th scope="row">
                    <a href={href("inline-hooks", "rules", r.id)}>{label(r)}</a>
                  </th>
                  <td>
                    <code>{describeRule(r)}</code>
                  </td>
                  <td>
                    <span class={`badge ${r.enabled ? "state-active" : "state-paused"}`}>{r.enabled ? "enabled" : "disabled"}</span>
                  </td>
                  <td class="row-actions">
                    <button type="button" class="secondary small" disabled={busy || i === 0} onClick={() => move(i, -1)} aria-label={`Move ${label(r)} up`}>
                      ↑
                    </button>
                    <button
                      type="button"
                      class="secondary small"
                      disabled={busy || i === rules.length - 1}
                      onClick={() => move(i, 1)}
                      aria-label={`Move ${label(r)} down`}
                    >
                      ↓
                    </button>
                    <button
                      type="button"
                      class="secondary small"
                      disabled={busy}
                      onClick={() => act(() => patchRule(r.id, { enabled: !r.enabled }), `${label(r)} ${r.enabled ? "disabled" : "enabled"}.`)}
                    >
                      {r.enabled ? "Disable" : "Enable"}
                    </button>
                    <button type="button" class="danger small" disabled={busy} onClick={() => setDeleting(r)} aria-label={`Delete ${label(r)}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <RecentCalls type={type} typeLabel={TYPE_LABELS[type]} />
      {loaded.data ? <LookupTables rules={loaded.data} /> : null}
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete the rule ${deleting ? label(deleting) : ""}?`}
        confirmLabel="Delete rule"
        danger
        busy={busy}
        onConfirm={async () => {
          if (deleting && (await act(() => deleteRule(deleting.id), `${label(deleting)} was deleted.`))) setDeleting(null);
        }}
        onCancel={() => setDeleting(null)}
      >
        <p>Okta's next calls are answered without it (isolates drop their cached rules within INLINE_RULES_CACHE_TTL_SECONDS).</p>
      </ConfirmDialog>
    </Page>
  );
}
