import * as z from 'zod/mini';
import { lazySchema } from '../shared/zod';

/**
 * Domain events on the platform bus, one zod schema per detail-type. Producers build them with
 * `domainEvent`, which validates the detail, so a malformed event fails where it is made.
 */
export const EVENT_SOURCE = 'agent-platform';

const tokenFields = () => ({
  tenantId: z.string(),
  amount: z.int(),
  /** On compare-and-set entries (credits, fees); costed operations are deltas and carry none. */
  availableAfter: z.optional(z.int()),
  entryId: z.string(),
  entryType: z.string(),
  agentId: z.optional(z.string()),
  action: z.optional(z.string()),
});

const actionFields = () => ({
  tenantId: z.string(),
  agentId: z.string(),
  actionId: z.string(),
  action: z.string(),
});

export const EVENT_DETAILS = {
  'tokens.debited': lazySchema(() => z.object(tokenFields())),
  'tokens.credited': lazySchema(() => z.object(tokenFields())),
  'balance.low': lazySchema(() => z.object({ tenantId: z.string(), available: z.int(), threshold: z.int() })),
  'tenant.suspended': lazySchema(() =>
    z.object({ tenantId: z.string(), reason: z.string(), period: z.optional(z.string()) }),
  ),
  'tenant.reactivated': lazySchema(() => z.object({ tenantId: z.string(), available: z.int() })),
  'action.executed': lazySchema(() => z.object(actionFields())),
  'action.failed': lazySchema(() => z.object({ ...actionFields(), code: z.string() })),
  'approval.requested': lazySchema(() =>
    z.object({
      ...actionFields(),
      approvalId: z.string(),
      level: z.enum(['consultation', 'approval']),
      reason: z.string(),
      expiresAt: z.string(),
    }),
  ),
  'approval.decided': lazySchema(() =>
    z.object({
      ...actionFields(),
      approvalId: z.string(),
      outcome: z.enum(['approved', 'rejected', 'expired', 'cancelled']),
      decidedBy: z.optional(z.string()),
    }),
  ),
  'coordinator.notified': lazySchema(() =>
    z.object({
      tenantId: z.string(),
      subject: z.string(),
      recipients: z.int(),
      agentId: z.optional(z.string()),
      approvalId: z.optional(z.string()),
      conversationId: z.optional(z.string()),
    }),
  ),
  'conversation.handoff': lazySchema(() =>
    z.object({
      tenantId: z.string(),
      conversationId: z.string(),
      agentId: z.string(),
      channel: z.string(),
      /** `user:<userId>` or `agent:<agentId>` (the escalate action). */
      by: z.string(),
      reason: z.optional(z.string()),
      /** Coordinators reached by email. */
      recipients: z.int(),
    }),
  ),
  'conversation.resumed': lazySchema(() =>
    z.object({ tenantId: z.string(), conversationId: z.string(), agentId: z.string(), by: z.string() }),
  ),
  'emergency.stopped': lazySchema(() =>
    z.object({
      tenantId: z.string(),
      agentId: z.optional(z.string()),
      reason: z.string(),
      stoppedBy: z.string(),
      cancelledApprovals: z.int(),
    }),
  ),
} as const;

export type EventType = keyof typeof EVENT_DETAILS;
export type EventDetail<T extends EventType> = z.output<ReturnType<(typeof EVENT_DETAILS)[T]>>;

export interface DomainEvent<T extends EventType = EventType> {
  readonly type: T;
  readonly detail: EventDetail<T>;
  readonly time: string;
}

export function domainEvent<T extends EventType>(
  type: T,
  detail: EventDetail<T>,
  time = new Date(),
): DomainEvent<T> {
  return { type, detail: EVENT_DETAILS[type]().parse(detail) as EventDetail<T>, time: time.toISOString() };
}

/** Publishes to the bus: EventBridge on AWS, an in-process bus in local mode and tests. */
export interface EventPublisher {
  publish(events: readonly DomainEvent[]): Promise<void>;
}
