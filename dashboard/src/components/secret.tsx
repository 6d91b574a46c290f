/**
 * A signing secret shown once, right after it was made: read-only, with a copy button. It is kept in this
 * component only; leaving the page forgets it.
 */
import { useState } from "preact/hooks";

export function OneTimeSecret({ secret, title, children }: { secret: string; title: string; children?: preact.ComponentChildren }) {
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied("yes");
    } catch {
      // No clipboard permission: select the text so Ctrl+C copies it.
      (document.getElementById("one-time-secret") as HTMLInputElement | null)?.select();
      setCopied("failed");
    }
  };
  return (
    <section class="secret notice" aria-labelledby="secret-title">
      <h2 id="secret-title">{title}</h2>
      <p>
        <strong>This is the only time the secret is shown.</strong> Copy it into the receiving system now: it verifies the{" "}
        <code>webhook-signature</code> header with it.
      </p>
      <div class="secret-row">
        <label for="one-time-secret" class="visually-hidden">
          Signing secret
        </label>
        <input id="one-time-secret" class="code" readOnly value={secret} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" onClick={copy}>
          Copy
        </button>
      </div>
      <p role="status" class="hint">
        {copied === "yes" ? "Copied to the clipboard." : copied === "failed" ? "Could not reach the clipboard: the secret is selected, press Ctrl+C (⌘C)." : ""}
      </p>
      {children}
    </section>
  );
}
