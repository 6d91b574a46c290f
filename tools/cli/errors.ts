/**
 * The admin CLI's exit codes and the errors that end a command (docs/operations.md "Admin CLI"):
 * 0 done, 1 the API refused (its error code and message are printed), 2 a usage problem (a bad option or argument,
 * no token), 3 the gateway could not be reached; 130 when Ctrl-C stops following a job (the job goes on).
 */
export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3, interrupted: 130 } as const;

/** The API answered with an error: `{"error":{"code","message"}}`, or a status with no such body. */
export class ApiRefusal extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiRefusal";
    this.status = status;
    this.code = code;
  }
}

/** No answer: connection refused, DNS, TLS, a timeout. */
export class Unreachable extends Error {
  readonly url: string;
  readonly reason: string;
  constructor(url: string, reason: string) {
    super(`cannot reach ${url}: ${reason}`);
    this.name = "Unreachable";
    this.url = url;
    this.reason = reason;
  }
}

/** The command line itself is wrong: a value, a missing token, an unreadable file. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Ctrl-C while a request was in flight. */
export class Interrupted extends Error {
  constructor() {
    super("interrupted");
    this.name = "Interrupted";
  }
}
