import { AppError, withoutInfrastructure } from '../shared/errors';
import type { Page, PageRequest } from '../shared/pagination';

/**
 * The outside world an action reaches, as ports. Adapters: Twilio (SMS, WhatsApp), SES (email),
 * Amazon Connect (calls), a payment provider; in local mode and tests the local outbox stands in
 * for all of them and records what would have been sent.
 */

export type MessagingChannel = 'sms' | 'whatsapp';

export interface DeliveryReceipt {
  /** Which adapter delivered it: `twilio`, `ses`, `connect`, `outbox`, `local-payments`, ... */
  readonly provider: string;
  /** The provider's own id (Twilio SID, SES MessageId, Connect ContactId, ...). */
  readonly providerId: string;
  readonly status: string;
}

export interface MessagingPort {
  send(
    tenantId: string,
    message: { readonly channel: MessagingChannel; readonly to: string; readonly body: string },
  ): Promise<DeliveryReceipt>;
}

export interface EmailPort {
  send(
    tenantId: string,
    email: { readonly to: string; readonly subject: string; readonly body: string },
  ): Promise<DeliveryReceipt>;
}

export interface VoicePort {
  /** Starts an outbound call that the agent's contact flow handles. */
  placeCall(
    tenantId: string,
    call: {
      readonly agentId: string;
      readonly to: string;
      readonly purpose: string;
      /** The agent's own number (its voice channel), so the call runs as the agent's: it is the caller id. */
      readonly from?: string;
    },
  ): Promise<DeliveryReceipt>;
}

/**
 * What a payment provider made of a charge. `succeeded`: the money is taken; `pending`: the
 * customer still has to act (e.g. a Stripe PaymentIntent awaiting a card or 3-D Secure; the
 * provider's webhook says how it ends); `failed`: declined, nothing taken.
 */
export interface PaymentReceipt extends DeliveryReceipt {
  readonly status: 'succeeded' | 'pending' | 'failed';
  /**
   * For `pending`: what the customer's browser needs to finish paying (Stripe's `client_secret`).
   * Given to the caller once, never stored or logged.
   */
  readonly clientSecret?: string;
  /**
   * For `pending` from `checkout`: the provider's hosted payment page to send the buyer to
   * (Stripe Checkout). Given to the caller once, never stored.
   */
  readonly checkoutUrl?: string;
  /** For `failed`: the provider's reason, safe to show. */
  readonly failureReason?: string;
}

/**
 * The payment-provider port. It serves both token purchases (the tenant pays the platform) and
 * the `take_payment` action (a tenant's customer pays the tenant); each is wired to its own
 * account. Adapters: the local provider (lambdas/adapters/local, local mode and tests) and
 * Stripe (lambdas/adapters/stripe).
 */
export interface PaymentPort {
  /** `idempotencyKey` makes a retried charge charge once. Amount in minor units (cents). */
  charge(
    tenantId: string,
    payment: {
      readonly amountMinor: number;
      readonly currency: string;
      readonly description: string;
      readonly customerId?: string;
      readonly idempotencyKey: string;
      /** Carried to the provider and back in its webhook (e.g. the purchase id). */
      readonly metadata?: Readonly<Record<string, string>>;
    },
  ): Promise<PaymentReceipt>;
  /**
   * Optional: the payment on the provider's own hosted page (Stripe Checkout), for a buyer who is
   * at a browser. `pending` with `checkoutUrl`; the buyer comes back to `successUrl` or
   * `cancelUrl`, and the provider's webhook says how it ended. A provider without one (the local
   * provider) is charged with `charge` instead. Only token purchases use it, never `take_payment`.
   */
  checkout?(
    tenantId: string,
    payment: Parameters<PaymentPort['charge']>[1] & {
      readonly successUrl: string;
      readonly cancelUrl: string;
      /** What the buyer sees on the page, e.g. "1000 agent tokens". */
      readonly productName: string;
      /** Our own reference for the payment (the purchase id), shown back by the provider. */
      readonly reference: string;
    },
  ): Promise<PaymentReceipt>;
}

/**
 * A provider refused or failed. `retryable`: throttling, 5xx, timeouts (worth another attempt);
 * not: bad number, unverified sender, bad credentials. `message` is safe to show and never
 * carries credentials.
 */
export class ProviderError extends AppError {
  constructor(
    readonly provider: string,
    readonly retryable: boolean,
    message: string,
    readonly providerCode?: string,
  ) {
    super(
      502,
      retryable ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_REJECTED',
      withoutInfrastructure(`${provider}: ${message}`),
      {
        provider,
        retryable,
        ...(providerCode ? { providerCode } : {}),
      },
    );
  }
}

/** Per-tenant provider credentials (Secrets Manager on AWS); undefined when the tenant has none. */
export interface CredentialsPort {
  get<T extends Record<string, string>>(tenantId: string, provider: string): Promise<T | undefined>;
}

// ---------------------------------------------------------------------------------------------
// Tenant resource records and bookings, which actions create, read, update and delete.

export interface ResourceRecord {
  readonly id: string;
  readonly tenantId: string;
  /** Tenant-defined collection, e.g. `orders`, `tickets`. */
  readonly collection: string;
  readonly data: Record<string, unknown>;
  readonly locationId?: string;
  readonly version: number;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ResourceRepository {
  create(record: ResourceRecord): Promise<void>;
  get(tenantId: string, collection: string, id: string): Promise<ResourceRecord | undefined>;
  /** Replaces `data` only if the stored version is `expectedVersion` (ConflictError otherwise). */
  update(
    tenantId: string,
    collection: string,
    id: string,
    data: Record<string, unknown>,
    expectedVersion: number,
    at: string,
  ): Promise<ResourceRecord>;
  /** NotFoundError when absent. */
  delete(tenantId: string, collection: string, id: string): Promise<void>;
  list(tenantId: string, collection: string, page: PageRequest): Promise<Page<ResourceRecord>>;
}

export interface Booking {
  readonly id: string;
  readonly tenantId: string;
  readonly agentId: string;
  /** ISO instant the appointment starts. */
  readonly start: string;
  readonly durationMinutes: number;
  readonly service: string;
  readonly customerId?: string;
  readonly locationId?: string;
  readonly createdBy: string;
  readonly createdAt: string;
}

export interface BookingRepository {
  /**
   * Books the slot(s) the appointment covers, atomically: ConflictError when any slot of the
   * same agent (and location) is already taken. Slots are 15-minute grains.
   */
  book(booking: Booking): Promise<void>;
  /** Bookings of the agent overlapping [from, to). */
  listBetween(tenantId: string, agentId: string, from: string, to: string): Promise<Booking[]>;
}
