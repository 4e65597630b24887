import * as z from 'zod/mini';
import type { ConnectionIdentity } from '../../domain/realtime/ports';
import { idSchema } from '../../domain/shared/ids';
import { lazySchema } from '../../domain/shared/zod';

/**
 * What API Gateway (WebSocket API) hands the route Lambdas, as far as they read it: the route,
 * the connection, the authorizer's context (set by `$connect`'s authorizer, repeated on every
 * frame of the connection) and the frame's body. Local mode builds the very same shape.
 */
export interface WebSocketRouteEvent {
  readonly requestContext: {
    readonly routeKey: string;
    readonly eventType?: string;
    readonly connectionId: string;
    readonly authorizer?: Readonly<Record<string, unknown>>;
  };
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
}

/** A route's answer; API Gateway sends nothing back for it unless a route response is set up. */
export interface WebSocketRouteResult {
  readonly statusCode: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** The `$connect` authorizer's request (REQUEST type, WebSocket API). */
export interface WebSocketAuthorizerEvent {
  readonly type?: string;
  readonly methodArn: string;
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly queryStringParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly requestContext: {
    readonly connectionId?: string;
    readonly identity?: { readonly sourceIp?: string };
  };
}

export interface WebSocketAuthorizerResult {
  readonly principalId: string;
  readonly policyDocument: {
    readonly Version: '2012-10-17';
    readonly Statement: readonly { Action: string; Effect: 'Allow' | 'Deny'; Resource: string }[];
  };
  /** Strings only (API Gateway's rule): the identity as JSON. */
  readonly context: { readonly identity: string };
}

const identitySchema = lazySchema(() =>
  z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('user'), tenantId: idSchema('tenant'), userId: idSchema('user') }),
    z.object({
      kind: z.literal('visitor'),
      tenantId: idSchema('tenant'),
      agentId: idSchema('agent'),
      externalId: z.string().check(z.minLength(1), z.maxLength(160)),
      verified: z.boolean(),
    }),
  ]),
);

/** The identity the authorizer proved, from the route event; a connection without one is refused. */
export function identityOf(event: WebSocketRouteEvent): ConnectionIdentity {
  const raw = event.requestContext.authorizer?.identity;
  let parsed: unknown;
  try {
    parsed = typeof raw === 'string' ? JSON.parse(raw) : undefined;
  } catch {
    parsed = undefined;
  }
  const result = identitySchema().safeParse(parsed);
  if (!result.success) throw new Error('WebSocket route called without the authorizer’s identity');
  return result.data as ConnectionIdentity;
}

export function headerOf(
  headers: Readonly<Record<string, string | undefined>> | null | undefined,
  name: string,
): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  return Object.entries(headers).find(([key]) => key.toLowerCase() === wanted)?.[1];
}
