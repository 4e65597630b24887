import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import * as z from 'zod/mini';
import {
  ForbiddenError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../domain/shared/errors';
import { idSchema } from '../domain/shared/ids';
import { OPERATOR_GROUP, type OperatorPrincipal, type Principal } from '../domain/shared/principal';
import { lazySchema } from '../domain/shared/zod';
import type { SignInContext, UserRepository } from '../domain/tenants/ports';
import { EDGE_HEADERS } from './edge-headers';
import { fromZod } from './error-response';

/** API Gateway passes claims as strings; a list claim arrives as "[a b]". Local tokens may carry arrays. */
function groupsFromClaim(claim: unknown): string[] {
  return Array.isArray(claim)
    ? claim.map(String)
    : typeof claim === 'string'
      ? claim.replace(/^\[|\]$/g, '').split(/[\s,]+/)
      : [];
}

const operatorClaimsSchema = lazySchema(() =>
  z.object({
    'cognito:username': z.string().check(z.minLength(1), z.maxLength(128)),
    email: z.optional(z.string()),
  }),
);

/**
 * A platform operator, from the claims: a member of `platform-operators` with no tenant. Anyone
 * else — every tenant role, and an operator account that was (wrongly) also given a tenant — is
 * refused with 403.
 */
export function operatorFrom(event: APIGatewayProxyEventV2WithJWTAuthorizer): OperatorPrincipal {
  const claims = event.requestContext.authorizer?.jwt?.claims ?? {};
  const parsed = operatorClaimsSchema().safeParse(claims);
  if (!parsed.success) throw new UnauthorizedError('token: lacks the user claim');
  if (!groupsFromClaim(claims['cognito:groups']).includes(OPERATOR_GROUP) || claims['custom:tenantId']) {
    throw new ForbiddenError('Only platform operators may use this route');
  }
  return {
    kind: 'operator',
    userId: parsed.data['cognito:username'],
    ...(parsed.data.email ? { email: parsed.data.email } : {}),
  };
}

const claimsSchema = lazySchema(() =>
  z.object({
    'cognito:username': idSchema('user'),
    'custom:tenantId': idSchema('tenant'),
  }),
);

/** What the pipeline reads the caller's record with: one strongly consistent GetItem. */
export type CurrentUsers = Pick<UserRepository, 'getCurrent'>;

/**
 * Who the verified token says is calling, and in which tenant: read before anything else, so the
 * pipeline can enter that tenant's scope (composition/tenant-scope.ts) before its first read.
 */
export function tokenCaller(event: APIGatewayProxyEventV2WithJWTAuthorizer): {
  readonly tenantId: string;
  readonly userId: string;
} {
  return callerFromClaims(event.requestContext.authorizer?.jwt?.claims);
}

/**
 * The same, from a verified token's claims however they came (the JWT authorizer's strings, or the
 * WebSocket `$connect` authorizer's own verification): operators belong to no tenant.
 */
export function callerFromClaims(claims: Readonly<Record<string, unknown>> | undefined): {
  readonly tenantId: string;
  readonly userId: string;
} {
  if (groupsFromClaim(claims?.['cognito:groups']).includes(OPERATOR_GROUP)) {
    throw new ForbiddenError('Platform operators belong to no tenant: use the /v1/operator routes');
  }
  const parsed = claimsSchema().safeParse(claims ?? {});
  if (!parsed.success) throw new UnauthorizedError('token: lacks the user or tenant claim');
  return { tenantId: parsed.data['custom:tenantId'], userId: parsed.data['cognito:username'] };
}

/**
 * The caller. The token (verified by the JWT authorizer) says who they are and in which tenant,
 * and nothing else is trusted from it: the user's record, read now, says whether they still
 * exist and are enabled, and gives their role, grants and locations. So deleting, disabling or
 * demoting a user takes effect on their next request, not when their token expires.
 */
export async function principalFrom(
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  users: CurrentUsers,
): Promise<Principal> {
  const { tenantId, userId } = tokenCaller(event);
  const user = await users.getCurrent(tenantId, userId);
  if (!user) throw new UnauthorizedError('token: this user no longer exists; sign in again');
  if (user.status === 'disabled') throw new UnauthorizedError('token: this user is disabled');
  return {
    userId: user.id,
    tenantId,
    role: user.role,
    email: user.email,
    acting: { role: user.role, grants: user.grants, locationIds: user.locationIds },
  };
}

export function parseWith<T extends z.ZodMiniType>(
  schema: T,
  input: unknown,
  location: 'body' | 'query' | 'path',
): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw fromZod(result.error, location);
  return result.data;
}

function header(event: APIGatewayProxyEventV2WithJWTAuthorizer, name: string): string | undefined {
  return (
    event.headers?.[name] ??
    Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1]
  );
}

/** The body as it came, for routes that check it byte for byte (webhook signatures). */
export function rawBodyOf(event: APIGatewayProxyEventV2WithJWTAuthorizer, maxBytes: number): string {
  if (event.body === undefined || event.body === null) return '';
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(raw, 'utf8') > maxBytes) throw new PayloadTooLargeError(maxBytes);
  return raw;
}

/** A request header, by name in any case. */
export function headerOf(event: APIGatewayProxyEventV2WithJWTAuthorizer, name: string): string | undefined {
  return header(event, name.toLowerCase());
}

/** Reads the JSON body: media type, size limit and syntax are each reported as such. */
export function jsonBody(event: APIGatewayProxyEventV2WithJWTAuthorizer, maxBytes: number): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(raw, 'utf8') > maxBytes) throw new PayloadTooLargeError(maxBytes);
  const contentType = header(event, 'content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType)) throw new UnsupportedMediaTypeError();
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw ValidationError.forField('body', `malformed JSON (${(error as Error).message})`);
  }
}

/** `If-Match: "3"` (or `W/"3"`, or `3`) → 3; absent → undefined. */
export function expectedVersion(event: APIGatewayProxyEventV2WithJWTAuthorizer): number | undefined {
  const value = header(event, 'if-match');
  if (value === undefined) return undefined;
  const match = /^(?:W\/)?"?(\d{1,10})"?$/.exec(value.trim());
  if (!match?.[1]) throw ValidationError.forField('header.if-match', 'must be the entity version, e.g. "3"');
  return Number(match[1]);
}

/** `Idempotency-Key`: the same key again replays the first result instead of acting twice. */
export function idempotencyKey(event: APIGatewayProxyEventV2WithJWTAuthorizer): string | undefined {
  const value = header(event, 'idempotency-key');
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(value)) {
    throw ValidationError.forField('header.idempotency-key', 'must be 1-200 letters, digits or _ . : -');
  }
  return value;
}

/** Headers that carry credentials: never passed on, whatever the caller sent. */
const CREDENTIAL_HEADER = /authorization|cookie|token|secret|api-key|signature/i;

/**
 * The caller's side of a sign-in, for Cognito threat protection: the caller's address (API
 * Gateway's `sourceIp`, or the viewer's behind the console's CloudFront: http/caller-address.ts),
 * the host and path called, and the request's headers minus credentials and minus the secret
 * CloudFront proves itself with.
 */
export function signInContextFrom(
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  encodedData: string | undefined,
  ipAddress: string,
): SignInContext {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value === undefined || CREDENTIAL_HEADER.test(name)) continue;
    if (name.toLowerCase() === EDGE_HEADERS.ORIGIN_VERIFY) continue;
    headers[name] = value;
  }
  return {
    ipAddress,
    serverName: event.requestContext.domainName,
    serverPath: event.rawPath,
    headers,
    ...(encodedData ? { encodedData } : {}),
  };
}
