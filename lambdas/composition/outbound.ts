import type { ConnectClient } from '@aws-sdk/client-connect';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type * as z from 'zod/mini';
import type { LocalOutbox } from '../adapters/local/local-outbox';
import type { RetryOptions } from '../adapters/retry';
import {
  type CredentialsPort,
  type EmailPort,
  type MessagingPort,
  type PaymentPort,
  ProviderError,
  type VoicePort,
} from '../domain/actions/ports';
import { lazyValue } from '../domain/shared/zod';
import { ENV } from './env-names';
import { environmentSlice, OUTBOUND_MODES, parseEnvironment } from './environment';
import { requireLocalStandIn } from './stand-ins';
import { tenantSecretsClient } from './table';

export { OUTBOUND_MODES };
export type OutboundMode = (typeof OUTBOUND_MODES)[number];

export interface OutboundAdapters {
  readonly mode: OutboundMode;
  readonly messaging: MessagingPort;
  readonly email: EmailPort;
  readonly voice: VoicePort;
  readonly payments: PaymentPort;
  /** Present in `outbox` mode only: what was "sent", for the local API and tests to read. */
  readonly outbox?: LocalOutbox;
}

export interface OutboundOptions {
  /** Defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  readonly retry?: RetryOptions;
  /** Tests stand in for the tenants' secrets. */
  readonly credentials?: CredentialsPort;
  /** Tests build (and count) the SDK clients; by default `{ region: AWS_REGION, maxAttempts: 1 }`. */
  readonly clients?: {
    readonly ses?: () => SESv2Client;
    readonly connect?: () => ConnectClient;
    readonly secretsManager?: () => SecretsManagerClient;
  };
}

const envSchema = () =>
  environmentSlice(
    ENV.OUTBOUND_MODE,
    ENV.STAGE,
    ENV.AWS_REGION,
    ENV.SES_FROM_ADDRESS,
    ENV.SES_CONFIGURATION_SET,
    ENV.CONNECT_INSTANCE_ID,
    ENV.CONNECT_CONTACT_FLOW_ID,
    ENV.CONNECT_SOURCE_PHONE_NUMBER,
    ENV.TENANT_SECRETS_PREFIX,
    ENV.STRIPE_API_BASE,
  );

type OutboundEnv = z.infer<ReturnType<typeof envSchema>>;

/**
 * Empty variables count as unset (`SES_FROM_ADDRESS=` in a `.env` file means "none"); a bad value
 * fails with the variable's name.
 */
function parseEnv(env: NodeJS.ProcessEnv): OutboundEnv {
  return parseEnvironment(envSchema(), 'outbound', env, { emptyIsUnset: true });
}

/**
 * The adapters actions send through. `outbox` (the default when `STAGE` is `local`): everything is
 * recorded in this process's local outbox and nothing leaves the machine. `live` (the default
 * elsewhere): Twilio for SMS and WhatsApp, SES for email, Connect for calls, Stripe for payments, each with the tenant's
 * credentials from Secrets Manager.
 *
 * Nothing is built until it is first used: the SDK modules are required and the clients
 * constructed on the first send, so a Lambda that never sends does not pay for them at cold start.
 */
export function outboundAdapters(options: OutboundOptions = {}): OutboundAdapters {
  const env = parseEnv(options.env ?? process.env);
  const mode = env.OUTBOUND_MODE ?? (env.STAGE === 'local' ? 'outbox' : 'live');
  if (mode === 'outbox') {
    const localOutbox = requireLocalStandIn('outbox', 'OUTBOUND_MODE=outbox')();
    return {
      mode,
      messaging: localOutbox,
      email: localOutbox,
      voice: localOutbox,
      payments: localOutbox,
      outbox: localOutbox,
    };
  }
  return liveAdapters(env, options);
}

function liveAdapters(env: OutboundEnv, options: OutboundOptions): OutboundAdapters {
  const retry = options.retry ?? {};
  const region = env.AWS_REGION;
  // One attempt per SDK call everywhere: the adapters count attempts (`withRetries`), in one place.
  const clientConfig = { region, maxAttempts: 1 };

  const credentials = lazyValue((): CredentialsPort => {
    if (options.credentials) return options.credentials;
    const { SecretsManagerCredentials, secretsManagerClient } =
      require('../adapters/secrets/secrets-manager-credentials') as typeof import('../adapters/secrets/secrets-manager-credentials');
    // A tenant's secrets are read with that tenant's credentials (routed by the scope in force).
    const client =
      options.clients?.secretsManager?.() ?? tenantSecretsClient(clientConfig, secretsManagerClient);
    return new SecretsManagerCredentials(client, {
      prefix: env.TENANT_SECRETS_PREFIX ?? `agent-platform/${env.STAGE}`,
      retry,
    });
  });

  const twilio = lazyValue(() => {
    const { TwilioMessaging } =
      require('../adapters/twilio/twilio-messaging') as typeof import('../adapters/twilio/twilio-messaging');
    return new TwilioMessaging({ credentials: credentials(), retry });
  });

  const ses = lazyValue(() => {
    const { SesEmail, sesClient } =
      require('../adapters/ses/ses-email') as typeof import('../adapters/ses/ses-email');
    return new SesEmail(options.clients?.ses?.() ?? sesClient(clientConfig), {
      credentials: credentials(),
      ...(env.SES_FROM_ADDRESS ? { defaultFromAddress: env.SES_FROM_ADDRESS } : {}),
      ...(env.SES_CONFIGURATION_SET ? { configurationSetName: env.SES_CONFIGURATION_SET } : {}),
      retry,
    });
  });

  const instanceId = env.CONNECT_INSTANCE_ID;
  const connect = lazyValue((): VoicePort => {
    if (!instanceId) {
      return {
        placeCall: async () => {
          throw new ProviderError('connect', false, 'voice is not configured in this environment');
        },
      };
    }
    const { ConnectVoice, connectClient } =
      require('../adapters/connect/connect-voice') as typeof import('../adapters/connect/connect-voice');
    return new ConnectVoice(options.clients?.connect?.() ?? connectClient(clientConfig), {
      instanceId,
      ...(env.CONNECT_CONTACT_FLOW_ID ? { contactFlowId: env.CONNECT_CONTACT_FLOW_ID } : {}),
      ...(env.CONNECT_SOURCE_PHONE_NUMBER ? { sourcePhoneNumber: env.CONNECT_SOURCE_PHONE_NUMBER } : {}),
      credentials: credentials(),
      retry,
    });
  });

  const stripe = lazyValue(() => {
    const { StripePayments } =
      require('../adapters/stripe/stripe-payments') as typeof import('../adapters/stripe/stripe-payments');
    return new StripePayments({
      secretKey: async (tenantId) =>
        (await credentials().get<{ secretKey: string }>(tenantId, 'stripe'))?.secretKey,
      ...(env.STRIPE_API_BASE ? { baseUrl: env.STRIPE_API_BASE } : {}),
      retry,
    });
  });

  return {
    mode: 'live',
    messaging: { send: (tenantId, message) => twilio().send(tenantId, message) },
    email: { send: (tenantId, email) => ses().send(tenantId, email) },
    voice: { placeCall: (tenantId, call) => connect().placeCall(tenantId, call) },
    // `take_payment`: the tenant's customer pays the tenant, so through the tenant's own Stripe
    // account (its secret `stripe`: {"secretKey"}); a tenant without one cannot take payments.
    // Token purchases go to the platform's account instead (composition/payments.ts).
    payments: { charge: (tenantId, payment) => stripe().charge(tenantId, payment) },
  };
}
