/** A row as the driver returns it: column name → value. */
export type Row = Record<string, unknown>;

/** Anything that runs one SQL statement: the database itself or an open transaction. */
export interface Queryable {
  /** Runs one parameterised statement ($1, $2, …) and returns its rows. */
  query<T = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

/**
 * The Db port: one PostgreSQL dialect, two implementations (PostgreSQL over the network,
 * PGlite in-process). Stores are written against this and nothing else.
 */
export interface Db extends Queryable {
  readonly kind: "postgres" | "pglite";
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
