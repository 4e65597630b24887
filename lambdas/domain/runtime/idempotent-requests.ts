import { ConflictError } from '../shared/errors';
import { requestFingerprint } from '../shared/fingerprint';
import type { Principal } from '../shared/principal';
import type { Execution, IdempotencyClaim } from './executions';
import type { RuntimeDeps } from './runtime-deps';

/** Chat turns and tasks under an idempotency key: the claim, and what a retry of it finds. */

/** The idempotency claim of a request: its key, and the fingerprint of what it asks. */
export function claimOf(
  key: string | undefined,
  operation: string,
  request: unknown,
): IdempotencyClaim | undefined {
  return key === undefined ? undefined : { key, fingerprint: requestFingerprint(operation, request) };
}

/**
 * A key sent again with a different request is a client bug: refused (409), never answered with
 * the first request's outcome. Claims stored before fingerprints were are taken as the same.
 */
export function checkSameRequest(claimed: IdempotencyClaim | undefined, stored: string | undefined): void {
  if (claimed && stored !== undefined && stored !== claimed.fingerprint) {
    throw new ConflictError(`idempotency-key: ${claimed.key} was already used for a different request`, {
      reason: 'IDEMPOTENCY_KEY_REUSED',
    });
  }
}

/** A request already answered under an idempotency key: its execution and the fingerprint stored. */
export interface Earlier {
  readonly execution: Execution;
  readonly fingerprint?: string;
}

/**
 * A retry may find the agent paused or the conversation handed over since its first request (an
 * emergency stop, an escalation in that very turn): a 409 for a new request, but a request already
 * answered under this key gets its recorded outcome instead.
 */
export async function checkedOrEarlier<T>(
  deps: RuntimeDeps,
  principal: Principal,
  agentId: string,
  claim: IdempotencyClaim | undefined,
  checks: () => Promise<T>,
): Promise<{ checked: T } | { earlier: Earlier }> {
  try {
    return { checked: await checks() };
  } catch (error) {
    if (!claim || !(error instanceof ConflictError)) throw error;
    const earlier = await deps.executions.findByIdempotencyKey(principal.tenantId, agentId, claim.key);
    if (!earlier) throw error;
    return { earlier };
  }
}
