/**
 * Who holds a WebSocket connection, as the `$connect` authorizer proved it. On AWS it comes back
 * with every frame of the connection (the authorizer's context), so each route knows the tenant
 * without a lookup; the connection item keeps it too (and what a visitor's conversation is).
 */
export type ConnectionIdentity =
  | {
      readonly kind: 'user';
      readonly tenantId: string;
      readonly userId: string;
    }
  | {
      /** An anonymous or business-verified customer of the public web chat (`web` channel). */
      readonly kind: 'visitor';
      readonly tenantId: string;
      /** The one agent this visitor talks to (the publishable key's). */
      readonly agentId: string;
      /**
       * The customer's web address: `visitor:<random>` for an anonymous visitor, or the business's
       * own customer id when it signed it with the channel secret (then the customer is the same
       * across channels and visits).
       */
      readonly externalId: string;
      readonly verified: boolean;
    };

export interface StoredConnection {
  readonly connectionId: string;
  readonly identity: ConnectionIdentity;
  readonly connectedAt: string;
  /** Epoch seconds: API Gateway closes a connection after 2 hours; the item goes then too. */
  readonly expiresAt: number;
  /** A visitor's own conversation, once their first message opened it. */
  readonly conversationId?: string;
}

export type SubscriptionTarget =
  | { readonly kind: 'conversation'; readonly id: string }
  | { readonly kind: 'agent'; readonly id: string };

/**
 * Connections and their subscriptions, all under the tenant's own partitions: every read and
 * write happens in the tenant's scope (the authorizer proved the tenant), so none is platform-level.
 */
export interface ConnectionStore {
  put(connection: StoredConnection): Promise<void>;
  get(tenantId: string, connectionId: string): Promise<StoredConnection | undefined>;
  /** Records the visitor's conversation (set once; the first one stays). */
  bindConversation(tenantId: string, connectionId: string, conversationId: string): Promise<void>;
  /** The connection and every subscription it holds. */
  remove(tenantId: string, connectionId: string): Promise<void>;
  subscribe(
    tenantId: string,
    connectionId: string,
    target: SubscriptionTarget,
    expiresAt: number,
  ): Promise<void>;
  unsubscribe(tenantId: string, connectionId: string, target: SubscriptionTarget): Promise<void>;
  /** Connection ids subscribed to any of `targets` (each once). */
  subscribers(tenantId: string, targets: readonly SubscriptionTarget[]): Promise<string[]>;
}

/** Sends one frame to one connection: `gone` when it is closed (API Gateway's 410). */
export interface ConnectionPoster {
  post(connectionId: string, frame: string): Promise<'sent' | 'gone'>;
}

/** Thumbs up/down on an agent's message, stored and counted in the agent's stats. */
export interface AgentFeedback {
  readonly tenantId: string;
  readonly agentId: string;
  readonly conversationId: string;
  readonly messageId: string;
  readonly rating: 'up' | 'down';
  readonly note?: string;
  /** `user:<id>` or `visitor:<externalId>`. */
  readonly by: string;
  readonly at: string;
}

export interface FeedbackStore {
  /**
   * Stores the feedback (one per message and author: giving it again replaces it) and moves the
   * agent's up/down counters by the difference, all at once.
   */
  record(feedback: AgentFeedback): Promise<void>;
}
