import { STRIPE_PROVIDER } from '../../adapters/stripe/stripe-payments';
import { stripePaymentEvent, verifyStripeSignature } from '../../adapters/stripe/stripe-webhook';
import {
  billingHttpDeps,
  billingApiDeps as deps,
  billingPayments as payments,
  operatorRateLimitDeps as rateLimitDeps,
} from '../../composition/billing-api';
import { credit, getBalance, getUsage, setLowBalanceThreshold } from '../../domain/billing/billing';
import { getPurchase, paymentSettled, startPurchase } from '../../domain/billing/purchases';
import {
  clearTenantRateLimits,
  getTenantRateLimits,
  setTenantRateLimits,
} from '../../domain/runtime/rate-limits';
import { AppError, UnauthorizedError, ValidationError } from '../../domain/shared/errors';
import { operatorActor } from '../../domain/shared/principal';
import { createHttpHandler } from '../../http/http-handler';
import { headerOf, idempotencyKey } from '../../http/request';
import { BILLING_ROUTES } from '../../http/routes/billing';

/** Money moves here and clients retry: without a key a timeout could charge or credit twice. */
function requiredKey(event: Parameters<typeof idempotencyKey>[0], what: string): string {
  const key = idempotencyKey(event);
  if (key === undefined) {
    throw ValidationError.forField('header.idempotency-key', `is required to ${what} (retries reuse it)`);
  }
  return key;
}

const replayedHeader = (replayed: boolean) =>
  replayed ? { headers: { 'idempotent-replayed': 'true' } } : {};

export const handler = createHttpHandler(
  BILLING_ROUTES,
  {
    'GET /v1/tokens/balance': async ({ principal }) => ({ body: await getBalance(deps, principal.tenantId) }),
    'PUT /v1/tokens/settings': async ({ principal, body }) => ({
      body: await setLowBalanceThreshold(deps, principal.tenantId, body.lowBalanceThreshold),
    }),
    'GET /v1/tokens/costs': async () => ({ body: deps.costs }),
    'GET /v1/tokens/usage': async ({ principal, query }) => ({
      body: await getUsage(deps, principal.tenantId, query),
    }),
    'POST /v1/tokens/purchase': async ({ principal, body, event }) => {
      const result = await startPurchase(
        deps,
        principal.tenantId,
        body.amount,
        requiredKey(event, 'buy tokens'),
        principal.userId,
        body.returnOrigin === undefined ? {} : { returnOrigin: body.returnOrigin },
      );
      return {
        body: result,
        ...(result.purchase.status === 'pending' ? { status: 202 } : {}),
        ...replayedHeader(result.replayed),
      };
    },
    'GET /v1/tokens/purchases/{id}': async ({ principal, params }) => ({
      body: await getPurchase(deps, principal.tenantId, params.id),
    }),
    'POST /v1/webhooks/stripe': async ({ rawBody, event }) => {
      const secret = payments.provider === 'stripe' ? await payments.stripeWebhookSecret?.() : undefined;
      if (!secret) throw new AppError(404, 'NOT_CONFIGURED', 'Stripe is not the payment provider here');
      const signature = headerOf(event, 'stripe-signature');
      if (!verifyStripeSignature(rawBody, signature, secret, Math.floor(deps.now().getTime() / 1000))) {
        throw new UnauthorizedError('stripe-signature: missing, stale or not valid for this body');
      }
      const payment = stripePaymentEvent(rawBody);
      if (!payment) return { body: { received: true, outcome: 'ignored' } };
      const { paymentId, status, ...details } = payment;
      const settled = await paymentSettled(deps, STRIPE_PROVIDER, paymentId, status, details);
      return { body: { received: true, outcome: settled.outcome } };
    },
    'POST /v1/operator/tenants/{tenantId}/tokens': async ({ operator, params, body, event }) => {
      const result = await credit(
        deps,
        params.tenantId,
        body.amount,
        { type: body.type, reason: body.reason },
        requiredKey(event, 'grant or adjust tokens'),
        operatorActor(operator),
      );
      return { body: result, ...replayedHeader(result.replayed) };
    },
    'GET /v1/operator/tenants/{tenantId}/tokens/balance': async ({ params }) => ({
      body: await getBalance(deps, params.tenantId),
    }),
    'GET /v1/operator/tenants/{tenantId}/rate-limits': async ({ params }) => ({
      body: await getTenantRateLimits(rateLimitDeps, params.tenantId),
    }),
    'PUT /v1/operator/tenants/{tenantId}/rate-limits': async ({ operator, params, body }) => ({
      body: await setTenantRateLimits(rateLimitDeps, { id: operatorActor(operator) }, params.tenantId, body),
    }),
    'DELETE /v1/operator/tenants/{tenantId}/rate-limits': async ({ params }) => ({
      body: await clearTenantRateLimits(rateLimitDeps, params.tenantId),
    }),
  },
  billingHttpDeps,
);
