/**
 * The one error type of Stagger. Every failure a caller can act on carries a stable `code` (what other tools and
 * the HTTP layer key on), a message that says what is wrong in words, optional structured `details`, and whether
 * trying again could help. The HTTP status comes from one table keyed by code (src/http), never from here.
 */
export class StaggerError extends Error {
  readonly code: string;
  readonly details: unknown;
  readonly retryable: boolean;

  constructor(
    code: string,
    message: string,
    options: { details?: unknown; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StaggerError';
    this.code = code;
    this.details = options.details;
    this.retryable = options.retryable ?? false;
  }
}

export function isStaggerError(value: unknown, code?: string): value is StaggerError {
  return value instanceof StaggerError && (code === undefined || value.code === code);
}

/** Stable codes raised by the pure core. Other layers add their own next to their code. */
export const CoreErrorCode = {
  InvalidExecutionMode: 'INVALID_EXECUTION_MODE',
  StarterRequiresCycleMinutes: 'STARTER_REQUIRES_CYCLE_MINUTES',
  InvalidCycleMinutes: 'INVALID_CYCLE_MINUTES',
  InvalidDelay: 'INVALID_DELAY',
  InvalidPostLink: 'INVALID_POST_LINK',
  InvalidGroupTargets: 'INVALID_GROUP_TARGETS',
  TooManyGroups: 'TOO_MANY_GROUPS',
} as const;
