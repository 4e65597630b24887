import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod/mini';
import { AppError, type FieldIssue, ValidationError, withoutInfrastructure } from '../domain/shared/errors';

/** The only place errors become HTTP responses. */
export function errorResponse(
  error: unknown,
  onUnexpected: (error: unknown) => void,
): APIGatewayProxyStructuredResultV2 {
  let appError: AppError;
  if (error instanceof AppError) {
    appError = error;
  } else {
    onUnexpected(error);
    appError = new AppError(500, 'INTERNAL', 'Internal error', undefined, false);
  }
  const body = {
    error: {
      code: appError.code,
      // The last guard: whatever an error quotes from a provider, no ARN, URL or address leaves.
      message: appError.expose ? withoutInfrastructure(appError.message) : 'Internal error',
      ...(appError.expose && appError.details ? { details: appError.details } : {}),
    },
  };
  const headers: Record<string, string> = {};
  if (appError.retryAfterSeconds !== undefined) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(appError.retryAfterSeconds)));
  }
  return jsonResult(appError.statusCode, body, headers);
}

/** Every parse goes through `parseWith`, which reports zod's issues with the field each is about. */
export function fromZod(error: z.core.$ZodError, location: 'body' | 'query' | 'path'): ValidationError {
  const issues: FieldIssue[] = error.issues.flatMap((issue) => {
    const at = [location, ...issue.path.map(String)];
    return issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: [...at, key].join('.'), message: 'is not a known field' }))
      : [{ field: at.join('.'), message: issue.message }];
  });
  const summary = issues
    .slice(0, 5)
    .map((i) => `${i.field}: ${i.message}`)
    .join('; ');
  return new ValidationError(summary || `${location}: invalid`, issues);
}

export const SECURITY_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

export function jsonResult(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { ...SECURITY_HEADERS, ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
}
