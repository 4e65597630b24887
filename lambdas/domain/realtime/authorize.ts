import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BUSINESS_WEB_ID, PLATFORM_WEB_ID_RULE } from '../conversations/customers';
import { ForbiddenError, RateLimitedError, UnauthorizedError } from '../shared/errors';
import type { DataScopes } from '../shared/scopes';
import type { UserRepository } from '../tenants/ports';
import type { ConnectionIdentity } from './ports';

/** The subprotocol the server selects when the token comes as `Sec-WebSocket-Protocol`. */
export const WEBSOCKET_SUBPROTOCOL = 'agent-platform';

/** What a `$connect` request offers as proof, read from its query string and headers. */
export interface ConnectAttempt {
  /** A signed-in user's ID token (`?token=` or an entry of `Sec-WebSocket-Protocol`). */
  readonly token?: string;
  /** A web chat's publishable key (`?key=pk_…`): an anonymous or business-verified visitor. */
  readonly publishableKey?: string;
  readonly origin?: string;
  readonly sourceIp: string;
  /** The business's own id of its customer (`?customer=`), with `?signature=` (hex HMAC-SHA256). */
  readonly customerId?: string;
  readonly customerSignature?: string;
}

/** The token, from `?token=` or the `Sec-WebSocket-Protocol` offer (`agent-platform, <token>`). */
export function tokenOf(
  query: Readonly<Record<string, string | undefined>>,
  protocolHeader: string | undefined,
): string | undefined {
  if (query.token) return query.token;
  const offered = (protocolHeader ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0 && entry !== WEBSOCKET_SUBPROTOCOL);
  return offered[0];
}

/** A web chat's publishable key as the platform-level index holds it. */
export interface WebChatKey {
  readonly publishableKey: string;
  readonly tenantId: string;
  readonly agentId: string;
  readonly enabled: boolean;
  /** Exact origins (`https://shop.example`) a visitor's page may be served from; empty: none. */
  readonly allowedOrigins: readonly string[];
}

export interface WebChatLimits {
  /** New visitor connections a minute, per publishable key. */
  readonly perKeyPerMinute: number;
  /** New visitor connections a minute, per key and source address. */
  readonly perAddressPerMinute: number;
  /** New visitor connections a minute, per source address across every key of every tenant. */
  readonly perAddressAllKeysPerMinute: number;
}

export const DEFAULT_WEB_CHAT_LIMITS: WebChatLimits = {
  perKeyPerMinute: 600,
  perAddressPerMinute: 20,
  perAddressAllKeysPerMinute: 60,
};

export interface AuthorizeDeps {
  /** Verifies the ID token (signature, issuer, audience, expiry); throws when it is not valid. */
  readonly verifyToken: (token: string) => Promise<{ tenantId: string; userId: string }>;
  readonly users: Pick<UserRepository, 'getCurrent'>;
  readonly webChat: {
    /** Platform-level: the key's index item, read before any tenant is known. */
    resolveKey(publishableKey: string): Promise<WebChatKey | undefined>;
    /** The channel's signing secret, read in the tenant's scope. */
    signingSecret(tenantId: string, agentId: string): Promise<string | undefined>;
    /** Counts one connection in the current minute's window; the count so far including it. */
    count(tenantId: string, agentId: string, bucket: string, windowStart: string): Promise<number>;
    /**
     * Platform-level: counts one connection of a source address (by its hash) in the current
     * minute's window, whatever the key; the count so far including it.
     */
    countAddress(addressHash: string, windowStart: string): Promise<number>;
  };
  readonly limits: WebChatLimits;
  readonly scopes: DataScopes;
  readonly now: () => Date;
}

/**
 * The `$connect` check (a Lambda REQUEST authorizer on AWS, the local server's upgrade in local
 * mode): a signed-in user by their ID token (and their record: still there, not disabled), or a
 * web-chat visitor by the agent's publishable key (enabled, from an allowed origin, under the
 * key's rate, the address's on this key and the address's on every key) and, when the business vouches for who they are, a customer id
 * signed with the channel secret. Anything else is refused (UnauthorizedError → 401 at upgrade).
 */
export async function authorizeConnection(
  deps: AuthorizeDeps,
  attempt: ConnectAttempt,
): Promise<ConnectionIdentity> {
  if (attempt.token) {
    let caller: { tenantId: string; userId: string };
    try {
      caller = await deps.verifyToken(attempt.token);
    } catch {
      throw new UnauthorizedError('token: not a valid ID token');
    }
    const user = await deps.scopes.tenant(caller.tenantId, () =>
      deps.users.getCurrent(caller.tenantId, caller.userId),
    );
    if (!user || user.status === 'disabled') throw new UnauthorizedError('token: this user cannot sign in');
    return { kind: 'user', tenantId: caller.tenantId, userId: caller.userId };
  }
  if (!attempt.publishableKey) throw new UnauthorizedError('A token or a publishable key is required');
  const key = /^pk_[A-Za-z0-9_-]{16,64}$/.test(attempt.publishableKey)
    ? await deps.scopes.platform(() => deps.webChat.resolveKey(attempt.publishableKey as string))
    : undefined;
  if (!key?.enabled) throw new UnauthorizedError('key: not a publishable key of an enabled web chat');
  if (!attempt.origin || !key.allowedOrigins.includes(attempt.origin.toLowerCase())) {
    throw new ForbiddenError('Origin: this page is not allowed to use this web chat');
  }
  await deps.scopes.platform(() => admitAddress(deps, attempt.sourceIp));
  return deps.scopes.tenant(key.tenantId, async () => {
    await admitVisitor(deps, key, attempt.sourceIp);
    if (attempt.customerId === undefined && attempt.customerSignature === undefined) {
      return {
        kind: 'visitor',
        tenantId: key.tenantId,
        agentId: key.agentId,
        externalId: `visitor:${randomBytes(16).toString('base64url')}`,
        verified: false,
      };
    }
    const secret = await deps.webChat.signingSecret(key.tenantId, key.agentId);
    if (
      !attempt.customerId ||
      !attempt.customerSignature ||
      !secret ||
      !/^[A-Za-z0-9_.:@+-]{1,128}$/.test(attempt.customerId) ||
      !signatureMatches(secret, attempt.customerId, attempt.customerSignature)
    ) {
      throw new UnauthorizedError('signature: not the channel secret’s signature of this customer id');
    }
    // Well signed, yet the platform's: refused whoever signed it, as a page not allowed is (403).
    if (!BUSINESS_WEB_ID.test(attempt.customerId))
      throw new ForbiddenError(`customer: ${PLATFORM_WEB_ID_RULE}`);
    return {
      kind: 'visitor',
      tenantId: key.tenantId,
      agentId: key.agentId,
      externalId: attempt.customerId,
      verified: true,
    };
  });
}

/** Hex HMAC-SHA256 of the customer id with the channel secret (what the business's server computes). */
export function customerSignature(secret: string, customerId: string): string {
  return createHmac('sha256', secret).update(customerId, 'utf8').digest('hex');
}

/** Constant-time: how much of a guess matched must not show in how long the refusal took. */
function signatureMatches(secret: string, customerId: string, given: string): boolean {
  const expected = Buffer.from(customerSignature(secret, customerId), 'hex');
  const wellFormed = /^[0-9a-f]{64}$/i.test(given);
  // A malformed signature is still compared (against zeros), so it takes as long as any other.
  const offered = wellFormed ? Buffer.from(given, 'hex') : Buffer.alloc(expected.length);
  return timingSafeEqual(expected, offered) && wellFormed;
}

function tooMany(now: Date): RateLimitedError {
  return new RateLimitedError(
    'Too many new web chat connections; try again in a minute',
    60 - now.getUTCSeconds(),
  );
}

/**
 * One address opening chats on many businesses' keys (a bot walking the platform's web chats) is
 * held back here; the key's own limits below cannot see it. The address is kept hashed only.
 */
async function admitAddress(deps: AuthorizeDeps, sourceIp: string): Promise<void> {
  const now = deps.now();
  const address = createHash('sha256')
    .update(`web-chat-address#${sourceIp}`)
    .digest('base64url')
    .slice(0, 22);
  const count = await deps.webChat.countAddress(address, now.toISOString().slice(0, 16));
  if (count > deps.limits.perAddressAllKeysPerMinute) throw tooMany(now);
}

async function admitVisitor(deps: AuthorizeDeps, key: WebChatKey, sourceIp: string): Promise<void> {
  const now = deps.now();
  const windowStart = now.toISOString().slice(0, 16);
  const address = createHmac('sha256', key.publishableKey).update(sourceIp).digest('base64url').slice(0, 22);
  const [perKey, perAddress] = await Promise.all([
    deps.webChat.count(key.tenantId, key.agentId, 'key', windowStart),
    deps.webChat.count(key.tenantId, key.agentId, `addr#${address}`, windowStart),
  ]);
  if (perKey > deps.limits.perKeyPerMinute || perAddress > deps.limits.perAddressPerMinute) {
    throw tooMany(now);
  }
}
