/**
 * An action a page runs from a button (pause, redrive, delete…): `busy` while it runs, what it did said as a
 * flash, its failure kept for a Problem notice, and the page's data read again afterwards — after a failure too,
 * so the page shows the state the gateway is really in.
 */
import { useState } from "preact/hooks";

export function useAction(reload: () => void) {
  const [busy, setBusy] = useState(false);
  const [flash, setFlash] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  /** Run `what`; true when it succeeded (the flash then says `done`). */
  const act = async (what: () => Promise<unknown>, done: string): Promise<boolean> => {
    setBusy(true);
    setFailure(null);
    try {
      await what();
      setFlash(done);
      return true;
    } catch (error) {
      setFailure(error);
      return false;
    } finally {
      setBusy(false);
      reload();
    }
  };
  return { busy, flash, failure, setFailure, act };
}
