import * as z from 'zod/mini';
import { pageQueryFields } from '../shared/pagination';
import { instant, integer, lazySchema, text } from '../shared/zod';
import { isDay } from './calendar';
import { COSTED_ACTIONS, LEDGER_ENTRY_TYPES } from './ports';

/** Request and response shapes of the billing routes (responses: for the OpenAPI document). */
const DAY_DOCUMENTATION = {
  format: 'date',
  pattern: '^\\d{4}-\\d{2}-\\d{2}$',
  description: 'A UTC day, YYYY-MM-DD',
};
const day = () => z.string().check(z.refine(isDay, 'must be a date, YYYY-MM-DD'), z.meta(DAY_DOCUMENTATION));
/** A day the server wrote (documented as the same format as the days it reads). */
const dayOut = () => z.string().check(z.meta(DAY_DOCUMENTATION));

export const addTokensBody = lazySchema(() =>
  z.strictObject({
    amount: integer(1, 10_000_000),
    /** Only purchases and grants come in through the API; refunds and adjustments are internal. */
    type: z.enum(['purchase', 'grant']),
    /** The caller's reference: a payment id, an order number, a ticket. */
    reference: z.optional(text(1, 200)),
  }),
);
export type AddTokensInput = z.infer<ReturnType<typeof addTokensBody>>;

export const billingSettingsBody = lazySchema(() =>
  z.strictObject({ lowBalanceThreshold: integer(0, 10_000_000) }),
);

export const usageQuery = lazySchema(() =>
  z.strictObject({
    ...pageQueryFields(),
    /** First day (UTC), included; default: 29 days before `to`. */
    from: z.optional(day()),
    /** Last day (UTC), included; default: today. */
    to: z.optional(day()),
  }),
);

const balanceFields = () => ({
  tenantId: z.string(),
  available: z.int(),
  reserved: z.int(),
  lowBalanceThreshold: z.int(),
  updatedAt: instant(),
});
const tenantStatus = () => z.enum(['active', 'suspended']);

export const balanceResponse = lazySchema(() =>
  z.object({ ...balanceFields(), tenantStatus: tenantStatus() }),
);

export const costsResponse = lazySchema(() =>
  z.object(
    Object.fromEntries(COSTED_ACTIONS.map((action) => [action, z.int()])) as Record<
      (typeof COSTED_ACTIONS)[number],
      z.ZodMiniInt
    >,
  ),
);

export const ledgerEntryResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    tenantId: z.string(),
    type: z.enum(LEDGER_ENTRY_TYPES),
    amount: z.int(),
    availableAfter: z.int(),
    reservedAfter: z.int(),
    charged: z.optional(z.int()),
    action: z.optional(z.string()),
    agentId: z.optional(z.string()),
    executionId: z.optional(z.string()),
    reservationId: z.optional(z.string()),
    usd: z.optional(z.number()),
    period: z.optional(z.string()),
    reference: z.optional(z.string()),
    idempotencyKey: z.string(),
    actor: z.string(),
    createdAt: instant(),
    seq: z.optional(z.int()),
  }),
);

export const addTokensResponse = lazySchema(() =>
  z.object({
    entry: ledgerEntryResponse(),
    balance: z.object(balanceFields()),
    tenantStatus: tenantStatus(),
    replayed: z.boolean(),
    reactivated: z.boolean(),
  }),
);

export const usageResponse = lazySchema(() =>
  z.object({
    from: dayOut(),
    to: dayOut(),
    totals: z.object({
      charged: z.int(),
      credited: z.int(),
      byAgent: z.record(z.string(), z.int()),
      byAction: z.record(z.string(), z.int()),
      byDay: z.array(z.object({ day: dayOut(), charged: z.int(), credited: z.int() })),
    }),
    items: z.array(ledgerEntryResponse()),
    nextCursor: z.optional(z.string()),
  }),
);
