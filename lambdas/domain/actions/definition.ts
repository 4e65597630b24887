import type * as z from 'zod/mini';
import type { Agent } from '../agents/schemas';
import type { CostedAction } from '../billing/ports';
import type { ConversationRepository } from '../conversations/conversations';
import type { EventPublisher } from '../events/events';
import type { TurnEventSink } from '../runtime/turn-events';
import type { ActionPermission } from '../tenants/rbac';
import type { ActionCategory, ActionName, DecisionLevel } from './model';
import type {
  BookingRepository,
  EmailPort,
  MessagingPort,
  PaymentPort,
  ResourceRepository,
  VoicePort,
} from './ports';

/** Tells the tenant's coordinators (and admins) something needs a person: by email and an event. */
export interface CoordinatorNotifier {
  notify(
    tenantId: string,
    message: {
      readonly subject: string;
      readonly body: string;
      readonly locationId?: string;
      readonly agentId?: string;
      readonly approvalId?: string;
      readonly conversationId?: string;
    },
  ): Promise<{ readonly recipients: number }>;
}

/** Everything an executor may reach; each a port, so executors run the same everywhere. */
export interface ActionPorts {
  readonly messaging: MessagingPort;
  readonly email: EmailPort;
  readonly voice: VoicePort;
  readonly payments: PaymentPort;
  readonly resources: ResourceRepository;
  readonly bookings: BookingRepository;
  readonly conversations: Pick<ConversationRepository, 'get' | 'setStatus'>;
  readonly coordinators: CoordinatorNotifier;
  readonly events: EventPublisher;
  /** Watchers of the conversation (the `escalate` handoff tells them). */
  readonly turnEvents?: TurnEventSink;
  /** Customers who sent STOP on a channel: `send_sms` / `send_whatsapp` refuse to reach them there. */
  readonly optOuts?: {
    isOptedOut(tenantId: string, channel: 'sms' | 'whatsapp', phone: string): Promise<boolean>;
  };
}

export interface ActionContext {
  readonly tenantId: string;
  readonly agent: Agent;
  readonly actionId: string;
  /** The user the agent acts for. */
  readonly actorUserId: string;
  readonly locationId?: string;
  readonly customerId?: string;
  readonly conversationId?: string;
  readonly now: () => Date;
  readonly ports: ActionPorts;
}

/**
 * One entry of the action registry. `input` is the zod schema of the parameters; its JSON Schema
 * (generated at build time, `npm run generate:tool-schemas`) is what the model is given.
 */
export interface ActionDefinition {
  readonly name: ActionName;
  readonly category: ActionCategory;
  readonly description: string;
  readonly input: () => z.ZodMiniType<Record<string, unknown>>;
  /** The acting user must hold it (at the action's location, if any). */
  readonly permission: ActionPermission;
  /** Its price in the environment's cost table; 0 there means the action reserves nothing. */
  readonly cost: CostedAction;
  readonly defaultLevel: DecisionLevel;
  /** The location the (validated) parameters tie the action to, if they name one. */
  readonly locationOf?: (params: Record<string, unknown>) => string | undefined;
  /**
   * Does it. Returns a small, secret-free result for the record and the model. Throws
   * `ProviderError` for provider failures (retryable or not) and `AppError`s for refusals
   * (e.g. ConflictError: the slot is taken).
   */
  readonly execute: (params: never, context: ActionContext) => Promise<Record<string, unknown>>;
}
