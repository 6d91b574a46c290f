/**
 * The signed-in session: the admin token, kept in sessionStorage (this tab only, gone when it closes; never a
 * cookie, never in a URL), and the notice the sign-in page shows after a sign-out or a refused token.
 */
import { signal } from "@preact/signals";

const STORAGE_KEY = "okta-hooks-edge.admin-token";

function stored(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: the token lives in memory only
  }
}

export const token = signal<string | null>(stored());
/** Said on the sign-in page: why the session ended. */
export const signInNotice = signal<string | null>(null);

export function signIn(value: string): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, value);
  } catch {
    // memory only
  }
  signInNotice.value = null;
  token.value = value;
}

export function signOut(notice: string | null = null): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing stored
  }
  signInNotice.value = notice;
  token.value = null;
}
