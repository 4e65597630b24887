import * as z from 'zod/mini';
import type { Agent } from '../agents/schemas';
import { handOffConversation } from '../conversations/handoff';
import type { ToolSpec } from '../runtime/model';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { idSchema, newId } from '../shared/ids';
import { e164Phone, lazySchema, storableNumber, storableRecord, text } from '../shared/zod';
import ACTION_INPUT_SCHEMAS from './action-input-schemas.json';
import type { ActionContext, ActionDefinition } from './definition';
import { ACTION_NAMES, type ActionName } from './model';
import { type DeliveryReceipt, ProviderError } from './ports';

/**
 * The action registry (DESIGN §3.5): every action an agent may propose, with its parameter
 * schema, price, permission and default decision level, and the executor that carries it out
 * once the decision engine has let it through. Executors reach the world only through
 * `ActionContext.ports`, return small secret-free results and let `ProviderError`s propagate
 * unchanged (the engine decides what a failure means for the record and the tokens).
 *
 * Parameter names follow what models (and the scripted stand-in) naturally write: `to`, `body`,
 * `subject`, `purpose`, `start`, `service`, `amount`, `currency`, `description`, `reason`.
 *
 * Default levels, from least to most human involvement, and why:
 * - messages to customers (`send_*`): `automatic` — answering customers is the agent's job; the
 *   per-turn action cap and the tenant's policy bound a spree.
 * - `place_call`: `suggestion` — a call interrupts someone in real time and costs the most tokens
 *   of the messages, so the user confirms it first.
 * - resource reads and writes: `automatic` — records are versioned and a write can be undone by
 *   another; `delete_resource`: `consultation` — a deletion cannot, so a coordinator is asked.
 * - `book_appointment`: `automatic` — the executor checks availability, and a booking is cheap to
 *   cancel.
 * - `take_payment`: `approval` — money moves and cannot be taken back by the agent.
 * - coordination (`notify_coordinator`, `escalate`): `automatic` — they ask for a person; making
 *   them wait for one would defeat them. `request_approval`: `approval`, which is its point.
 */

type Params = Record<string, unknown>;

function define<S extends z.ZodMiniType<Params>>(action: {
  name: ActionName;
  category: ActionDefinition['category'];
  description: string;
  input: () => S;
  permission: ActionDefinition['permission'];
  cost: ActionDefinition['cost'];
  defaultLevel: ActionDefinition['defaultLevel'];
  locationOf?: (params: Params) => string | undefined;
  execute: (params: z.output<S>, context: ActionContext) => Promise<Params>;
}): ActionDefinition {
  return action as unknown as ActionDefinition;
}

/** What a provider said, without anything else it may have returned. */
function receipt(delivered: DeliveryReceipt): Params {
  return { provider: delivered.provider, providerId: delivered.providerId, status: delivered.status };
}

const locationIdParam = () => z.optional(idSchema('location'));
const locationIdOf = (params: Params): string | undefined =>
  typeof params.locationId === 'string' ? params.locationId : undefined;

// ── Parameter schemas ─────────────────────────────────────────────────────────────────────────

const messageInput = lazySchema(() =>
  z.strictObject({
    to: e164Phone(),
    // 1600 characters: Twilio's limit for one (concatenated) SMS or WhatsApp message.
    body: text(1, 1600),
  }),
);

const emailInput = lazySchema(() =>
  z.strictObject({
    to: z.email().check(z.maxLength(254)),
    subject: text(1, 200),
    body: text(1, 10_000),
  }),
);

const callInput = lazySchema(() => z.strictObject({ to: e164Phone(), purpose: text(1, 500) }));

/** Tenant-defined collection names, e.g. `orders`, `tickets`: they become parts of storage keys. */
const collectionParam = () =>
  z
    .string()
    .check(
      z.regex(
        /^[a-z][a-z0-9_-]{0,62}$/,
        'must be 1-63 lower-case letters, digits, dashes or underscores, starting with a letter',
      ),
    );
const recordIdParam = () =>
  z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, dashes or underscores'));
/** A record's data: a JSON object of at most 16 KB, so a record stays one small item. */
const RECORD_DATA_MAX_CHARS = 16_384;
const recordDataParam = () => storableRecord({ maxChars: RECORD_DATA_MAX_CHARS });

const createResourceInput = lazySchema(() =>
  z.strictObject({ collection: collectionParam(), data: recordDataParam(), locationId: locationIdParam() }),
);
const resourceRefInput = lazySchema(() =>
  z.strictObject({ collection: collectionParam(), id: recordIdParam() }),
);
const updateResourceInput = lazySchema(() =>
  z.strictObject({
    collection: collectionParam(),
    id: recordIdParam(),
    data: recordDataParam(),
    /** The version read; absent: the current one (the update still fails if it changes meanwhile). */
    expectedVersion: z.optional(z.int().check(z.gte(1))),
  }),
);

const bookingInput = lazySchema(() =>
  z.strictObject({
    /** ISO 8601; without an offset it is read as UTC (business hours carry no time zone either). */
    start: z.iso
      .datetime({ offset: true, local: true })
      .check(
        z.refine(
          (start) => isQuarterHour(instantOf(start)),
          'must start on a quarter hour (:00, :15, :30 or :45)',
        ),
      ),
    durationMinutes: z._default(z.int().check(z.gte(15), z.lte(240), z.multipleOf(15)), 30),
    service: text(1, 200),
    locationId: locationIdParam(),
  }),
);

const paymentInput = lazySchema(() =>
  z.strictObject({
    /** Major units (49.99), at most two decimals. */
    amount: storableNumber().check(z.gt(0), z.lte(1_000_000), z.multipleOf(0.01)),
    currency: z.string().check(z.regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')),
    description: text(1, 500),
  }),
);

const notifyInput = lazySchema(() => z.strictObject({ subject: text(1, 200), message: text(1, 4000) }));
const escalateInput = lazySchema(() => z.strictObject({ reason: text(1, 500) }));
const approvalRequestInput = lazySchema(() =>
  z.strictObject({ summary: text(1, 500), details: z.optional(text(1, 4000)) }),
);

// ── Bookings ──────────────────────────────────────────────────────────────────────────────────

/** A datetime as written; without an offset it is UTC. */
function instantOf(start: string): Date {
  return new Date(/(?:Z|[+-]\d{2}:\d{2})$/i.test(start) ? start : `${start}Z`);
}

function isQuarterHour(instant: Date): boolean {
  return instant.getTime() % (15 * 60_000) === 0;
}

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

function minutesOf(clock: string): number {
  const [hours, minutes] = clock.split(':').map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

/**
 * Why the agent's business hours exclude [start, start + duration), or undefined when they allow
 * it (or the agent has none). Hours are read in UTC: the business profile names no time zone.
 * A closing time at or before the opening one runs past midnight ("22:00"–"02:00").
 */
function outsideHours(agent: Agent, start: Date, durationMinutes: number): string | undefined {
  const hours = agent.businessProfile?.hours ?? [];
  if (hours.length === 0) return undefined;
  const day = WEEKDAYS[start.getUTCDay()];
  const from = start.getUTCHours() * 60 + start.getUTCMinutes();
  const to = from + durationMinutes;
  const today = hours.filter((h) => h.day === day);
  const fits = today.some((h) => {
    const opens = minutesOf(h.opens);
    const closes = minutesOf(h.closes) <= opens ? minutesOf(h.closes) + 24 * 60 : minutesOf(h.closes);
    return opens <= from && to <= closes;
  });
  if (fits) return undefined;
  const open = today.map((h) => `${h.opens}-${h.closes}`).join(', ');
  return open === ''
    ? `the business is closed on ${day}`
    : `${durationMinutes} minutes from ${clockOf(from)} UTC is outside the ${day} hours (${open})`;
}

function clockOf(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function unavailable(reason: string, code: string): ConflictError {
  return new ConflictError(`Slot not available: ${reason}`, { reason: code });
}

// ── Payments ──────────────────────────────────────────────────────────────────────────────────

/** Digits of the currency's minor unit (JPY 0, USD 2, KWD 3), from ICU's ISO 4217 data. */
function minorDigits(currency: string): number {
  try {
    return (
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
      2
    );
  } catch {
    return 2;
  }
}

function toMinorUnits(amount: number, currency: string): number {
  const digits = minorDigits(currency);
  const minor = Math.round(amount * 10 ** digits);
  // 10.5 JPY cannot be charged: rounding it silently would charge another amount.
  if (Math.abs(minor - amount * 10 ** digits) > 1e-6) {
    throw ValidationError.forField('amount', `${currency} has ${digits} decimals; ${amount} has more`);
  }
  return minor;
}

/** A customer who sent STOP on a channel is never messaged there again until START. */
async function refuseOptedOut(
  ports: ActionContext['ports'],
  tenantId: string,
  channel: 'sms' | 'whatsapp',
  to: string,
): Promise<void> {
  if (ports.optOuts && (await ports.optOuts.isOptedOut(tenantId, channel, to))) {
    throw new ProviderError(
      'opt-out',
      false,
      `the customer at this number opted out of ${channel} (STOP); nothing is sent there until they reply START`,
    );
  }
}

// ── The registry ──────────────────────────────────────────────────────────────────────────────

const ACTIONS: readonly ActionDefinition[] = [
  define({
    name: 'send_sms',
    category: 'communication',
    description: 'Send an SMS to a phone number (E.164, e.g. +15551234567).',
    input: messageInput,
    permission: 'sms:send',
    cost: 'sms',
    defaultLevel: 'automatic',
    execute: async ({ to, body }, { tenantId, ports }) => {
      await refuseOptedOut(ports, tenantId, 'sms', to);
      return receipt(await ports.messaging.send(tenantId, { channel: 'sms', to, body }));
    },
  }),
  define({
    name: 'send_whatsapp',
    category: 'communication',
    description: 'Send a WhatsApp message to a phone number (E.164, e.g. +15551234567).',
    input: messageInput,
    permission: 'whatsapp:send',
    cost: 'whatsappConversation',
    defaultLevel: 'automatic',
    execute: async ({ to, body }, { tenantId, ports }) => {
      await refuseOptedOut(ports, tenantId, 'whatsapp', to);
      return receipt(await ports.messaging.send(tenantId, { channel: 'whatsapp', to, body }));
    },
  }),
  define({
    name: 'send_email',
    category: 'communication',
    description: 'Send an email with a subject and a plain-text body.',
    input: emailInput,
    permission: 'email:send',
    cost: 'email',
    defaultLevel: 'automatic',
    execute: async ({ to, subject, body }, { tenantId, ports }) =>
      receipt(await ports.email.send(tenantId, { to, subject, body })),
  }),
  define({
    name: 'place_call',
    category: 'communication',
    description: "Place an outbound phone call, handled by this agent's voice flow, for a stated purpose.",
    input: callInput,
    permission: 'call:make',
    cost: 'call',
    defaultLevel: 'suggestion',
    execute: async ({ to, purpose }, { tenantId, agent, ports }) => {
      // From the agent's own number when it has one: the contact flow routes the call to the agent
      // like one it answers, and the agent opens with the purpose.
      const from = agent.channels.find((c) => c.type === 'voice' && c.enabled)?.address;
      return receipt(
        await ports.voice.placeCall(tenantId, { agentId: agent.id, to, purpose, ...(from ? { from } : {}) }),
      );
    },
  }),
  define({
    name: 'create_resource',
    category: 'resource',
    description: 'Create a record (a JSON object) in one of the business’s collections, e.g. orders.',
    input: createResourceInput,
    permission: 'resource:write',
    cost: 'resource',
    defaultLevel: 'automatic',
    locationOf: locationIdOf,
    execute: async ({ collection, data, locationId }, context) => {
      const at = context.now().toISOString();
      const where = locationId ?? context.locationId;
      const record = {
        id: newId('resource'),
        tenantId: context.tenantId,
        collection,
        data,
        ...(where ? { locationId: where } : {}),
        version: 1,
        createdBy: context.actorUserId,
        createdAt: at,
        updatedAt: at,
      };
      await context.ports.resources.create(record);
      return { collection, id: record.id, version: record.version };
    },
  }),
  define({
    name: 'read_resource',
    category: 'resource',
    description: 'Read a record of one of the business’s collections by id.',
    input: resourceRefInput,
    permission: 'resource:read',
    cost: 'resource',
    defaultLevel: 'automatic',
    execute: async ({ collection, id }, context) => {
      const record = await visibleRecord(context, collection, id);
      return { collection, id, version: record.version, data: record.data, updatedAt: record.updatedAt };
    },
  }),
  define({
    name: 'update_resource',
    category: 'resource',
    description:
      'Replace the data of a record; pass expectedVersion (from read_resource) to refuse if it changed.',
    input: updateResourceInput,
    permission: 'resource:write',
    cost: 'resource',
    defaultLevel: 'automatic',
    execute: async ({ collection, id, data, expectedVersion }, context) => {
      const current = await visibleRecord(context, collection, id);
      const updated = await context.ports.resources.update(
        context.tenantId,
        collection,
        id,
        data,
        expectedVersion ?? current.version,
        context.now().toISOString(),
      );
      return { collection, id, version: updated.version };
    },
  }),
  define({
    name: 'delete_resource',
    category: 'resource',
    description: 'Delete a record of one of the business’s collections by id.',
    input: resourceRefInput,
    permission: 'resource:write',
    cost: 'resource',
    defaultLevel: 'consultation',
    execute: async ({ collection, id }, context) => {
      await visibleRecord(context, collection, id);
      await context.ports.resources.delete(context.tenantId, collection, id);
      return { collection, id, deleted: true };
    },
  }),
  // `resource`, not `external_service`: a booking is a record in the platform's own calendar
  // (BookingRepository) — no provider is called and no money moves — so a tenant's rule for
  // resource writes covers it too.
  define({
    name: 'book_appointment',
    category: 'resource',
    description:
      'Book an appointment: start (ISO 8601 date-time, on a quarter hour), durationMinutes (15-240, default 30), service.',
    input: bookingInput,
    permission: 'booking:create',
    cost: 'booking',
    defaultLevel: 'automatic',
    locationOf: locationIdOf,
    execute: async ({ start, durationMinutes, service, locationId }, context) => {
      const begins = instantOf(start);
      const ends = new Date(begins.getTime() + durationMinutes * 60_000);
      const now = context.now();
      if (begins.getTime() <= now.getTime()) {
        throw unavailable(`${begins.toISOString()} is not in the future`, 'in_past');
      }
      const closed = outsideHours(context.agent, begins, durationMinutes);
      if (closed) throw unavailable(closed, 'outside_hours');
      const where = locationId ?? context.locationId;
      const taken = await context.ports.bookings.listBetween(
        context.tenantId,
        context.agent.id,
        begins.toISOString(),
        ends.toISOString(),
      );
      // The calendar is per agent and location: a booking elsewhere does not take this slot.
      const clash = taken.find((booking) => booking.locationId === where);
      if (clash) {
        throw unavailable(
          `${begins.toISOString()} overlaps another ${clash.service} booking from ${clash.start}`,
          'slot_taken',
        );
      }
      const booking = {
        id: newId('booking'),
        tenantId: context.tenantId,
        agentId: context.agent.id,
        start: begins.toISOString(),
        durationMinutes,
        service,
        ...(context.customerId ? { customerId: context.customerId } : {}),
        ...(where ? { locationId: where } : {}),
        createdBy: context.actorUserId,
        createdAt: now.toISOString(),
      };
      try {
        await context.ports.bookings.book(booking);
      } catch (error) {
        // Someone took the slot between the check and the booking.
        if (error instanceof ConflictError) {
          throw unavailable(`${booking.start} was just taken`, 'slot_taken');
        }
        throw error;
      }
      return {
        bookingId: booking.id,
        start: booking.start,
        end: ends.toISOString(),
        durationMinutes,
        service,
        status: 'booked',
      };
    },
  }),
  define({
    name: 'take_payment',
    category: 'external_service',
    description:
      'Charge the customer through the payment provider: amount in major units (49.99), ISO 4217 currency, description.',
    input: paymentInput,
    permission: 'payment:process',
    cost: 'payment',
    defaultLevel: 'approval',
    execute: async ({ amount, currency, description }, context) => {
      const charged = await context.ports.payments.charge(context.tenantId, {
        amountMinor: toMinorUnits(amount, currency),
        currency,
        description,
        ...(context.customerId ? { customerId: context.customerId } : {}),
        // The action id: a retried or replayed execution charges once.
        idempotencyKey: context.actionId,
      });
      return { ...receipt(charged), amount, currency };
    },
  }),
  define({
    name: 'notify_coordinator',
    category: 'coordination',
    description: "Tell the business's coordinators something that needs a person's attention.",
    input: notifyInput,
    permission: 'coordinator:notify',
    cost: 'coordination',
    defaultLevel: 'automatic',
    execute: async ({ subject, message }, context) => {
      const { recipients } = await context.ports.coordinators.notify(context.tenantId, {
        subject,
        body: message,
        ...references(context),
      });
      return { recipients, status: recipients > 0 ? 'notified' : 'no_recipient_reached' };
    },
  }),
  define({
    name: 'escalate',
    category: 'coordination',
    description:
      'Hand the conversation over to a person: you stop answering in it, coordinators are alerted and staff answer the customer.',
    input: escalateInput,
    permission: 'coordinator:notify',
    cost: 'coordination',
    defaultLevel: 'automatic',
    execute: async ({ reason }, context) => {
      // The same handoff as `POST /v1/conversations/{id}/handoff`: the conversation is a person's
      // first (the agent must stop answering in their place), then coordinators and the bus hear.
      if (context.conversationId) {
        const { recipients, alreadyHandedOff } = await handOffConversation(
          { ...context.ports, now: context.now },
          context.tenantId,
          context.conversationId,
          { kind: 'agent', id: context.agent.id },
          reason,
          context.agent.name,
        );
        return {
          conversationHandedOff: true,
          recipients,
          status: alreadyHandedOff
            ? 'already_handed_off'
            : recipients > 0
              ? 'escalated'
              : 'no_recipient_reached',
        };
      }
      const { recipients } = await context.ports.coordinators.notify(context.tenantId, {
        subject: `${context.agent.name} escalated a conversation`,
        body: `Reason: ${reason}`,
        ...references(context),
      });
      return {
        conversationHandedOff: false,
        recipients,
        status: recipients > 0 ? 'escalated' : 'no_recipient_reached',
      };
    },
  }),
  define({
    name: 'request_approval',
    category: 'coordination',
    description:
      'Ask a coordinator to approve something before you go on; the answer comes back as this action’s result.',
    input: approvalRequestInput,
    permission: 'coordinator:notify',
    cost: 'coordination',
    defaultLevel: 'approval',
    // The approval workflow is the request; running the action only records its outcome.
    execute: async ({ summary }) => ({ status: 'approved', summary }),
  }),
];

/** The record, unless it is missing or belongs to another location than the action's. */
async function visibleRecord(context: ActionContext, collection: string, id: string) {
  const record = await context.ports.resources.get(context.tenantId, collection, id);
  // A record of another location is reported missing, as it would be to a user of this one.
  if (
    !record ||
    (record.locationId !== undefined &&
      context.locationId !== undefined &&
      record.locationId !== context.locationId)
  ) {
    throw new NotFoundError(`${collection} record`, id);
  }
  return record;
}

function references(context: ActionContext) {
  return {
    agentId: context.agent.id,
    ...(context.locationId ? { locationId: context.locationId } : {}),
    ...(context.conversationId ? { conversationId: context.conversationId } : {}),
  };
}

const ACTIONS_BY_NAME = new Map(ACTIONS.map((action) => [action.name, action]));

/** Every action, in the order of `ACTION_NAMES`. */
export function listActions(): readonly ActionDefinition[] {
  return ACTIONS;
}

export function isActionName(name: string): name is ActionName {
  return (ACTION_NAMES as readonly string[]).includes(name);
}

export function findAction(name: string): ActionDefinition | undefined {
  return isActionName(name) ? ACTIONS_BY_NAME.get(name) : undefined;
}

/**
 * An action's parameters as JSON Schema, generated from its zod schema. Only the generator script
 * and the tests call this; at run time the pre-generated copy is used (no zod JSON-Schema code in
 * the cold start).
 */
export function actionJsonSchemaOf(action: ActionDefinition): Record<string, unknown> {
  const { toJSONSchema } = require('zod/v4/core') as typeof import('zod/v4/core');
  const { $schema: _drop, ...inputSchema } = toJSONSchema(action.input(), { io: 'input' }) as Record<
    string,
    unknown
  >;
  return inputSchema;
}

/** The spec the model gets: the pre-generated JSON Schema of `action-input-schemas.json`. */
export function actionSpecOf(action: ActionDefinition): ToolSpec {
  const inputSchema = (ACTION_INPUT_SCHEMAS as Record<string, Record<string, unknown> | undefined>)[
    action.name
  ];
  if (!inputSchema) {
    throw new Error(`No generated input schema for action ${action.name}: run npm run generate:tool-schemas`);
  }
  return { name: action.name, description: action.description, inputSchema };
}
