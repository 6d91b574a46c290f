/**
 * The storage edge: every D1 failure leaves storage as a StorageError, so the rest of the app tells "storage is
 * down, try again" (503 to Okta, a retry for a queue message) from a bug by type, not by matching D1's message
 * text. `storageDatabase` wraps the binding once per request or batch (src/http/request-context.ts, src/index.ts);
 * every statement prepared through it, and every batch and exec, rejects with a StorageError that keeps D1's error
 * as its `cause` for the log.
 *
 * `firstRow` and `allRows` read a statement's result in one typed place, instead of casts at each call site.
 *
 * `meteredDatabase` adds, per request, what D1 itself reports each statement cost (`meta.rows_read`,
 * `meta.rows_written`: index entries count as rows, as D1 bills them,
 * https://developers.cloudflare.com/d1/platform/pricing/), so the request's log line can say what it cost.
 */

export class StorageError extends Error {
  override readonly name = "StorageError";
  constructor(
    /** What was being done: the first words of the SQL, or "batch". Never bound values. */
    readonly operation: string,
    cause: unknown,
  ) {
    super(`D1 ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

async function guard<T>(operation: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw error instanceof StorageError ? error : new StorageError(operation, error);
  }
}

/** "SELECT … FROM events", "INSERT INTO dead_letters" …: enough to say which statement, no values. */
function operationOf(sql: string): string {
  return sql.trim().replace(/\s+/g, " ").split(" ").slice(0, 4).join(" ");
}

const WRAPPED = Symbol("storage-edge");
const BASE = Symbol("storage-edge-base");
/** The real statement behind a wrapped one: D1's batch() only accepts its own statements. */
const unwrapped = new WeakMap<object, D1PreparedStatement>();

/** What D1 reported a request's statements cost, and how long the request waited for D1. */
export interface D1Usage {
  queries: number;
  rowsRead: number;
  rowsWritten: number;
  /** Milliseconds from each call to its answer or failure, summed (calls awaited at the same time each count in full). */
  ms: number;
}

function count(
  usage: D1Usage | undefined,
  results: ReadonlyArray<{ meta?: { rows_read?: number; rows_written?: number } } | undefined>,
  started: number,
): void {
  if (!usage) return;
  usage.ms += Date.now() - started;
  for (const result of results) {
    usage.queries++;
    usage.rowsRead += result?.meta?.rows_read ?? 0;
    usage.rowsWritten += result?.meta?.rows_written ?? 0;
  }
}

/**
 * Runs one D1 call and counts it, answered or failed: a call that failed was still waited for (an outage that
 * times out is exactly when D1's share of the ms matters), with no rows to report.
 */
async function metered<R>(
  usage: D1Usage | undefined,
  statements: number,
  call: () => Promise<R>,
  results: (answer: R) => ReadonlyArray<{ meta?: { rows_read?: number; rows_written?: number } } | undefined>,
): Promise<R> {
  const started = Date.now();
  let answered: R;
  try {
    answered = await call();
  } catch (error) {
    count(usage, Array.from({ length: statements }, () => undefined), started);
    throw error;
  }
  count(usage, results(answered), started);
  return answered;
}

function wrapStatement(statement: D1PreparedStatement, operation: string, usage?: D1Usage): D1PreparedStatement {
  const proxy = new Proxy(statement, {
    get(target, property) {
      if (property === "bind") return (...values: unknown[]) => wrapStatement(target.bind(...values), operation, usage);
      if (usage && (property === "run" || property === "all")) {
        const method = Reflect.get(target, property) as () => Promise<D1Result<unknown>>;
        return () =>
          guard(operation, () => metered(usage, 1, () => method.apply(target), (result) => [result]));
      }
      if (usage && property === "first") {
        // first() reports no meta; all() runs the same query (D1's first() does not add a LIMIT) and does.
        return (column?: string) =>
          guard(operation, async () => {
            const result = await metered(usage, 1, () => target.all<Record<string, unknown>>(), (r) => [r]);
            const row = result.results[0];
            return row === undefined ? null : column === undefined ? row : row[column];
          });
      }
      if (property === "run" || property === "all" || property === "first" || property === "raw") {
        const method = Reflect.get(target, property) as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => guard(operation, () => method.apply(target, args));
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  unwrapped.set(proxy, statement);
  return proxy;
}

/**
 * One wrapper per binding, so code that keys an isolate cache on the database object (src/storage/inline-rule-cache.ts)
 * sees the same object on every request.
 */
const wrappers = new WeakMap<D1Database, D1Database>();

/** `db` with every failure turned into a StorageError. Wrapping twice is a no-op; the same binding, the same wrapper. */
export function storageDatabase(db: D1Database): D1Database {
  if ((db as unknown as Record<symbol, unknown>)[WRAPPED]) return db;
  let wrapper = wrappers.get(db);
  if (wrapper === undefined) {
    wrapper = wrap(db);
    wrappers.set(db, wrapper);
  }
  return wrapper;
}

/** The binding behind a wrapper (caches that live as long as the isolate key on it). */
export function baseDatabase(db: D1Database): D1Database {
  return ((db as unknown as Record<symbol, unknown>)[BASE] as D1Database | undefined) ?? db;
}

/** A wrapper of `db` for one request: StorageErrors as storageDatabase, and every statement's cost added to `usage`. */
export function meteredDatabase(db: D1Database, usage: D1Usage): D1Database {
  return wrap(baseDatabase(db), usage);
}

function wrap(db: D1Database, usage?: D1Usage): D1Database {
  return new Proxy(db, {
    get(target, property) {
      if (property === WRAPPED) return true;
      if (property === BASE) return target;
      if (property === "prepare") return (sql: string) => wrapStatement(target.prepare(sql), operationOf(sql), usage);
      if (property === "batch") {
        return (statements: D1PreparedStatement[]) =>
          guard("batch", () => metered(usage, statements.length, () => target.batch(statements.map((s) => unwrapped.get(s) ?? s)), (results) => results));
      }
      if (property === "exec") return (sql: string) => guard(operationOf(sql), () => target.exec(sql));
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The first row of a statement's result (from `all()` or a batch), or undefined. */
export function firstRow<Row>(result: D1Result<unknown> | undefined): Row | undefined {
  return result?.results[0] as Row | undefined;
}

/** Every row of a statement's result (from `all()` or a batch). */
export function allRows<Row>(result: D1Result<unknown> | undefined): Row[] {
  return (result?.results ?? []) as Row[];
}

const edgedEnvs = new WeakMap<object, unknown>();

/**
 * `env` with its D1 binding behind the storage edge. The same object for the same env: code that caches per env
 * object (the parsed configuration, src/config.ts) keeps its cache across requests.
 */
export function withStorageEdge<E extends { DB: D1Database }>(env: E): E {
  if ((env.DB as unknown as Record<symbol, unknown>)[WRAPPED]) return env;
  let edged = edgedEnvs.get(env) as E | undefined;
  if (edged === undefined) {
    edged = { ...env, DB: storageDatabase(env.DB) };
    edgedEnvs.set(env, edged);
  }
  return edged;
}

/** Where a per-invocation copy of the env names the isolate's env (the configuration cache keys on it). */
const ENV_ORIGIN = Symbol.for("okta-hooks-edge.env-origin");

/**
 * A copy of `env` for one request, queue batch or cron run whose D1 adds what each statement cost to `usage`
 * (and turns failures into StorageErrors). It names the isolate's env under ENV_ORIGIN, so the configuration is
 * still parsed once per isolate.
 */
export function meteredEnv<E extends { DB: D1Database }>(env: E, usage: D1Usage): E {
  const edged = withStorageEdge(env);
  return { ...edged, DB: meteredDatabase(edged.DB, usage), [ENV_ORIGIN]: edged };
}

/** The log fields of a usage, or none when D1 was not used. */
export function usageFields(usage: D1Usage): Record<string, number> {
  return usage.queries > 0
    ? { d1Queries: usage.queries, d1RowsRead: usage.rowsRead, d1RowsWritten: usage.rowsWritten, d1Ms: usage.ms }
    : {};
}

export function newUsage(): D1Usage {
  return { queries: 0, rowsRead: 0, rowsWritten: 0, ms: 0 };
}
