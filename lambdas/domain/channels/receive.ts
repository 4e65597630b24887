import { AppError, messageOf } from '../shared/errors';
import {
  type ChannelDirectory,
  type ChannelRoute,
  type ChannelSecrets,
  channelAddress,
  type InboundMessage,
  type MessagingChannel,
} from './model';

/**
 * The one inbound pipeline, first half: what every provider webhook does with a delivery.
 * Route by the agent's address (platform-level), read the channel's secrets (in the tenant's
 * scope), check the provider's proof with them, drop what was already received, queue the rest
 * (message group = conversation) and answer the provider at once. The worker
 * (`respond.ts`) runs the turns.
 */

/** Checks a provider's proof (signature, secret token) with the channel's secrets. */
export type VerifyResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * One webhook delivery as a provider adapter parsed it, before anything is trusted. The adapter
 * is pure: it reads the payload (for the routing key and the messages) and checks the proof;
 * the pipeline decides what is stored.
 */
export interface InboundDelivery {
  /** The routing key, read from the (unverified) payload. */
  readonly channel: MessagingChannel;
  /** The agent's address as the provider names it; normalised by the pipeline (`channelAddress`). */
  readonly agentAddress: string;
  /** The provider's proof checked with the channel's secrets. `reason` is logged, never answered. */
  verify(secrets: Readonly<Record<string, string>>): VerifyResult | Promise<VerifyResult>;
  /** The customer messages carried (none for a bot's own message, a typing notice, ...). */
  readonly messages: readonly InboundMessage[];
}

/** A message waiting for its turn: what the queue carries, strings only. */
export interface QueuedInbound {
  readonly tenantId: string;
  readonly agentId: string;
  readonly message: InboundMessage;
  /** When the pipeline received it (ISO 8601). */
  readonly receivedAt: string;
}

/** Platform-level: `INBOUND#<channel>#<providerMessageId>` / `DEDUP`, TTL 7 days, conditional put. */
export interface InboundDedup {
  /** True the first time (channel, providerMessageId) is claimed; false for a redelivery. */
  claim(channel: MessagingChannel, providerMessageId: string, expiresAt: number): Promise<boolean>;
  /** Frees a claim whose message could not be queued, so the provider's retry is not dropped. */
  release(channel: MessagingChannel, providerMessageId: string): Promise<void>;
}

/**
 * SQS FIFO on AWS (message group = `conversationGroup`, deduplication id = channel + provider id);
 * in local mode an in-process queue that runs each group's messages one after the other.
 */
export interface InboundQueue {
  enqueue(item: QueuedInbound): Promise<void>;
}

export interface ReceiveDeps {
  /** Platform-level lookups (directory, dedup) run outside any tenant scope. */
  readonly directory: Pick<ChannelDirectory, 'resolve'>;
  readonly dedup: InboundDedup;
  /** Read inside `inTenantScope(route.tenantId, …)`: the composition passes the scope in. */
  readonly secrets: Pick<ChannelSecrets, 'get'>;
  readonly queue: InboundQueue;
  /** Runs `work` with `tenantId`'s credentials (composition/tenant-scope.ts `inTenantScope`). */
  readonly inTenantScope: <T>(tenantId: string, work: () => Promise<T>) => Promise<T>;
  readonly now: () => Date;
  readonly log: { warn(message: string, extra: Record<string, unknown>): void };
}

export interface ReceiveOutcome {
  readonly route: ChannelRoute;
  /** Messages queued for a turn. */
  readonly queued: number;
  /** Messages already received before (a redelivery): dropped. */
  readonly duplicates: number;
}

/** Dedup claims outlive any provider's redelivery schedule. */
export const DEDUP_TTL_SECONDS = 7 * 24 * 60 * 60;

/** Unknown address: 404, nothing stored; the body does not say what exists. */
export class UnknownChannelAddressError extends AppError {
  constructor(channel: MessagingChannel) {
    super(404, 'UNKNOWN_ADDRESS', `No agent answers this ${channel} address`);
  }
}

/** The provider's proof failed: 403, nothing stored. The reason goes to the log only. */
export class WebhookProofError extends AppError {
  constructor(channel: MessagingChannel) {
    super(403, 'INVALID_SIGNATURE', `The ${channel} webhook's signature is missing or not valid`);
  }
}

/**
 * The message group of a conversation: its messages run in order, other conversations in
 * parallel. Tenant, agent, channel and customer, hashed by the queue adapter if it must.
 */
export function conversationGroup(item: Pick<QueuedInbound, 'tenantId' | 'agentId' | 'message'>): string {
  return [item.tenantId, item.agentId, item.message.channel, item.message.customerAddress].join('|');
}

/** The route of a delivery, or the 404. Platform-level: call it outside any tenant scope. */
export async function routeOf(
  deps: Pick<ReceiveDeps, 'directory' | 'log'>,
  channel: MessagingChannel,
  rawAddress: string,
): Promise<ChannelRoute> {
  const address = channelAddress(channel, rawAddress);
  const route = address ? await deps.directory.resolve(channel, address) : undefined;
  if (!route) {
    deps.log.warn('Inbound webhook refused: unknown address', { channel });
    throw new UnknownChannelAddressError(channel);
  }
  return route;
}

/**
 * The channel's secrets (tenant scope) checked against the delivery's proof; 403 when there are
 * none or the proof fails.
 */
export async function verifiedSecrets(
  deps: Pick<ReceiveDeps, 'secrets' | 'inTenantScope' | 'log'>,
  route: ChannelRoute,
  verify: InboundDelivery['verify'],
): Promise<Readonly<Record<string, string>>> {
  const channel = route.channel as MessagingChannel;
  const secrets = await deps.inTenantScope(route.tenantId, () =>
    deps.secrets.get(route.tenantId, route.agentId, route.channel),
  );
  if (!secrets) {
    deps.log.warn('Inbound webhook refused: the channel has no credentials', {
      channel,
      tenantId: route.tenantId,
      agentId: route.agentId,
    });
    throw new WebhookProofError(channel);
  }
  const verdict = await verify(secrets);
  if (!verdict.ok) {
    deps.log.warn('Inbound webhook refused: proof failed', {
      channel,
      tenantId: route.tenantId,
      agentId: route.agentId,
      reason: verdict.reason,
    });
    throw new WebhookProofError(channel);
  }
  return secrets;
}

/**
 * The whole first half for one delivery: route → secrets → proof → dedup → queue. Messages are
 * queued in the order the delivery lists them. A message that cannot be queued frees its dedup
 * claim and fails the webhook (5xx), so the provider's retry gets it through.
 */
export async function receive(deps: ReceiveDeps, delivery: InboundDelivery): Promise<ReceiveOutcome> {
  const route = await routeOf(deps, delivery.channel, delivery.agentAddress);
  await verifiedSecrets(deps, route, (secrets) => delivery.verify(secrets));
  const receivedAt = deps.now();
  const expiresAt = Math.floor(receivedAt.getTime() / 1000) + DEDUP_TTL_SECONDS;
  let queued = 0;
  let duplicates = 0;
  for (const message of delivery.messages) {
    if (!(await deps.dedup.claim(message.channel, message.providerMessageId, expiresAt))) {
      duplicates++;
      continue;
    }
    try {
      await deps.queue.enqueue({
        tenantId: route.tenantId,
        agentId: route.agentId,
        message,
        receivedAt: receivedAt.toISOString(),
      });
      queued++;
    } catch (error) {
      await deps.dedup.release(message.channel, message.providerMessageId).catch((releaseError) =>
        deps.log.warn('Could not release a dedup claim', {
          channel: message.channel,
          error: messageOf(releaseError),
        }),
      );
      throw error;
    }
  }
  return { route, queued, duplicates };
}
