import {
  balanceResponse,
  billingSettingsBody,
  costsResponse,
  creditResponse,
  operatorTenantParams,
  operatorTokensBody,
  purchaseBody,
  purchaseParams,
  purchaseResponse,
  purchaseResultResponse,
  usageQuery,
  usageResponse,
  webhookResponse,
} from '../../domain/billing/schemas';
import { effectiveRateLimitsResponse, turnRateLimitsSchema } from '../../domain/runtime/rate-limits';
import type { RouteGroup } from '../route-spec';

export const BILLING_ROUTES = {
  'GET /v1/tokens/balance': {
    lambda: 'billing',
    permission: 'billing:read',
    summary: "The tenant's token balance: available, held by reservations, low-balance threshold, status",
    status: 200,
    response: balanceResponse,
  },
  'PUT /v1/tokens/settings': {
    lambda: 'billing',
    permission: 'billing:write',
    summary: 'Set the balance under which a balance.low event is published (0: never)',
    body: billingSettingsBody,
    status: 200,
    response: balanceResponse,
  },
  'GET /v1/tokens/costs': {
    lambda: 'billing',
    // Prices, not tenant data: everyone who may use the agents may know what they cost.
    permission: 'tenant:read',
    summary: 'The token cost of each billable operation in this environment',
    status: 200,
    response: costsResponse,
  },
  'GET /v1/tokens/usage': {
    lambda: 'billing',
    permission: 'billing:read',
    summary:
      'Ledger entries of a date range (UTC days, at most 366), newest first with a cursor, and totals over the whole range by agent, action and day',
    query: usageQuery,
    status: 200,
    response: usageResponse,
  },
  'POST /v1/tokens/purchase': {
    lambda: 'billing',
    permission: 'billing:write',
    summary:
      "Buy tokens: charged through the environment's payment provider at its price per token, credited once the payment succeeds. Idempotency-Key is required: the same key again returns the same purchase and charges nothing more. 201 when paid at once (the local provider always is), 202 when the buyer still has to pay (Stripe): with `returnOrigin` (the console's origin, one of the platform's console origins) `payment.checkoutUrl`, Stripe's hosted Checkout page, which sends the buyer back to `<returnOrigin>/#/tokens?purchase=<id>`; without it `payment.clientSecret`, for an API client confirming with Stripe.js on its own pages. The provider's webhook then credits it. Reactivates a suspended tenant once its balance covers the monthly fee.",
    body: purchaseBody,
    status: 201,
    response: purchaseResultResponse,
    idempotencyKey: 'required',
    otherResponses: {
      202: {
        description:
          'Pending: the buyer pays on `payment.checkoutUrl` (Stripe Checkout; when `returnOrigin` was given) or confirms with `payment.clientSecret` (Stripe.js)',
        response: purchaseResultResponse,
      },
    },
    errors: {
      402: 'PAYMENT_FAILED: the payment was declined; nothing was added (`details.purchaseId`)',
      502: 'The payment provider could not be reached; retry with the same Idempotency-Key',
      503: "PURCHASES_UNAVAILABLE: no payment provider is configured in this environment; or the token balance is busy with other writers (retry with the same key); or CONSOLE_ORIGIN_UNAVAILABLE: the hosted console's address (checked for a `returnOrigin` not among the configured origins) could not be read (retry)",
    },
  },
  'GET /v1/tokens/purchases/{id}': {
    lambda: 'billing',
    permission: 'billing:read',
    summary: 'A purchase: pending, succeeded (with the ledger entry that credited it) or failed',
    params: purchaseParams,
    status: 200,
    response: purchaseResponse,
  },
  'POST /v1/webhooks/stripe': {
    lambda: 'billing',
    // Stripe has no token: the Stripe-Signature header (HMAC of the raw body) is the proof.
    permission: 'public',
    rawBody: true,
    summary:
      "Stripe's webhook: checks Stripe-Signature (HMAC-SHA256 over the raw body, 5-minute tolerance), then credits the purchase a payment_intent.succeeded or a paid checkout.session.completed (or checkout.session.async_payment_succeeded) pays for — once, however often and in whichever order they are delivered — or marks it failed on payment_intent.payment_failed (not within a Checkout Session, where the buyer may try another card), checkout.session.expired or checkout.session.async_payment_failed. Other events are acknowledged and ignored.",
    status: 200,
    response: webhookResponse,
    errors: {
      401: 'Missing, malformed, stale or wrong Stripe-Signature; nothing was recorded',
      404: 'Stripe is not the payment provider of this environment',
    },
  },
  'POST /v1/operator/tenants/{tenantId}/tokens': {
    lambda: 'billing',
    permission: 'operator',
    summary:
      "Platform operators only: grant tokens to a tenant, or adjust its balance (negative allowed, never below zero), with a reason; recorded in the tenant's ledger and audit log with the operator as actor. Idempotency-Key is required.",
    params: operatorTenantParams,
    body: operatorTokensBody,
    status: 201,
    response: creditResponse,
    idempotencyKey: 'required',
    errors: {
      503: 'The token balance is busy with other writers; nothing was done, retry with the same key',
    },
  },
  'GET /v1/operator/tenants/{tenantId}/tokens/balance': {
    lambda: 'billing',
    permission: 'operator',
    summary: "Platform operators only: a tenant's token balance and status",
    params: operatorTenantParams,
    status: 200,
    response: balanceResponse,
  },
  'GET /v1/operator/tenants/{tenantId}/rate-limits': {
    lambda: 'billing',
    permission: 'operator',
    summary:
      "Platform operators only: the turn rate limits a tenant is held to — its own, or the environment's defaults (`source`)",
    params: operatorTenantParams,
    status: 200,
    response: effectiveRateLimitsResponse,
  },
  'PUT /v1/operator/tenants/{tenantId}/rate-limits': {
    lambda: 'billing',
    permission: 'operator',
    summary:
      "Platform operators only: set a tenant's own turn rate limits (per minute, over all its agents and per agent); recorded in the tenant's audit log. Other containers see it within 30 s",
    params: operatorTenantParams,
    body: turnRateLimitsSchema,
    status: 200,
    response: effectiveRateLimitsResponse,
  },
  'DELETE /v1/operator/tenants/{tenantId}/rate-limits': {
    lambda: 'billing',
    permission: 'operator',
    summary: "Platform operators only: put a tenant back on the environment's default turn rate limits",
    params: operatorTenantParams,
    status: 200,
    response: effectiveRateLimitsResponse,
  },
} as const satisfies RouteGroup<'billing'>;
