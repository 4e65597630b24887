import { type PaymentPort, type PaymentReceipt, ProviderError } from '../actions/ports';
import { AppError, ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { newId } from '../shared/ids';
import { type DataScopes, UNSCOPED } from '../shared/scopes';
import { getBalance } from './balance';
import { credit } from './credits';
import { type BillingDeps, idempotencyKey, tokens } from './ledger';
import type { Balance, Purchase, PurchaseRepository, TenantStatus } from './ports';
import { type HostedConsoleOrigin, isReturnOrigin } from './return-origins';

/**
 * Purchases: the only way a tenant gets tokens by itself. A purchase is recorded first (under the
 * request's Idempotency-Key), then charged through the payment-provider port (the platform's own
 * account), and credited only once the provider says the payment succeeded — at once (the local
 * provider), or later by the provider's webhook (Stripe, when the customer still has to confirm).
 * A buyer at the console (`returnOrigin` given) pays on the provider's hosted page when it has one
 * (Stripe Checkout): the purchase then records the session's id as its payment.
 * Crediting is keyed on the recorded payment id, so the answer of the create call, the webhooks
 * (the session's and its PaymentIntent's alike) and any of their retries credit the tokens once.
 */

/** The environment's price of one token (config `tokenPrice` → `TOKEN_PRICE`). */
export interface TokenPrice {
  /** ISO 4217, upper case. */
  readonly currency: string;
  /** Minor units (cents) per token: a whole number, so a purchase's price is exact. */
  readonly minorUnitsPerToken: number;
}

export const DEFAULT_TOKEN_PRICE: TokenPrice = { currency: 'USD', minorUnitsPerToken: 1 };

export interface PurchaseDeps extends BillingDeps {
  readonly purchases: PurchaseRepository;
  /**
   * The platform's payment account (the local provider in local mode and tests, Stripe on AWS);
   * absent where none is configured, and then purchases are refused (503).
   */
  readonly payments?: PaymentPort;
  readonly tokenPrice: TokenPrice;
  /**
   * The console origins (`https://console.example.com`) a buyer may be sent back to from the
   * provider's hosted payment page (config `CONSOLE_ORIGINS`): anything else is refused, so the
   * platform's checkout never becomes an open redirect.
   */
  readonly returnOrigins?: readonly string[];
  /**
   * The console the platform hosts on AWS (config `console.enabled`): its origin is allowed too,
   * read only for an origin not in `returnOrigins` (see return-origins.ts).
   */
  readonly hostedConsoleOrigin?: HostedConsoleOrigin;
}

/** Where the buyer comes back to after the provider's hosted page: the console's tokens page. */
export const purchaseReturnUrl = (origin: string, purchaseId: string, cancelled = false) =>
  `${origin}/#/tokens?purchase=${purchaseId}${cancelled ? '&cancelled=1' : ''}`;

export interface PurchaseResult {
  readonly purchase: Purchase;
  readonly balance: Balance;
  readonly tenantStatus: TenantStatus;
  /** The Idempotency-Key had started this purchase before. */
  readonly replayed: boolean;
  /**
   * A pending purchase: where the buyer pays (`checkoutUrl`, the provider's hosted page, when a
   * `returnOrigin` was given), or what their own Stripe.js needs to confirm it (`clientSecret`).
   */
  readonly payment?: {
    readonly provider: string;
    readonly clientSecret?: string;
    readonly checkoutUrl?: string;
  };
}

/** The provider declined the payment: nothing was charged and nothing credited. */
export class PaymentFailedError extends AppError {
  constructor(purchase: Purchase) {
    super(
      402,
      'PAYMENT_FAILED',
      `The payment for purchase ${purchase.id} failed${purchase.failureReason ? `: ${purchase.failureReason}` : ''}; no tokens were added`,
      { purchaseId: purchase.id, ...(purchase.failureReason ? { reason: purchase.failureReason } : {}) },
    );
  }
}

const paymentKey = (purchase: Purchase) => `purchase-${purchase.id}`;
/** One credit per provider payment, whoever reports it first. */
const creditKey = (provider: string, paymentId: string) => `payment:${provider}:${paymentId}`;
export const PAYMENTS_ACTOR = 'system:payments';

/**
 * Starts (or, with the same Idempotency-Key, resumes) a purchase of `amount` tokens. Resolves with
 * the purchase `succeeded` and the new balance when the provider took the payment at once, or
 * `pending` with the buyer's next step; 402 PAYMENT_FAILED when it was declined. A provider that
 * cannot be reached gives 502 and leaves the purchase pending: the same key retries the same
 * payment (the provider's own idempotency key is the purchase's), so nothing is charged twice.
 */
export async function startPurchase(
  deps: PurchaseDeps,
  tenantId: string,
  amount: number,
  key: string,
  actor: string,
  options: { readonly returnOrigin?: string } = {},
): Promise<PurchaseResult> {
  tokens('body.amount', amount);
  idempotencyKey(key);
  const { returnOrigin } = options;
  if (
    returnOrigin !== undefined &&
    !(await isReturnOrigin(returnOrigin, deps.returnOrigins, deps.hostedConsoleOrigin))
  ) {
    throw ValidationError.forField(
      'body.returnOrigin',
      `${returnOrigin.slice(0, 100)} is not one of this platform's console origins (config CONSOLE_ORIGINS${deps.hostedConsoleOrigin ? ' or the hosted console' : ''})`,
    );
  }
  const payments = deps.payments;
  if (!payments) {
    throw new AppError(503, 'PURCHASES_UNAVAILABLE', 'Token purchases are not available in this environment');
  }
  if (!(await deps.tenants.get(tenantId))) throw new NotFoundError('Tenant', tenantId);
  const at = deps.now().toISOString();
  const { purchase: recorded, created } = await deps.purchases.create({
    id: newId('purchase'),
    tenantId,
    tokens: amount,
    amountMinor: amount * deps.tokenPrice.minorUnitsPerToken,
    currency: deps.tokenPrice.currency,
    status: 'pending',
    idempotencyKey: key,
    createdBy: actor,
    createdAt: at,
    updatedAt: at,
  });
  if (recorded.tokens !== amount) {
    throw new ConflictError(`idempotency-key: ${key} was already used for a different purchase`, {
      operation: 'purchase',
    });
  }
  let purchase = recorded;
  let receipt: PaymentReceipt | undefined;
  if (purchase.status === 'pending') {
    try {
      const payment = {
        amountMinor: purchase.amountMinor,
        currency: purchase.currency,
        description: `${purchase.tokens} platform tokens`,
        idempotencyKey: paymentKey(purchase),
        metadata: { purchaseId: purchase.id, kind: 'token_purchase' },
      };
      // A buyer at the console pays on the provider's hosted page when it has one; a provider
      // without one (the local provider) answers at once either way.
      receipt =
        returnOrigin !== undefined && payments.checkout
          ? await payments.checkout(tenantId, {
              ...payment,
              idempotencyKey: `${paymentKey(purchase)}-checkout`,
              productName: `${purchase.tokens} agent tokens`,
              reference: purchase.id,
              successUrl: purchaseReturnUrl(returnOrigin, purchase.id),
              cancelUrl: purchaseReturnUrl(returnOrigin, purchase.id, true),
            })
          : await payments.charge(tenantId, payment);
    } catch (error) {
      if (error instanceof ProviderError && !error.retryable) {
        throw new PaymentFailedError(
          await deps.purchases.markFailed(tenantId, purchase.id, error.message, deps.now().toISOString()),
        );
      }
      throw error;
    }
    const { provider, providerId } = receipt;
    if (
      purchase.paymentId !== undefined &&
      (purchase.paymentId !== providerId || purchase.provider !== provider)
    ) {
      // The same key first without `returnOrigin`, now with it (or the other way round): the
      // purchase is already being paid the other way, and stays so.
      throw new ConflictError(
        `idempotency-key: ${key} started a purchase paid the other way (with or without returnOrigin); use a new key to pay this way`,
        { operation: 'purchase', purchaseId: purchase.id },
      );
    }
    const purchaseId = purchase.id;
    await scopesOf(deps).platform(() =>
      deps.purchases.recordPayment(provider, providerId, tenantId, purchaseId),
    );
    purchase = await deps.purchases.attachPayment(
      tenantId,
      purchase.id,
      receipt.provider,
      receipt.providerId,
      deps.now().toISOString(),
    );
    purchase = await settle(deps, purchase, receipt.status, receipt.failureReason, actor);
  }
  if (purchase.status === 'failed') throw new PaymentFailedError(purchase);
  const { tenantStatus, ...balance } = await getBalance(deps, tenantId);
  return {
    purchase,
    balance,
    tenantStatus,
    replayed: !created,
    ...(purchase.status === 'pending' && (receipt?.clientSecret || receipt?.checkoutUrl)
      ? {
          payment: {
            provider: receipt.provider,
            ...(receipt.clientSecret ? { clientSecret: receipt.clientSecret } : {}),
            ...(receipt.checkoutUrl ? { checkoutUrl: receipt.checkoutUrl } : {}),
          },
        }
      : {}),
  };
}

/**
 * What the provider's webhook reports about one of its payments. The payment is found by its id,
 * or — when the webhook outran the create call's answer — by the purchase the payment's metadata
 * names (trusted: the webhook's signature was checked). A payment that pays for no purchase (e.g.
 * a `take_payment` charge) is `ignored`; a repeat changes nothing.
 *
 * `ofRecordedPayment`: the provider reports the purchase's recorded payment under a second id
 * (a Checkout Session's PaymentIntent, while the purchase recorded the session's id): it settles
 * that recorded payment, so the credit's key — and the tokens — are the same whichever of the two
 * events comes first. Such an event for a purchase with no payment recorded yet is `ignored` (the
 * session's own event follows).
 */
export async function paymentSettled(
  deps: PurchaseDeps,
  provider: string,
  paymentId: string,
  status: 'succeeded' | 'failed',
  details: {
    readonly failureReason?: string;
    readonly tenantId?: string;
    readonly purchaseId?: string;
    readonly ofRecordedPayment?: boolean;
  } = {},
): Promise<{ readonly outcome: 'ignored' } | { readonly outcome: 'recorded'; readonly purchase: Purchase }> {
  const found =
    (await scopesOf(deps).platform(() => deps.purchases.findByPayment(provider, paymentId))) ??
    (details.tenantId && details.purchaseId
      ? { tenantId: details.tenantId, purchaseId: details.purchaseId }
      : undefined);
  if (!found) return { outcome: 'ignored' };
  // From here on, the purchase's tenant's own items only, with its credentials.
  return scopesOf(deps).tenant(found.tenantId, () =>
    settlePayment(deps, found, provider, paymentId, status, details),
  );
}

async function settlePayment(
  deps: PurchaseDeps,
  found: { readonly tenantId: string; readonly purchaseId: string },
  provider: string,
  paymentId: string,
  status: 'succeeded' | 'failed',
  details: { readonly failureReason?: string; readonly ofRecordedPayment?: boolean },
): Promise<{ readonly outcome: 'ignored' } | { readonly outcome: 'recorded'; readonly purchase: Purchase }> {
  let purchase = await deps.purchases.get(found.tenantId, found.purchaseId);
  if (!purchase) return { outcome: 'ignored' };
  if (details.ofRecordedPayment) {
    if (purchase.paymentId === undefined || purchase.provider !== provider) return { outcome: 'ignored' };
  } else if (purchase.paymentId === undefined) {
    purchase = await deps.purchases.attachPayment(
      purchase.tenantId,
      purchase.id,
      provider,
      paymentId,
      deps.now().toISOString(),
    );
  } else if (purchase.paymentId !== paymentId || purchase.provider !== provider) {
    return { outcome: 'ignored' };
  }
  return {
    outcome: 'recorded',
    purchase: await settle(deps, purchase, status, details.failureReason, PAYMENTS_ACTOR),
  };
}

async function settle(
  deps: PurchaseDeps,
  purchase: Purchase,
  status: PaymentReceipt['status'],
  failureReason: string | undefined,
  actor: string,
): Promise<Purchase> {
  if (status === 'pending') return purchase;
  if (status === 'failed') {
    return deps.purchases.markFailed(
      purchase.tenantId,
      purchase.id,
      failureReason ?? 'the payment was declined',
      deps.now().toISOString(),
    );
  }
  if (!purchase.provider || !purchase.paymentId) {
    throw new Error(`Purchase ${purchase.id} succeeded without a recorded payment`);
  }
  const { entry } = await credit(
    deps,
    purchase.tenantId,
    purchase.tokens,
    { type: 'purchase', reference: purchase.paymentId },
    creditKey(purchase.provider, purchase.paymentId),
    actor,
  );
  return deps.purchases.markSucceeded(purchase.tenantId, purchase.id, entry.id, deps.now().toISOString());
}

export async function getPurchase(
  deps: Pick<PurchaseDeps, 'purchases'>,
  tenantId: string,
  purchaseId: string,
): Promise<Purchase> {
  const purchase = await deps.purchases.get(tenantId, purchaseId);
  if (!purchase) throw new NotFoundError('Purchase', purchaseId);
  return purchase;
}

const scopesOf = (deps: { readonly scopes?: DataScopes }): DataScopes => deps.scopes ?? UNSCOPED;
