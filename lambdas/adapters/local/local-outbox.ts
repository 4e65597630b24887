import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import {
  type DeliveryReceipt,
  type EmailPort,
  type MessagingPort,
  type PaymentPort,
  type PaymentReceipt,
  ProviderError,
  type VoicePort,
} from '../../domain/actions/ports';
import { ValidationError } from '../../domain/shared/errors';
import { newId } from '../../domain/shared/ids';
import type { Page, PageRequest } from '../../domain/shared/pagination';
import { lazySchema } from '../../domain/shared/zod';
import { openCursor, signCursor } from '../cursor-codec';

export const OUTBOX_KINDS = [
  'sms',
  'whatsapp',
  'email',
  'call',
  'payment',
  'slack',
  'telegram',
  'messenger',
  'instagram',
] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];

/** What would have been sent (or charged), as the local outbox keeps it. */
export interface OutboxRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly kind: OutboxKind;
  readonly to?: string;
  readonly subject?: string;
  readonly body?: string;
  readonly amountMinor?: number;
  readonly currency?: string;
  readonly description?: string;
  readonly customerId?: string;
  readonly agentId?: string;
  readonly purpose?: string;
  /** Channel replies: the agent's address they were sent from. */
  readonly from?: string;
  /** A WhatsApp template sent instead of free text. */
  readonly contentSid?: string;
  /** Email replies: the message they answer and the thread's chain (RFC 5322 threading headers). */
  readonly inReplyTo?: string;
  readonly references?: string;
  /** Slack replies: the conversation (`channel`) and thread (`thread_ts`) chat.postMessage posts in. */
  readonly slackChannel?: string;
  readonly threadTs?: string;
  /**
   * A provider call that configures rather than sends: Telegram's `setWebhook` (with the URL and
   * the secret token Telegram would send back) or `deleteWebhook`. Local mode shows the secret
   * token here (and only here) so that `npm run message -- telegram` can sign as Telegram would.
   */
  readonly method?: 'setWebhook' | 'deleteWebhook';
  readonly url?: string;
  readonly secretToken?: string;
  readonly createdAt: string;
}

export interface OutboxListRequest extends PageRequest {
  readonly kind?: OutboxKind;
}

export interface LocalOutboxOptions {
  /** Records (and payment idempotency keys) kept per tenant, the newest. */
  readonly maxPerTenant?: number;
  readonly now?: () => Date;
}

type MessagingMessage = Parameters<MessagingPort['send']>[1];
type EmailMessage = Parameters<EmailPort['send']>[1];
type Call = Parameters<VoicePort['placeCall']>[1];
type Payment = Parameters<PaymentPort['charge']>[1];

/** The receipts name the outbox, never a real provider: nothing here left the machine. */
const OUTBOX_PROVIDER = 'outbox';
/**
 * Charges are recorded, no money moves; the name says so wherever a receipt ends up (execution
 * records, audit log), including in live mode, where this is still the only payment provider.
 */
export const LOCAL_PAYMENTS_PROVIDER = 'local-payments';

interface Stored {
  readonly seq: number;
  readonly record: OutboxRecord;
}

interface Charge {
  readonly receipt: PaymentReceipt;
  /** What was charged, to tell a retry (same payment) from a reused key (another payment). */
  readonly fingerprint: string;
}

interface TenantBox {
  /** Oldest first. */
  readonly stored: Stored[];
  nextSeq: number;
  /** Insertion-ordered, so the oldest keys go first when it is full. */
  readonly charges: Map<string, Charge>;
}

const positionSchema = lazySchema(() => z.int());

/** The listing a cursor belongs to: the tenant and the kind filter. */
const listingOf = (tenantId: string, kind: OutboxKind | undefined) =>
  JSON.stringify(['outbox', tenantId, kind]);

/**
 * The stand-in for every outbound provider in local mode and tests: it records what would have
 * been sent (messages, emails, calls) and charged (payments), per tenant, in this process's memory,
 * and lists it back newest first. Bounded: the newest records of each tenant are kept.
 *
 * `failNext` makes the next send of a kind throw, so that tests can drive the executor's failure
 * and retry paths without a real provider.
 */
export class LocalOutbox implements MessagingPort, EmailPort, VoicePort, PaymentPort {
  private readonly maxPerTenant: number;
  private readonly now: () => Date;
  readonly #tenants = new Map<string, TenantBox>();
  readonly #faults = new Map<OutboxKind, unknown[]>();
  /** The records live in this process only, and so do their cursors: a key of its own suffices. */
  readonly #cursorKey = randomBytes(32);

  constructor(options: LocalOutboxOptions = {}) {
    this.maxPerTenant = Math.max(1, options.maxPerTenant ?? 1000);
    this.now = options.now ?? (() => new Date());
  }

  /** Both MessagingPort's and EmailPort's `send`: a message has a `channel`, an email has none. */
  async send(tenantId: string, message: MessagingMessage | EmailMessage): Promise<DeliveryReceipt> {
    if ('channel' in message) {
      this.injectedFault(message.channel);
      const record = this.append(tenantId, { kind: message.channel, to: message.to, body: message.body });
      return { provider: OUTBOX_PROVIDER, providerId: record.id, status: 'recorded' };
    }
    this.injectedFault('email');
    const record = this.append(tenantId, {
      kind: 'email',
      to: message.to,
      subject: message.subject,
      body: message.body,
    });
    return { provider: OUTBOX_PROVIDER, providerId: record.id, status: 'recorded' };
  }

  /** A message on any messaging channel (the inbound pipeline's replies, staff messages). */
  async sendOnChannel(
    tenantId: string,
    message: {
      readonly channel: Extract<
        OutboxKind,
        'sms' | 'whatsapp' | 'email' | 'slack' | 'telegram' | 'messenger' | 'instagram'
      >;
      readonly from: string;
      readonly to: string;
      readonly body: string;
      readonly subject?: string;
      readonly agentId?: string;
      readonly contentSid?: string;
      readonly inReplyTo?: string;
      readonly references?: string;
      readonly slackChannel?: string;
      readonly threadTs?: string;
    },
  ): Promise<DeliveryReceipt> {
    this.injectedFault(message.channel);
    const { channel, ...fields } = message;
    const record = this.append(tenantId, { kind: channel, ...fields });
    return { provider: OUTBOX_PROVIDER, providerId: record.id, status: 'recorded' };
  }

  /** Telegram's `setWebhook` / `deleteWebhook`, as local mode records them instead of calling Telegram. */
  async recordWebhookCall(
    tenantId: string,
    call: {
      readonly kind: 'telegram';
      readonly method: 'setWebhook' | 'deleteWebhook';
      readonly agentId: string;
      readonly url?: string;
      readonly secretToken?: string;
    },
  ): Promise<DeliveryReceipt> {
    this.injectedFault(call.kind);
    const record = this.append(tenantId, call);
    return { provider: OUTBOX_PROVIDER, providerId: record.id, status: 'recorded' };
  }

  async placeCall(tenantId: string, call: Call): Promise<DeliveryReceipt> {
    this.injectedFault('call');
    const record = this.append(tenantId, {
      kind: 'call',
      to: call.to,
      agentId: call.agentId,
      purpose: call.purpose,
      ...(call.from ? { from: call.from } : {}),
    });
    return { provider: OUTBOX_PROVIDER, providerId: record.id, status: 'recorded' };
  }

  /**
   * The local payment provider: records the charge and answers `succeeded` at once (a fault queued
   * with `failNext('payment', …)` fails it instead). The same idempotency key (per tenant) answers
   * the first receipt again and records nothing; reused for a different payment it is refused, as
   * real providers do.
   */
  async charge(tenantId: string, payment: Payment): Promise<PaymentReceipt> {
    this.injectedFault('payment');
    if (!Number.isSafeInteger(payment.amountMinor) || payment.amountMinor <= 0) {
      throw new ProviderError(
        LOCAL_PAYMENTS_PROVIDER,
        false,
        'amount must be a positive whole number of minor units',
        'invalid_amount',
      );
    }
    if (!/^[A-Z]{3}$/.test(payment.currency)) {
      throw new ProviderError(
        LOCAL_PAYMENTS_PROVIDER,
        false,
        'currency must be an ISO 4217 code',
        'invalid_currency',
      );
    }
    const box = this.boxOf(tenantId);
    const fingerprint = JSON.stringify([
      payment.amountMinor,
      payment.currency,
      payment.description,
      payment.customerId ?? null,
    ]);
    const earlier = box.charges.get(payment.idempotencyKey);
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) {
        throw new ProviderError(
          LOCAL_PAYMENTS_PROVIDER,
          false,
          'idempotency key already used for a different payment',
          'idempotency_key_reused',
        );
      }
      return earlier.receipt;
    }
    const record = this.append(tenantId, {
      kind: 'payment',
      amountMinor: payment.amountMinor,
      currency: payment.currency,
      description: payment.description,
      ...(payment.customerId !== undefined ? { customerId: payment.customerId } : {}),
    });
    const receipt: PaymentReceipt = Object.freeze({
      provider: LOCAL_PAYMENTS_PROVIDER,
      providerId: record.id,
      status: 'succeeded' as const,
    });
    box.charges.set(payment.idempotencyKey, { receipt, fingerprint });
    if (box.charges.size > this.maxPerTenant) {
      const oldest = box.charges.keys().next();
      if (!oldest.done) box.charges.delete(oldest.value);
    }
    return receipt;
  }

  /** The tenant's records, newest first; a cursor is valid only for the listing that issued it. */
  list(tenantId: string, request: OutboxListRequest): Page<OutboxRecord> {
    const limit = Math.max(1, Math.floor(request.limit));
    const before =
      request.cursor === undefined ? undefined : this.positionOf(tenantId, request.kind, request.cursor);
    const stored = this.#tenants.get(tenantId)?.stored ?? [];
    const items: OutboxRecord[] = [];
    let last: Stored | undefined;
    let more = false;
    for (let index = stored.length - 1; index >= 0; index--) {
      const entry = stored[index] as Stored;
      if (before !== undefined && entry.seq >= before) continue;
      if (request.kind !== undefined && entry.record.kind !== request.kind) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(entry.record);
      last = entry;
    }
    return more && last
      ? { items, nextCursor: signCursor(this.#cursorKey, listingOf(tenantId, request.kind), last.seq) }
      : { items };
  }

  /**
   * Records carry a per-tenant sequence, so a cursor keeps its place even when older records are
   * evicted meanwhile (ids are ULIDs, which do not order records created in the same millisecond).
   */
  private positionOf(tenantId: string, kind: OutboxKind | undefined, cursor: string): number {
    const parsed = positionSchema().safeParse(openCursor(this.#cursorKey, listingOf(tenantId, kind), cursor));
    if (!parsed.success)
      throw ValidationError.forField('query.cursor', 'is not a cursor returned by this listing');
    return parsed.data;
  }

  /**
   * The next send of `kind` throws `error` (and records nothing); calls queue, so that
   * `failNext('sms', e)` twice fails the next two.
   */
  failNext(kind: OutboxKind, error: unknown): void {
    const queue = this.#faults.get(kind) ?? [];
    queue.push(error);
    this.#faults.set(kind, queue);
  }

  /** Forgets every record, charge and pending fault (between tests). */
  clear(): void {
    this.#tenants.clear();
    this.#faults.clear();
  }

  private injectedFault(kind: OutboxKind): void {
    const queue = this.#faults.get(kind);
    if (!queue || queue.length === 0) return;
    const error = queue.shift();
    if (queue.length === 0) this.#faults.delete(kind);
    throw error;
  }

  private append(
    tenantId: string,
    fields: Omit<OutboxRecord, 'id' | 'tenantId' | 'createdAt'>,
  ): OutboxRecord {
    const box = this.boxOf(tenantId);
    const record: OutboxRecord = Object.freeze({
      id: newId('outbox'),
      tenantId,
      ...fields,
      createdAt: this.now().toISOString(),
    });
    box.stored.push({ seq: box.nextSeq++, record });
    if (box.stored.length > this.maxPerTenant) box.stored.splice(0, box.stored.length - this.maxPerTenant);
    return record;
  }

  private boxOf(tenantId: string): TenantBox {
    let box = this.#tenants.get(tenantId);
    if (!box) {
      box = { stored: [], nextSeq: 1, charges: new Map() };
      this.#tenants.set(tenantId, box);
    }
    return box;
  }
}

/**
 * The one outbox of this process: local mode's senders write to it and its API reads it. Memory
 * only, so it starts empty with every process.
 */
export const localOutbox = new LocalOutbox();
