/** The superuser's password of a test cluster. */
export declare const PASSWORD: string;

export interface TestCluster {
  readonly dir: string;
  readonly port: number;
  readonly host: string;
  /** A URL of a database of this cluster, as a role (the superuser by default). */
  url(database?: string, user?: string, password?: string): string;
  /** Runs SQL as the superuser in a database (postgres by default); resolves with the rows. */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[], database?: string): Promise<T[]>;
  /** A fresh database (empty, or a copy of `template`); resolves with its URL. */
  database(name: string, template?: string): Promise<string>;
  /** Stops the server (fast, or immediate: as a crash), keeping its files. */
  stop(mode?: 'fast' | 'immediate' | 'smart'): void;
  /** Starts it again. */
  start(): void;
  /** Stops the server and removes its folder. */
  remove(): Promise<void>;
}

/** Creates a database through a superuser's URL, copied from `template` when given; resolves with its URL. */
export declare function createDatabase(adminUrl: string, name: string, template?: string): Promise<string>;

/** The folder of initdb and pg_ctl, or an Error saying what to install. */
export declare function findPostgres(): string | Error;

/** Starts a throw-away cluster (fsync off unless asked) with a database "gantry". */
export declare function startCluster(options?: { fsync?: boolean; maxConnections?: number }): Promise<TestCluster>;

/** A port of 127.0.0.1 nothing listens on (an unreachable database, for tests). */
export declare function closedPort(): Promise<number>;
