/**
 * The one error hierarchy of the platform. Domain code throws these; the HTTP layer maps
 * them to responses in exactly one place (`lambdas/http/error-response.ts`). `expose`
 * says whether `message` may be shown to the caller; unexpected errors never are.
 */
export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `body.model.temperature` or `path.id`. */
  readonly field: string;
  readonly message: string;
}

export class AppError extends Error {
  /** For 429 and 503: how long the caller should wait before trying again (sent as Retry-After). */
  retryAfterSeconds?: number;

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly expose = true,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(
    message: string,
    readonly issues: readonly FieldIssue[] = [],
  ) {
    super(400, 'VALIDATION_FAILED', message, issues.length > 0 ? { issues } : undefined);
  }

  static forField(field: string, message: string): ValidationError {
    return new ValidationError(`${field}: ${message}`, [{ field, message }]);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'A valid bearer token is required') {
    super(401, 'UNAUTHORIZED', message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'Your role does not allow this operation') {
    super(403, 'FORBIDDEN', message);
  }
}

export class NotFoundError extends AppError {
  constructor(entity: string, id?: string) {
    super(404, 'NOT_FOUND', id === undefined ? `${entity} not found` : `${entity} ${id} not found`);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(409, 'CONFLICT', message, details);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super(413, 'PAYLOAD_TOO_LARGE', `body: larger than the ${limitBytes}-byte limit`, { limitBytes });
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor() {
    super(415, 'UNSUPPORTED_MEDIA_TYPE', 'content-type: must be application/json');
  }
}

/** Over a rate limit: answered 429 with `Retry-After` (seconds). */
export class RateLimitedError extends AppError {
  constructor(
    message: string,
    override readonly retryAfterSeconds: number,
    details?: Record<string, unknown>,
  ) {
    super(429, 'RATE_LIMITED', message, { ...details, retryAfterSeconds });
  }
}

/** An error's message for a log line; never shown to callers. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const INFRASTRUCTURE: readonly [RegExp, string][] = [
  [/\barn:aws[a-z-]*:[^\s"'`,;()<>]+/gi, '[resource]'],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`,;()<>]+/gi, '[url]'],
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g, '[address]'],
  [/\b(?:[a-z0-9-]+\.)+[a-z]{2,}:\d{1,5}\b/gi, '[address]'],
  // Not after a `+`: an E.164 phone number can have 12 digits too.
  [/(?<![+\d])\b\d{12}\b/g, '[account]'],
];

/**
 * `text` (an upstream service's words, typically) without what names infrastructure: ARNs, URLs,
 * IP addresses, host:port pairs and AWS account ids. Errors that reach a tenant go through it
 * (`AppError` subclasses that carry provider messages, and `errorResponse`), so that a provider's
 * message cannot show the platform's accounts, roles, endpoints or internal addresses.
 */
export function withoutInfrastructure(text: string): string {
  return INFRASTRUCTURE.reduce(
    (result, [pattern, replacement]) => result.replace(pattern, replacement),
    text,
  );
}

/** The provider says the channel's credentials are not valid (a bot token Telegram does not know). */
export class ChannelCredentialsRejectedError extends AppError {
  constructor(field: string, message: string) {
    super(422, 'CREDENTIALS_REJECTED', `${field}: ${withoutInfrastructure(message)}`, {
      issues: [{ field, message: withoutInfrastructure(message) }],
    });
  }
}
