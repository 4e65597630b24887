import * as z from 'zod/mini';
import type { PaymentPort } from '../domain/actions/ports';
import { DEFAULT_TOKEN_PRICE, type TokenPrice } from '../domain/billing/purchases';
import { type HostedConsoleOrigin, hostedConsoleOrigin } from '../domain/billing/return-origins';
import { integer, lazyValue } from '../domain/shared/zod';
import { ENV } from './env-names';
import { environmentSlice, PAYMENT_PROVIDERS } from './environment';
import { requireLocalStandIn } from './stand-ins';

export { PAYMENT_PROVIDERS };
export type PaymentProviderName = (typeof PAYMENT_PROVIDERS)[number];

/**
 * The platform's own payment account, which token purchases are charged to, from the environment:
 *   PAYMENTS_PROVIDER      `local` (the local provider: records, succeeds at once, moves no money),
 *                          `stripe`, or `none` (purchases refused). Default: `stripe` when Stripe
 *                          keys are configured, else `local` in local mode (STAGE=local), else `none`
 *                          — a deployed stage never hands out tokens without a real payment.
 *   STRIPE_SECRET_ID       Secrets Manager secret (name or ARN) holding {"secretKey","webhookSecret"}
 *                          (AWS); or, for a developer's own test account,
 *   STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET directly.
 *   STRIPE_API_BASE        tests: a local stand-in for https://api.stripe.com.
 *   TOKEN_PRICE            {"currency":"USD","minorUnitsPerToken":1} (the default: 1 cent a token).
 *   CONSOLE_ORIGINS        comma-separated origins (https://console.example.com) of the consoles a
 *                          buyer may come back to from Stripe Checkout (a purchase's `returnOrigin`);
 *                          on AWS the configured CORS origins, in local mode the local server's own.
 *   CONSOLE_URL_PARAMETER  on AWS with the hosted console (config `console.enabled`): the SSM
 *                          parameter its stack writes the console's URL to; that origin is allowed
 *                          too, read on the first purchase naming another origin (return-origins.ts).
 * Key values are only ever read here and handed to the adapter: never logged, never returned.
 */
export interface PlatformPayments {
  readonly provider: PaymentProviderName;
  /** Undefined with `none`. */
  readonly port?: PaymentPort;
  readonly tokenPrice: TokenPrice;
  /** Stripe's webhook signing secret (`whsec_…`); undefined unless the provider is Stripe. */
  readonly stripeWebhookSecret?: () => Promise<string | undefined>;
  /** The origins a purchase's hosted checkout may return the buyer to (CONSOLE_ORIGINS). */
  readonly returnOrigins: readonly string[];
  /** The hosted console's origin, read from CONSOLE_URL_PARAMETER when that is set. */
  readonly hostedConsoleOrigin?: HostedConsoleOrigin;
}

const envSchema = () =>
  environmentSlice(
    ENV.STAGE,
    ENV.AWS_REGION,
    ENV.PAYMENTS_PROVIDER,
    ENV.STRIPE_SECRET_ID,
    ENV.STRIPE_SECRET_KEY,
    ENV.STRIPE_WEBHOOK_SECRET,
    ENV.STRIPE_API_BASE,
    ENV.TOKEN_PRICE,
    ENV.CONSOLE_ORIGINS,
    ENV.CONSOLE_URL_PARAMETER,
  );

const tokenPriceSchema = () =>
  z.strictObject({
    currency: z.string().check(z.regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')),
    minorUnitsPerToken: integer(1, 1_000_000),
  });

function fail(problem: string): never {
  // Names and the rule only: never the value, which may be a key.
  throw new Error(`Invalid payments configuration: ${problem}`);
}

export function parseTokenPrice(json: string | undefined): TokenPrice {
  if (json === undefined) return DEFAULT_TOKEN_PRICE;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    fail('TOKEN_PRICE: not JSON');
  }
  const parsed = tokenPriceSchema().safeParse(raw);
  if (!parsed.success) {
    fail(`TOKEN_PRICE: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** Each must be an origin only (scheme, host, port): the return URL is built from it. */
export function parseReturnOrigins(list: string | undefined): readonly string[] {
  const origins = (list ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      fail(`CONSOLE_ORIGINS: ${origin.slice(0, 100)} is not an origin such as https://console.example.com`);
    }
  }
  return origins;
}

export function platformPayments(env: NodeJS.ProcessEnv = process.env): PlatformPayments {
  const set = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = envSchema().safeParse(set);
  if (!parsed.success) fail(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const config = parsed.data;
  const tokenPrice = parseTokenPrice(config.TOKEN_PRICE);
  const returnOrigins = parseReturnOrigins(config.CONSOLE_ORIGINS);
  const consoleUrlParameter = config.CONSOLE_URL_PARAMETER;
  const region = config.AWS_REGION;
  const origins = {
    returnOrigins,
    ...(consoleUrlParameter
      ? {
          hostedConsoleOrigin: hostedConsoleOrigin((name) => {
            const { readOptionalParameter } =
              require('../adapters/ssm/parameter') as typeof import('../adapters/ssm/parameter');
            return readOptionalParameter(name, region);
          }, consoleUrlParameter),
        }
      : {}),
  };
  const hasStripe = config.STRIPE_SECRET_ID !== undefined || config.STRIPE_SECRET_KEY !== undefined;
  const provider =
    config.PAYMENTS_PROVIDER ?? (hasStripe ? 'stripe' : config.STAGE === 'local' ? 'local' : 'none');
  if (provider === 'none') return { provider, tokenPrice, ...origins };
  if (provider === 'local') {
    return {
      provider,
      port: requireLocalStandIn('outbox', 'PAYMENTS_PROVIDER=local')(),
      tokenPrice,
      ...origins,
    };
  }
  if (!hasStripe)
    fail('PAYMENTS_PROVIDER is stripe but neither STRIPE_SECRET_ID nor STRIPE_SECRET_KEY is set');

  const keys = lazyValue(() => {
    const secretId = config.STRIPE_SECRET_ID;
    if (secretId === undefined) {
      return async () => ({
        secretKey: config.STRIPE_SECRET_KEY,
        webhookSecret: config.STRIPE_WEBHOOK_SECRET,
      });
    }
    const { SecretsManagerCredentials, secretsManagerClient } =
      require('../adapters/secrets/secrets-manager-credentials') as typeof import('../adapters/secrets/secrets-manager-credentials');
    const secrets = new SecretsManagerCredentials(
      secretsManagerClient({ region: config.AWS_REGION, maxAttempts: 1 }),
      { prefix: `agent-platform/${config.STAGE}` },
    );
    return async () => {
      const found = await secrets.getPlatformSecret<{ secretKey?: string; webhookSecret?: string }>(secretId);
      return { secretKey: found?.secretKey, webhookSecret: found?.webhookSecret };
    };
  });
  const stripe = lazyValue(() => {
    const { StripePayments } =
      require('../adapters/stripe/stripe-payments') as typeof import('../adapters/stripe/stripe-payments');
    return new StripePayments({
      secretKey: async () => (await keys()()).secretKey,
      ...(config.STRIPE_API_BASE ? { baseUrl: config.STRIPE_API_BASE } : {}),
    });
  });
  return {
    provider,
    port: {
      charge: (tenantId, payment) => stripe().charge(tenantId, payment),
      checkout: (tenantId, payment) => stripe().checkout(tenantId, payment),
    },
    tokenPrice,
    ...origins,
    stripeWebhookSecret: async () => (await keys()()).webhookSecret,
  };
}
