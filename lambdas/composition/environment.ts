import * as z from 'zod/mini';
import {
  LOCAL_TURN_RATE_LIMITS,
  type TurnRateLimits,
  turnRateLimitsSchema,
} from '../domain/runtime/rate-limits';
import { messageOf } from '../domain/shared/errors';
import { integer } from '../domain/shared/zod';
import {
  DEFAULT_PAGES_PER_EXECUTION,
  DEFAULT_TENANT_PAGE_SIZE,
  MAX_PAGES_PER_EXECUTION,
  MAX_TENANT_PAGE_SIZE,
} from '../handlers/workflow/billing-run';
import { ENV, type EnvName } from './env-names';

/**
 * THE environment schema: every variable the runtime reads, once, keyed by the names the CDK sets
 * them by (env-names.ts). Each loader below (and the outbound, payments, model and embedder
 * compositions, and the billing run's paging step) takes its slice of this one record, so a variable
 * has one definition; each composition parses its slice once, at module load, so a Lambda with a
 * missing or malformed variable fails at cold start with the variable's name, not on the first request.
 */
const nonEmpty = () => z.string().check(z.minLength(1));

export const OUTBOUND_MODES = ['outbox', 'live'] as const;
export const PAYMENT_PROVIDERS = ['local', 'stripe', 'none'] as const;
export const EMBEDDERS = ['titan', 'hash'] as const;

const ENVIRONMENT = {
  [ENV.TABLE_NAME]: nonEmpty,
  [ENV.AWS_REGION]: () => z._default(nonEmpty(), 'us-east-1'),
  [ENV.STAGE]: () => z._default(nonEmpty(), 'local'),
  [ENV.CURSOR_KEY_SECRET_ARN]: () => z.optional(nonEmpty()),
  /**
   * The tenant-access role assumed (tagged `tenant`) for every tenant's table and secret calls
   * (composition/table.ts). Unset only in local mode and tests, where the local credential
   * provider (a stand-in) checks the same policy instead.
   */
  [ENV.TENANT_ACCESS_ROLE_ARN]: () => z.optional(nonEmpty()),
  // Read by Powertools itself (observability.ts names the service when it is unset).
  [ENV.POWERTOOLS_SERVICE_NAME]: () => z.optional(nonEmpty()),
  [ENV.POWERTOOLS_METRICS_NAMESPACE]: () => z.optional(nonEmpty()),
  [ENV.POWERTOOLS_LOG_LEVEL]: () => z.optional(nonEmpty()),
  [ENV.MAX_BODY_BYTES]: () => z._default(integer(1024, 10_485_760, { coerce: true }), 262_144),
  /** `cognito` on AWS (Lambda bundles define it at build time, lib/bundling.ts); `local` in local mode. */
  [ENV.IDENTITY_PROVIDER]: () => z.enum(['cognito', 'local']),
  [ENV.USER_POOL_ID]: nonEmpty,
  [ENV.USER_POOL_CLIENT_ID]: nonEmpty,
  /**
   * The secret the console's CloudFront distribution sends the API as `x-origin-verify`: set where
   * the console is hosted, on the Lambdas that read the caller's address. Unset (local mode, no
   * console): the caller's address is API Gateway's `sourceIp`, whatever the headers say.
   */
  [ENV.ORIGIN_VERIFY_SECRET_ARN]: () =>
    z.optional(z.string().check(z.regex(/^arn:aws[a-z-]*:secretsmanager:/))),
  /** SQS queue of async executions; unset (local mode, tests) runs them in-process. */
  [ENV.EXECUTION_QUEUE_URL]: () => z.optional(z.url()),
  /** The inbound messages' FIFO queue; unset (local mode, tests) runs them in-process, in order per conversation. */
  [ENV.INBOUND_QUEUE_URL]: () => z.optional(z.url()),
  /**
   * The API's public address as providers call it (config `publicBaseUrl`): Twilio signs the URL it
   * called, and status callbacks are asked for there. Unset (local mode): the URL as requested.
   */
  [ENV.PUBLIC_BASE_URL]: () => z.optional(z.url()),
  /**
   * The domain SES receives the agents' mail for (config `email.receiving.domain`): only mailboxes
   * there are looked up. Unset (local mode): every recipient of the posted message is a candidate.
   */
  [ENV.EMAIL_RECEIVING_DOMAIN]: () =>
    z.optional(
      z.string().check(z.regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i)),
    ),
  /**
   * The environment's per-tenant and per-agent turn limits as JSON (the CDK passes cdk.json's
   * `turnRateLimits`); unset in local mode and tests, which get `LOCAL_TURN_RATE_LIMITS`.
   */
  [ENV.TURN_RATE_LIMITS]: () => z.optional(nonEmpty()),
  /** `titan` on AWS (the default); local mode sets `hash`. */
  [ENV.EMBEDDER]: () => z._default(z.enum(EMBEDDERS), 'titan'),
  [ENV.EMBEDDING_DIMENSIONS]: () =>
    z._default(
      z.coerce
        .number()
        .check(z.refine((n) => n === 256 || n === 512 || n === 1024, 'must be 256, 512 or 1024')),
      512,
    ),
  /** Bedrock's region when it differs from the Lambda's (model availability varies by region). */
  [ENV.BEDROCK_REGION]: () => z.optional(nonEmpty()),
  /** e.g. https://api.openai.com/v1, https://api.groq.com/openai/v1, http://localhost:11434/v1 (Ollama). */
  [ENV.OPENAI_BASE_URL]: () => z.optional(z.url({ protocol: /^https?$/ })),
  /**
   * The key itself, already resolved by whoever starts the process: local mode reads it from the
   * environment; on AWS the deployment resolves it from Secrets Manager before this is parsed.
   */
  [ENV.OPENAI_API_KEY]: () => z.optional(nonEmpty()),
  [ENV.OPENAI_TIMEOUT_MS]: () => z._default(integer(1000, 600_000, { coerce: true }), 30_000),
  /**
   * The WebSocket API's connection management endpoint (`https://<api>.execute-api.<region>.amazonaws.com/<stage>`):
   * turn events are posted to connections there. Unset (local mode, tests): the local server's sockets.
   */
  [ENV.WEBSOCKET_CALLBACK_URL]: () => z.optional(z.url({ protocol: /^https$/ })),
  /**
   * Instead of the URL, for functions of a stack deployed before the API's (the approval step): the
   * SSM parameter holding it, read once at cold start on the first event published.
   */
  [ENV.WEBSOCKET_CALLBACK_URL_PARAMETER]: () => z.optional(z.string().check(z.startsWith('/'))),
  /** Set (AWS): events go to that EventBridge bus; unset (local mode, tests): the in-process bus. */
  [ENV.EVENT_BUS_NAME]: () => z.optional(z.string()),
  /** The cost table as JSON (the CDK passes the environment's `tokenCosts`), checked by its own schema. */
  [ENV.TOKEN_COSTS]: () => z.optional(z.string()),
  /** Set (AWS): approvals run on Step Functions; unset (local mode, tests): in this process. */
  [ENV.APPROVAL_STATE_MACHINE_ARN]: () => z.optional(z.string()),
  /** Set (AWS): provisioning runs on Step Functions; unset (local mode, tests): in this process. */
  [ENV.PROVISIONING_STATE_MACHINE_ARN]: () => z.optional(z.string()),
  [ENV.TENANT_PAGE_SIZE]: () =>
    z._default(integer(1, MAX_TENANT_PAGE_SIZE, { coerce: true }), DEFAULT_TENANT_PAGE_SIZE),
  [ENV.PAGES_PER_EXECUTION]: () =>
    z._default(integer(1, MAX_PAGES_PER_EXECUTION, { coerce: true }), DEFAULT_PAGES_PER_EXECUTION),
  /** `outbox` records every send locally; `live` reaches Twilio, SES and Connect. */
  [ENV.OUTBOUND_MODE]: () => z.optional(z.enum(OUTBOUND_MODES)),
  /** Tenants' secrets are `${prefix}/tenants/${tenantId}/${provider}`. */
  [ENV.TENANT_SECRETS_PREFIX]: () => z.optional(z.string().check(z.regex(/^[A-Za-z0-9/_+=.@-]+$/))),
  /**
   * The platform's verified SES sender, for tenants without one of their own; a display name is
   * allowed (`Acme <no-reply@acme.example>`), so only the `@` is checked.
   */
  [ENV.SES_FROM_ADDRESS]: () => z.optional(z.string().check(z.includes('@'))),
  [ENV.SES_CONFIGURATION_SET]: () => z.optional(nonEmpty()),
  /** The shared Connect instance; without it, calls are refused (not every stage has voice). */
  [ENV.CONNECT_INSTANCE_ID]: () => z.optional(nonEmpty()),
  [ENV.CONNECT_CONTACT_FLOW_ID]: () => z.optional(nonEmpty()),
  [ENV.CONNECT_SOURCE_PHONE_NUMBER]: () => z.optional(z.string().check(z.regex(/^\+[1-9]\d{6,14}$/))),
  /** Voice: the environment's shared Connect instance (its ARN), where voice is configured. */
  [ENV.CONNECT_INSTANCE_ARN]: () => z.optional(z.string().check(z.regex(/^arn:aws[a-z-]*:connect:/))),
  /** The voice Lambda's own ARN (its async continuation); unset, slow voice turns continue in-process. */
  [ENV.VOICE_FUNCTION_ARN]: () =>
    z.optional(
      z
        .string()
        .check(
          z.regex(/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/),
        ),
    ),
  /** The tenant a declared-agents records function may write (its stack's); it refuses any other. */
  [ENV.DECLARED_TENANT_ID]: () => z.optional(z.string().check(z.regex(/^ten_[0-9A-HJKMNP-TV-Z]{26}$/))),
  /** The shared Lex V2 bot's alias, for contact flows built at run time. */
  [ENV.VOICE_BOT_ALIAS_ARN]: () => z.optional(z.string().check(z.regex(/^arn:aws[a-z-]*:lex:/))),
  /** Where callers who ask for a person go; unset: nobody to transfer to (the agent says so). */
  [ENV.VOICE_HUMAN_QUEUE_ARN]: () => z.optional(z.string().check(z.regex(/^arn:aws[a-z-]*:connect:/))),
  [ENV.PAYMENTS_PROVIDER]: () => z.optional(z.enum(PAYMENT_PROVIDERS)),
  [ENV.STRIPE_SECRET_ID]: () => z.optional(nonEmpty()),
  [ENV.STRIPE_SECRET_KEY]: () =>
    z.optional(z.string().check(z.regex(/^(sk|rk)_(test|live)_\w+$/, 'must be a Stripe secret key'))),
  [ENV.STRIPE_WEBHOOK_SECRET]: () =>
    z.optional(z.string().check(z.regex(/^whsec_\w+$/, 'must be a Stripe webhook secret'))),
  /** Tests: a local stand-in for https://api.stripe.com. */
  [ENV.STRIPE_API_BASE]: () => z.optional(z.url()),
  [ENV.TOKEN_PRICE]: () => z.optional(nonEmpty()),
  /** Comma-separated console origins a purchase's hosted checkout may return to (composition/payments.ts). */
  [ENV.CONSOLE_ORIGINS]: () => z.optional(nonEmpty()),
  /**
   * The SSM parameter the console stack (deployed after this one) writes the hosted console's URL
   * to: an origin allowed besides CONSOLE_ORIGINS, read on the first purchase that needs it.
   */
  [ENV.CONSOLE_URL_PARAMETER]: () => z.optional(z.string().check(z.startsWith('/'))),
  /** Set only in local mode and tests (DynamoDB Local). */
  [ENV.DYNAMODB_ENDPOINT]: () => z.optional(z.url()),
  /** The cursor key itself (local mode, tests); on AWS, CURSOR_KEY_SECRET_ARN. */
  [ENV.CURSOR_SIGNING_KEY]: () =>
    z.optional(z.string().check(z.minLength(32, 'must be at least 32 characters'))),
  [ENV.LOCAL_ISSUER]: () => z.url(),
  [ENV.LOCAL_AUDIENCE]: nonEmpty,
  /** The local issuer's private signing key as a JWK (JSON); generated by the local server. */
  [ENV.LOCAL_SIGNING_JWK]: nonEmpty,
  [ENV.LOCAL_TOKEN_TTL_SECONDS]: () => z._default(integer(60, 86_400, { coerce: true }), 3600),
} as const satisfies Record<EnvName, () => z.ZodMiniType>;

type Environment = typeof ENVIRONMENT;

/** Every variable the schema knows (the infra test compares them with what the stacks set). */
export const ENVIRONMENT_VARIABLES = Object.keys(ENVIRONMENT) as EnvName[];

/** The schema of some of the variables, each as the one schema defines it. */
export function environmentSlice<const Names extends EnvName>(
  ...names: Names[]
): z.ZodMiniObject<{ [Name in Names]: ReturnType<Environment[Name]> }> {
  const shape = Object.fromEntries(names.map((name) => [name, ENVIRONMENT[name]()]));
  return z.object(shape) as unknown as z.ZodMiniObject<{ [Name in Names]: ReturnType<Environment[Name]> }>;
}

const runtimeSchema = () =>
  environmentSlice(
    ENV.TABLE_NAME,
    ENV.AWS_REGION,
    ENV.DYNAMODB_ENDPOINT,
    ENV.STAGE,
    ENV.MAX_BODY_BYTES,
    ENV.EXECUTION_QUEUE_URL,
  );

const cognitoIdentitySchema = () =>
  z.extend(environmentSlice(ENV.USER_POOL_ID, ENV.USER_POOL_CLIENT_ID), {
    IDENTITY_PROVIDER: z.literal('cognito'),
  });

const localIdentitySchema = () =>
  z.extend(
    environmentSlice(
      ENV.LOCAL_ISSUER,
      ENV.LOCAL_AUDIENCE,
      ENV.LOCAL_SIGNING_JWK,
      ENV.LOCAL_TOKEN_TTL_SECONDS,
    ),
    { IDENTITY_PROVIDER: z.literal('local') },
  );

/**
 * Parses a slice of the environment; a bad value fails with the variable's name, never its value
 * (some are secrets). `emptyIsUnset`: `OPENAI_BASE_URL=` in a shell or a `.env` file means "none".
 */
export function parseEnvironment<T extends z.ZodMiniType>(
  schema: T,
  what: string,
  env: NodeJS.ProcessEnv = process.env,
  options: { emptyIsUnset?: boolean } = {},
): z.infer<T> {
  const source = options.emptyIsUnset
    ? Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''))
    : env;
  const result = schema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues
      .map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`)
      .join('; ');
    throw new Error(`Invalid ${what} configuration: ${problems}`);
  }
  return result.data;
}

export type RuntimeConfig = z.infer<ReturnType<typeof runtimeSchema>>;
export type IdentityConfig =
  | z.infer<ReturnType<typeof cognitoIdentitySchema>>
  | z.infer<ReturnType<typeof localIdentitySchema>>;

/**
 * The key cursors are signed with (see `adapters/cursor-codec.ts`): on AWS the ARN of the Secrets
 * Manager secret the stack generates, read once per Lambda instance; in local mode and tests the
 * key itself. Never logged: a failure names the variable, never its value.
 */
const cursorKeySchema = () => environmentSlice(ENV.CURSOR_KEY_SECRET_ARN, ENV.CURSOR_SIGNING_KEY);

export type CursorKeyConfig = { readonly secretArn: string } | { readonly key: string };

export function loadCursorKeyConfig(): CursorKeyConfig {
  const vars = parseEnvironment(cursorKeySchema(), 'cursor signing key');
  if (vars.CURSOR_KEY_SECRET_ARN) return { secretArn: vars.CURSOR_KEY_SECRET_ARN };
  if (vars.CURSOR_SIGNING_KEY) return { key: vars.CURSOR_SIGNING_KEY };
  throw new Error(
    'Invalid cursor signing key configuration: set CURSOR_KEY_SECRET_ARN (AWS) or CURSOR_SIGNING_KEY (local mode, tests)',
  );
}

const originVerifySchema = () => environmentSlice(ENV.ORIGIN_VERIFY_SECRET_ARN);

/** The origin-verify secret's ARN, where the console's CloudFront fronts the API (else undefined). */
export const loadOriginVerifySecretArn = (): string | undefined =>
  parseEnvironment(originVerifySchema(), 'origin verify').ORIGIN_VERIFY_SECRET_ARN;

export const loadRuntimeConfig = (): RuntimeConfig => parseEnvironment(runtimeSchema(), 'runtime');
/** Lambda bundles define IDENTITY_PROVIDER as "cognito" at build time (lib/bundling.ts). */
export const loadIdentityConfig = (): IdentityConfig =>
  process.env.IDENTITY_PROVIDER === 'local'
    ? parseEnvironment(localIdentitySchema(), 'identity')
    : parseEnvironment(cognitoIdentitySchema(), 'identity');

const turnRateLimitsEnvSchema = () => environmentSlice(ENV.TURN_RATE_LIMITS);

/** Only the Lambdas that run turns are given `TURN_RATE_LIMITS`; the others never load it. */
export function loadTurnRateLimits(): TurnRateLimits {
  const { TURN_RATE_LIMITS } = parseEnvironment(turnRateLimitsEnvSchema(), 'turn rate limit');
  if (TURN_RATE_LIMITS === undefined) return LOCAL_TURN_RATE_LIMITS;
  let raw: unknown;
  try {
    raw = JSON.parse(TURN_RATE_LIMITS);
  } catch (error) {
    throw new Error(
      `Invalid turn rate limit configuration: TURN_RATE_LIMITS: not JSON (${messageOf(error)})`,
    );
  }
  const result = turnRateLimitsSchema().safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues
      .map((i) => `TURN_RATE_LIMITS.${i.path.join('.') || '(value)'}: ${i.message}`)
      .join('; ');
    throw new Error(`Invalid turn rate limit configuration: ${problems}`);
  }
  return result.data;
}
