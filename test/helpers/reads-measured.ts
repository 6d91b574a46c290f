/**
 * A D1 binding that reports, for each `.all()` read, what `measure` makes of the rows it returned (undefined: not
 * counted) — how tests bound what a page of payloads makes the Worker hold. Statements keep working in `db.batch`
 * (the wrapper hands D1 its own statements).
 */
export function readsMeasured<Row>(db: D1Database, measure: (rows: Row[]) => number | undefined, report: (amount: number) => void): D1Database {
  const inner = new WeakMap<object, D1PreparedStatement>();
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const wrapped = {
      bind: (...values: unknown[]) => wrap(statement.bind(...values)),
      first: (column?: string) => (column === undefined ? statement.first() : statement.first(column)),
      run: () => statement.run(),
      raw: () => statement.raw(),
      all: async () => {
        const result = await statement.all<Row>();
        const amount = measure(result.results);
        if (amount !== undefined) report(amount);
        return result;
      },
    } as unknown as D1PreparedStatement;
    inner.set(wrapped, statement);
    return wrapped;
  };
  return {
    prepare: (sql: string) => wrap(db.prepare(sql)),
    batch: (statements: D1PreparedStatement[]) => db.batch(statements.map((s) => inner.get(s) ?? s)),
    exec: (sql: string) => db.exec(sql),
  } as unknown as D1Database;
}
