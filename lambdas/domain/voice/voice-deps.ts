import type { ChannelDirectory, ChannelRoute } from '../channels/model';
import { channelAddress } from '../channels/model';
import type { RuntimeDeps } from '../runtime/agent-runtime';
import type { RateLimitDeps } from '../runtime/rate-limits';
import type { Principal } from '../shared/principal';
import type { DataScopes } from '../shared/scopes';
import type { VoiceTurnPayload } from './protocol';

/**
 * What the voice use cases need: the same runtime, decision engine and billing as every channel,
 * the channel directory (platform-level), the tenant's turn admission, and a way to go on with a
 * turn after the code hook has answered (the Lambda's own asynchronous invocation on AWS).
 */
export interface VoiceDeps {
  readonly runtime: RuntimeDeps;
  readonly directory: Pick<ChannelDirectory, 'resolve'>;
  readonly scopes: DataScopes;
  readonly turnAdmission: RateLimitDeps;
  readonly continuation: { start(payload: VoiceTurnPayload): Promise<void> };
  readonly timing: VoiceTiming;
  /** Epoch milliseconds. */
  readonly clock: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log?: { warn(message: string, extra: Record<string, unknown>): void };
}

export interface VoiceTiming {
  /** The code hook answers within this (the caller hears a filler after it): ~1.8 s. */
  readonly fastMs: number;
  /** A turn continued asynchronously gives up this long after it started. */
  readonly turnMs: number;
  /** One `await-answer` block waits at most this (Connect's synchronous limit is 8 s). */
  readonly awaitMs: number;
  /** How often `await-answer` reads the turn's record. */
  readonly pollMs: number;
}

export const DEFAULT_VOICE_TIMING: VoiceTiming = {
  fastMs: 1_800,
  turnMs: 25_000,
  awaitMs: 6_500,
  pollMs: 150,
};

/** The agent behind a dialled number, found at platform level (no tenant is known yet). */
export function routeCall(deps: VoiceDeps, dialledNumber: string): Promise<ChannelRoute | undefined> {
  if (!dialledNumber) return Promise.resolve(undefined);
  return deps.scopes.platform(() => deps.directory.resolve('voice', channelAddress('voice', dialledNumber)));
}

/**
 * Who a phone turn acts as: the voice channel with a member's standing (like the messaging
 * channels): anything costlier the agent proposes goes through the decision engine's levels.
 */
export function voicePrincipal(tenantId: string): Principal {
  return {
    userId: 'channel:voice',
    tenantId,
    role: 'member',
    acting: { role: 'member', grants: [{ permission: 'coordinator:notify' }], locationIds: [] },
  };
}

/** The idempotency key of a turn's fast attempt and of its continuation. */
export const turnKey = (turnId: string) => `voice:${turnId}`;
export const continuationKey = (turnId: string) => `voice:${turnId}:late`;

/** The flow's `pendingTurn`: `<contactId>:<turn>@<deadline ms>`, so `await-answer` knows when to give up. */
export function pendingTurnOf(turnId: string, deadline: number): string {
  return `${turnId}@${deadline}`;
}

export function parsePendingTurn(value: string): { turnId: string; deadline: number } | undefined {
  const match = /^([A-Za-z0-9-]{1,100}:\d{1,4})@(\d{10,15})$/.exec(value);
  if (!match) return undefined;
  return { turnId: match[1] as string, deadline: Number(match[2]) };
}
