/**
 * A D1 binding that notes every statement it runs — alone or in a batch — with its bound values, for tests that
 * then ask SQLite for each statement's plan (`EXPLAIN QUERY PLAN`).
 */
export type StatementLog = Array<{ sql: string; values: unknown[] }>;

export function recordedDatabase(db: D1Database, log: StatementLog): D1Database {
  const inner = new WeakMap<object, { statement: D1PreparedStatement; sql: string; values: unknown[] }>();
  const wrap = (statement: D1PreparedStatement, sql: string, values: unknown[]): D1PreparedStatement => {
    const note = () => log.push({ sql, values });
    const wrapped = {
      bind: (...bound: unknown[]) => wrap(statement.bind(...bound), sql, bound),
      first: (column?: string) => (note(), column === undefined ? statement.first() : statement.first(column)),
      run: () => (note(), statement.run()),
      raw: (options?: { columnNames?: boolean }) => (note(), statement.raw(options as never)),
      all: () => (note(), statement.all()),
    } as unknown as D1PreparedStatement;
    inner.set(wrapped, { statement, sql, values });
    return wrapped;
  };
  return {
    prepare: (sql: string) => wrap(db.prepare(sql), sql, []),
    batch: (statements: D1PreparedStatement[]) =>
      db.batch(
        statements.map((s) => {
          const known = inner.get(s)!;
          log.push({ sql: known.sql, values: known.values });
          return known.statement;
        }),
      ),
  } as unknown as D1Database;
}
