/**
 * One isolate-lived buffer that gathers items from the requests an isolate serves and hands them on together: when
 * `maxItems` have gathered, or `flushAfterMs` after the first, whichever comes first. Shared by the two places that
 * pay per write rather than per item: the inline hook audit (./inline-call-buffer.ts: one D1 row per flush) and the
 * forward queue's producer (src/queue/enqueue-buffer.ts: one queue message per flush). It sits in the storage layer,
 * the lowest one both users are in or above.
 *
 * No item relies on the isolate outliving its request: `add` returns the promise of the flush that will carry the
 * item, which the request hands to its own waitUntil, so the runtime keeps the request (and the isolate) until the
 * item is written. The timer is set in the context of the request that opened the buffer; a timer cannot be
 * cleared from another request's context, so a flush may be asked for twice and runs once.
 *
 * A failed write is retried once; if that fails too, `failed` decides what becomes of the items. The promise always
 * resolves.
 */

export interface CoalescingBufferOptions<T> {
  /** Items per flush, at most: a full buffer is flushed at once and later items open a new one. */
  maxItems: number;
  /** Writes one flush's items; rejects when the write failed. */
  write: (items: T[]) => Promise<void>;
  /** The write failed twice: last resort for the items (log, hand them to a slower path). Its errors are ignored. */
  failed: (items: T[], error: unknown, firstError: unknown) => Promise<void> | void;
}

interface Pending<T> {
  items: T[];
  flushed: boolean;
  done: Promise<void>;
  flush: () => void;
}

export class CoalescingBuffer<T> {
  private open: Pending<T> | undefined;

  constructor(private readonly options: CoalescingBufferOptions<T>) {}

  /**
   * Adds `item` and returns the promise of the flush that carries it: hand it to the request's waitUntil. Never
   * rejects. `flushAfterMs` (0 = the next timer tick) counts from the first item of a buffer.
   */
  add(item: T, flushAfterMs: number): Promise<void> {
    const pending = this.open ?? this.openBuffer(flushAfterMs);
    pending.items.push(item);
    if (pending.items.length >= this.options.maxItems) {
      // Full: later items start a new buffer at once; the write itself waits for this request to have answered.
      this.open = undefined;
      setTimeout(() => pending.flush(), 0);
    }
    return pending.done;
  }

  private openBuffer(flushAfterMs: number): Pending<T> {
    let resolve!: () => void;
    const pending: Pending<T> = {
      items: [],
      flushed: false,
      done: new Promise<void>((r) => (resolve = r)),
      flush: () => {
        if (pending.flushed) return;
        pending.flushed = true;
        if (this.open === pending) this.open = undefined;
        void this.write(pending.items).then(resolve);
      },
    };
    setTimeout(() => pending.flush(), flushAfterMs);
    this.open = pending;
    return pending;
  }

  private async write(items: T[]): Promise<void> {
    let firstError: unknown;
    try {
      await this.options.write(items);
      return;
    } catch (error) {
      firstError = error;
    }
    try {
      await this.options.write(items);
      return;
    } catch (error) {
      try {
        await this.options.failed(items, error, firstError);
      } catch {
        // The last resort failed as well; the promise still resolves (its callers only wait on it).
      }
    }
  }
}
