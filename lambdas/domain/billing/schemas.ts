import * as z from 'zod/mini';
import { idSchema } from '../shared/ids';
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

/** A tenant buys tokens: charged through the payment provider, credited once paid. */
export const purchaseBody = lazySchema(() =>
  z.strictObject({
    amount: integer(1, 10_000_000),
    /**
     * The console's own origin (`location.origin`): with it, a provider with a hosted payment page
     * (Stripe Checkout) answers `payment.checkoutUrl` and sends the buyer back to
     * `<returnOrigin>/#/tokens?purchase=<id>`. Must be one of the platform's console origins.
     */
    returnOrigin: z.optional(
      z
        .string()
        .check(
          z.maxLength(200),
          z.regex(/^https?:\/\/[^/?#\s]+$/, 'must be an origin such as https://console.example.com'),
        ),
    ),
  }),
);

/**
 * A platform operator changes a tenant's balance: a `grant` adds tokens (positive), an
 * `adjustment` corrects the balance either way (never below zero). `reason` goes in the ledger.
 */
export const operatorTokensBody = lazySchema(() =>
  z
    .strictObject({
      type: z.enum(['grant', 'adjustment']),
      amount: integer(-10_000_000, 10_000_000).check(z.refine((value) => value !== 0, 'must not be 0')),
      reason: text(1, 500),
    })
    .check(
      z.refine((body) => body.type !== 'grant' || body.amount > 0, {
        message: 'a grant must be positive (an adjustment may be negative)',
        path: ['amount'],
      }),
    ),
);
export type OperatorTokensInput = z.infer<ReturnType<typeof operatorTokensBody>>;

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
    availableAfter: z.optional(z.int()),
    reservedAfter: z.optional(z.int()),
    charged: z.optional(z.int()),
    action: z.optional(z.string()),
    agentId: z.optional(z.string()),
    executionId: z.optional(z.string()),
    reservationId: z.optional(z.string()),
    usd: z.optional(z.number()),
    period: z.optional(z.string()),
    reference: z.optional(z.string()),
    reason: z.optional(z.string()),
    idempotencyKey: z.string(),
    actor: z.string(),
    createdAt: instant(),
    seq: z.optional(z.int()),
  }),
);

/** What a credit answers: the entry, the balance after it, and whether it lifted a suspension. */
export const creditResponse = lazySchema(() =>
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

export const purchaseParams = lazySchema(() => z.strictObject({ id: idSchema('purchase') }));
export const operatorTenantParams = lazySchema(() => z.strictObject({ tenantId: idSchema('tenant') }));

export const purchaseResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    tenantId: z.string(),
    tokens: z.int(),
    amountMinor: z.int(),
    currency: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    provider: z.optional(z.string()),
    paymentId: z.optional(z.string()),
    entryId: z.optional(z.string()),
    failureReason: z.optional(z.string()),
    idempotencyKey: z.string(),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  }),
);

export const purchaseResultResponse = lazySchema(() =>
  z.object({
    purchase: purchaseResponse(),
    balance: z.object(balanceFields()),
    tenantStatus: tenantStatus(),
    replayed: z.boolean(),
    /**
     * Pending purchases: `checkoutUrl`, the provider's hosted page to send the buyer to (when the
     * request gave `returnOrigin`); else `clientSecret`, for an API client confirming the payment
     * with Stripe.js on its own pages.
     */
    payment: z.optional(
      z.object({
        provider: z.string(),
        clientSecret: z.optional(z.string()),
        checkoutUrl: z.optional(z.url()),
      }),
    ),
  }),
);

export const webhookResponse = lazySchema(() =>
  z.object({ received: z.literal(true), outcome: z.enum(['recorded', 'ignored']) }),
);
