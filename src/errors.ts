/** Stable error codes; match on `error.code`, never on the message. */
export type ErrorCode =
  | 'ERR_INVALID_CONFIG'
  | 'ERR_BIND'
  | 'ERR_NOT_RUNNING'
  | 'ERR_METADATA_TOO_LARGE'
  | 'ERR_JOIN_FAILED'
  | 'ERR_UNKNOWN_MEMBER'
  | 'ERR_LEAVE_TIMEOUT';

/** Base class of every error Constellation throws or rejects with. */
export class ConstellationError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration value broke a rule; `field` names it (dotted path), `rule` says what it must be. */
export class InvalidConfigError extends ConstellationError {
  /** The offending option, e.g. `resources.cpuTotal`. */
  readonly field: string;
  /** What the value must be. */
  readonly rule: string;

  constructor(field: string, rule: string) {
    super('ERR_INVALID_CONFIG', `invalid option ${field}: ${rule}`);
    this.field = field;
    this.rule = rule;
  }
}

/** The UDP or TCP socket could not be bound (port in use, address not local). */
export class BindError extends ConstellationError {
  /** The address that could not be bound, `host:port`. */
  readonly address: string;

  constructor(address: string, message: string) {
    super('ERR_BIND', message);
    this.address = address;
  }
}

/** The cluster was shut down (or has left) and cannot take this call. */
export class NotRunningError extends ConstellationError {
  constructor(what = 'the cluster is not running') {
    super('ERR_NOT_RUNNING', what);
  }
}

/** The local member record would exceed `maxRecordBytes` once encoded. */
export class MetadataTooLargeError extends ConstellationError {
  constructor(message: string) {
    super('ERR_METADATA_TOO_LARGE', message);
  }
}

/** One seed's failure inside a {@link JoinFailedError}. */
export interface SeedFailure {
  /** The seed as given to `join`. */
  readonly seed: string;
  /** Why it could not be used (resolution failure, refused, timed out ...). */
  readonly error: string;
}

/** No seed answered `join`, after every retry. */
export class JoinFailedError extends ConstellationError {
  /** Each seed's own last error. */
  readonly seeds: readonly SeedFailure[];
  /** Attempts made (1 + retries). */
  readonly attempts: number;

  constructor(seeds: readonly SeedFailure[], attempts: number) {
    const list = seeds.map((s) => `${s.seed} (${s.error})`).join('; ');
    super('ERR_JOIN_FAILED', `could not join through any seed after ${attempts} attempt(s): ${list}`);
    this.seeds = seeds;
    this.attempts = attempts;
  }
}

/** `forceLeave` named a member that is unknown, alive, or already gone. */
export class UnknownMemberError extends ConstellationError {
  constructor(message: string) {
    super('ERR_UNKNOWN_MEMBER', message);
  }
}
