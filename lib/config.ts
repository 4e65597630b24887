import type { App } from 'aws-cdk-lib';
import * as z from 'zod';
import { agentCreateBody } from '../lambdas/domain/agents/schemas';
import { OPERATOR_CONTEXT_KEYS, operatorSettingIssues, withOperatorContext } from './operator-settings';

/** Retention periods CloudWatch Logs accepts; anything else fails only at deploy time. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const tokens = z.number().int().min(0).max(1_000_000);

/**
 * Token prices of billable operations. They are configuration, not code, so that an environment
 * can be re-priced with a deploy; the billing code receives them as the `TOKEN_COSTS` variable.
 */
export const tokenCostsSchema = z.strictObject({
  whatsappConversation: tokens,
  sms: tokens,
  email: tokens,
  call: tokens,
  llmCall: tokens,
  monthlyFee: tokens,
  resource: tokens,
  booking: tokens,
  payment: tokens,
  coordination: tokens,
});
export type TokenCosts = z.infer<typeof tokenCostsSchema>;

/**
 * Where actions reach the outside on AWS (OUTBOUND_MODE=live): the platform's SES sender and the
 * shared Amazon Connect instance. All optional: without a sender, email needs the tenant's own;
 * without an instance, calls are refused. The tenants' provider credentials are in Secrets Manager.
 */
export const outboundConfigSchema = z.strictObject({
  /** A verified SES identity (address or one of a verified domain) used when a tenant has none. */
  sesFromAddress: z.email().optional(),
  /** The Connect instance id (8-4-4-4-12 hex), not its ARN: the IAM grant is scoped to it. */
  connectInstanceId: z.guid().optional(),
  /** The contact flow outbound calls run (its id, 8-4-4-4-12 hex). */
  connectContactFlowId: z.guid().optional(),
  /** The claimed number calls come from, E.164. */
  connectSourcePhoneNumber: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number')
    .optional(),
});
export type OutboundConfig = z.infer<typeof outboundConfigSchema>;

/**
 * Turns (chat, process, execute, inbound messages) a tenant may start per minute, over all its
 * agents and per agent. The platform operator can set a tenant's own; the runtime Lambda
 * receives these as `TURN_RATE_LIMITS` and checks them again with the runtime's zod schema.
 */
export const turnRateLimitsConfigSchema = z
  .strictObject({
    turnsPerMinute: z.number().int().min(1).max(100_000),
    agentTurnsPerMinute: z.number().int().min(1).max(100_000),
  })
  .refine((limits) => limits.agentTurnsPerMinute <= limits.turnsPerMinute, {
    message: 'must not exceed turnsPerMinute',
    path: ['agentTurnsPerMinute'],
  });
export type TurnRateLimitsConfig = z.infer<typeof turnRateLimitsConfigSchema>;

/**
 * Token purchases. The platform's own Stripe account: a Secrets Manager secret (created outside
 * the stack, never in cdk.json) holding {"secretKey":"sk_…","webhookSecret":"whsec_…"}; without
 * it, purchases are refused in this environment (operators can still grant). The price of a token
 * in minor units of a currency (default: 1 US cent).
 */
export const paymentsConfigSchema = z.strictObject({
  stripeSecretName: z
    .string()
    .regex(/^[A-Za-z0-9/_+=.@-]{1,256}$/, 'must be a Secrets Manager secret name')
    .optional(),
  tokenPrice: z
    .strictObject({
      currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD'),
      minorUnitsPerToken: z.number().int().min(1).max(1_000_000),
    })
    .optional(),
});
export type PaymentsConfig = z.infer<typeof paymentsConfigSchema>;

/**
 * Email in (optional per environment): SES receives the agents' mail for `domain` (a domain verified
 * in SES in this region, its MX record pointing at `inbound-smtp.<region>.amazonaws.com`) and
 * stores it for the intake function. Agents' mailboxes are addresses at this domain; replies are sent
 * from them, so the same domain is the sending identity.
 */
export const emailReceivingConfigSchema = z.strictObject({
  domain: z
    .string()
    .regex(
      /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
      'must be a lower-case domain such as mail.example.com',
    ),
  /** The receipt rule set created for it (activated by the operator). @default agent-platform-<stage>-inbound-email */
  ruleSetName: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, dots, dashes or underscores')
    .optional(),
  /** Days a received message (and so its attachments) is kept in the bucket. */
  retentionDays: z.number().int().min(1).max(3650).default(30),
});
export type EmailReceivingConfig = z.infer<typeof emailReceivingConfigSchema>;

/**
 * The regions Amazon Connect is offered in (https://docs.aws.amazon.com/connect/latest/adminguide/regions.html).
 * The bot, the voice Lambda and the instance live in one region, the environment's.
 */
export const CONNECT_REGIONS = [
  'us-east-1',
  'us-west-2',
  'af-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ca-central-1',
  'eu-central-1',
  'eu-west-2',
  'us-gov-west-1',
] as const;

/** Amazon Connect ARNs in any partition: an instance, and a queue of one. */
const CONNECT_INSTANCE_ARN = /^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance\/[0-9a-f-]{36}$/;
const CONNECT_QUEUE_ARN =
  /^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance\/[0-9a-f-]{36}\/queue\/[0-9a-f-]{36}$/;

/** The voice a caller hears and the language the bot understands, for one configured language. */
export const voiceLanguageSchema = z.strictObject({
  /** A Lex V2 locale such as en_US, en_GB, es_US, es_419, fr_CA, de_DE. */
  localeId: z.string().regex(/^[a-z]{2}_([A-Z]{2}|419)$/, 'must be a Lex V2 locale id such as en_US'),
  /** The Amazon Polly voice id (Joanna, Matthew, Lupe, ...): the bot locale's default voice. */
  voiceId: z.string().regex(/^[A-Z][A-Za-z-]{1,30}$/, 'must be an Amazon Polly voice id such as Joanna'),
});
export type VoiceLanguage = z.infer<typeof voiceLanguageSchema>;

/**
 * Phone calls (optional per environment): ONE Amazon Connect instance, ONE Lex V2 bot and ONE voice
 * Lambda shared by every agent (Connect allows 50 Lambdas per instance), see
 * lib/constructs/voice-channel.ts. Absent: no Connect or Lex resource at all.
 */
export const voiceConfigSchema = z.strictObject({
  /** An existing instance (its ARN), or one the stack creates. */
  instance: z.union([
    z.strictObject({
      arn: z.string().regex(CONNECT_INSTANCE_ARN, 'must be an Amazon Connect instance ARN'),
    }),
    z.strictObject({
      create: z.strictObject({
        /** The instance alias: its access URL `https://<alias>.my.connect.aws`, unique across AWS. */
        alias: z
          .string()
          .regex(
            /^(?!d-)[A-Za-z0-9](?:[A-Za-z0-9-]{0,43}[A-Za-z0-9])?$/,
            'must be 1-45 letters, digits or dashes, not starting with "d-"',
          ),
      }),
    }),
  ]),
  /** A bot locale per language; agents pick one (their `voice.localeId`), the first is the default. */
  languages: z
    .array(voiceLanguageSchema)
    .min(1)
    .max(10)
    .refine((languages) => new Set(languages.map((l) => l.localeId)).size === languages.length, {
      message: 'must not name a locale twice',
    }),
  /**
   * Where callers who ask for a person (or whom the agent escalates) go: an existing queue, or a
   * 24/7 queue the stack creates. Absent: callers stay with the agent and are told nobody else can help.
   */
  humanQueue: z
    .union([
      z.strictObject({ arn: z.string().regex(CONNECT_QUEUE_ARN, 'must be an Amazon Connect queue ARN') }),
      z.strictObject({
        create: z.strictObject({
          /** @default agent-platform-<stage>-humans */
          name: z
            .string()
            .regex(
              /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,126}$/,
              'must be 1-127 letters, digits, spaces, dots, dashes or underscores',
            )
            .optional(),
        }),
      }),
    ])
    .optional(),
});
export type VoiceConfig = z.infer<typeof voiceConfigSchema>;

/** A declared agent's phone channel: a number CloudFormation claims on the voice instance. */
export const declaredVoiceChannelSchema = z.strictObject({
  type: z.literal('voice'),
  phoneNumber: z.strictObject({
    /** ISO 3166-1 alpha-2, e.g. US, GB. */
    countryCode: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code such as US'),
    type: z.enum(['DID', 'TOLL_FREE']),
  }),
});

/**
 * Most agents one tenant's stack may declare. Each is five resources (flow, number, association
 * and its policy, records; a stack holds at most 500) and about 16 KB of template, mostly its flow
 * (a template holds at most 1 MB): the template size is the bound.
 */
export const MAX_DECLARED_AGENTS_PER_TENANT = 50;

const ulidOf = (prefix: string) => new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`);

/**
 * An agent the deploy creates (lib/stacks/declared-tenant-stack.ts). `config` is the agent's
 * configuration exactly as `POST /v1/agents` takes it (checked with the same schema at synth);
 * its channels are the declared `channels`, not `config.channels`.
 */
export const declaredAgentSchema = z.strictObject({
  /** Fixed, so that the deploy updates the same agent: `agt_` and a ULID. */
  id: z.string().regex(ulidOf('agt'), 'must be agt_ followed by a ULID'),
  config: z.record(z.string(), z.unknown()),
  channels: z.array(declaredVoiceChannelSchema).max(1).default([]),
});
export type DeclaredAgentConfig = z.infer<typeof declaredAgentSchema>;

/** A tenant whose agents live in the config: a stack of its own, `AgentPlatform-<stage>-Tenant-<slug>`. */
export const declaredTenantSchema = z.strictObject({
  /** Fixed: `ten_` and a ULID. */
  id: z.string().regex(ulidOf('ten'), 'must be ten_ followed by a ULID'),
  name: z.string().min(1).max(120),
  /** The tenant's global slug; also names its stack. */
  slug: z.string().regex(/^[a-z0-9][a-z0-9-]{2,62}$/, 'must be 3-63 lower-case letters, digits or dashes'),
  /** The owner's user record (their sign-in is created by the operator, as for any invited user). */
  owner: z.strictObject({ email: z.email(), name: z.string().min(1).max(120) }),
  agents: z.array(declaredAgentSchema).min(1).max(MAX_DECLARED_AGENTS_PER_TENANT),
});
export type DeclaredTenantConfig = z.infer<typeof declaredTenantSchema>;

/** An SNS topic ARN in any partition, e.g. arn:aws:sns:eu-west-1:111122223333:ops-alerts. */
const snsTopicArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'must be an SNS topic ARN');

/**
 * Who hears the alarms. Every alarm notifies the platform's alarm topic (in the stateful stack,
 * so subscriptions survive any redeploy of the compute); `emails` are subscribed to it, and every
 * alarm also publishes to each of `snsTopicArns` — e.g. the topic an AWS Chatbot / Amazon Q
 * Developer Slack or Teams channel configuration already watches, or a pager's integration topic.
 */
export const alarmSubscribersSchema = z.strictObject({
  emails: z.array(z.email()).default([]),
  /** At most four: an alarm takes five actions per state, one of which is the platform's topic. */
  snsTopicArns: z.array(snsTopicArn).max(4).default([]),
  /**
   * A Slack channel that gets every alarm through AWS Chatbot (Amazon Q Developer in chat
   * applications): the stack creates the channel configuration, subscribed to the alarm topic.
   * The workspace must have been authorized once in that service's console.
   */
  slackChannel: z
    .strictObject({
      /** The Slack workspace (team) id, e.g. T07ABCDEF12. */
      workspaceId: z.string().regex(/^T[A-Z0-9]{8,}$/, 'must be a Slack workspace id such as T07ABCDEF12'),
      /** The channel id (not its name), e.g. C07ABCDEF12; the Chatbot app must be invited to it. */
      channelId: z.string().regex(/^[CG][A-Z0-9]{8,}$/, 'must be a Slack channel id such as C07ABCDEF12'),
    })
    .optional(),
});
export type AlarmSubscribers = z.infer<typeof alarmSubscribersSchema>;

/** Lambdas by service name (`execution-worker`, `billing-charge-monthly-fee`, ...) and their reserved concurrency. */
const reservedConcurrencySchema = z.record(
  z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a function (service) name such as execution-worker'),
  z.number().int().min(1).max(10_000),
);

/**
 * The web console on AWS (lib/stacks/console-stack.ts): on, the stack `AgentPlatform-<stage>-Console`
 * serves it (and the chat widget, `/widget.js`) from a private S3 bucket behind CloudFront, with
 * the HTTP API as the distribution's second origin at `/v1/*`. Absent: no console stack.
 */
export const consoleConfigSchema = z.strictObject({
  enabled: z.boolean(),
});
export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;

export const environmentConfigSchema = z
  .strictObject({
    /** Omitted: the stacks are account-agnostic and deploy to whichever account the CLI credentials name. */
    account: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1'),
    /** Goes into stack, bus and pool names, so it is kept short and DNS-safe. */
    stageName: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,15}$/, 'must be 2-16 lower-case letters, digits or dashes'),
    /**
     * A production environment refuses to synthesize without an alarm subscriber, with `*` among
     * the CORS origins, or with a placeholder value: those are the operator's to give.
     */
    production: z.boolean(),
    removalPolicy: z.enum(['retain', 'destroy']),
    logRetentionDays: z
      .number()
      .int()
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      }),
    lambda: z.strictObject({
      memoryMb: z.number().int().min(128).max(10_240),
      /** HTTP API integrations give up after 30 s, so a longer Lambda timeout would only burn money. */
      timeoutSeconds: z.number().int().min(1).max(29),
      logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']),
      /**
       * Reserved concurrency by function name, for the functions that must neither starve the
       * others of the account's concurrency nor be starved by them (queue workers, webhooks).
       * Every name must be a function of the app. Reserving needs an account whose concurrency
       * quota leaves 100 unreserved (new accounts may start at 10: keep such an environment's map empty).
       */
      reservedConcurrency: reservedConcurrencySchema.default({}),
    }),
    api: z.strictObject({
      throttling: z.strictObject({
        rateLimit: z.number().positive().max(100_000),
        burstLimit: z.number().int().positive().max(100_000),
      }),
      /** Browser origins allowed by CORS; `*` only where no cookie or credential is ever involved. */
      corsAllowedOrigins: z.array(z.union([z.literal('*'), z.url()])).default([]),
    }),
    alarms: alarmSubscribersSchema.default({ emails: [], snsTopicArns: [] }),
    console: consoleConfigSchema.default({ enabled: false }),
    /**
     * The API's public address as messaging providers call it (a custom domain, no trailing path):
     * Twilio signs the URL it called, so the webhooks check signatures against this, and delivery
     * statuses are asked for here. Unset: the URL as API Gateway received it.
     */
    publicBaseUrl: z
      .url()
      .refine(
        (url) => url.startsWith('https://') && !/\/$/.test(url),
        'an https:// URL without a trailing slash',
      )
      .optional(),
    outbound: outboundConfigSchema.optional(),
    email: z.strictObject({ receiving: emailReceivingConfigSchema.optional() }).optional(),
    payments: paymentsConfigSchema.optional(),
    voice: voiceConfigSchema.optional(),
    /** Tenants and agents the deploy creates and keeps as declared (README, "Declared agents"). */
    declaredTenants: z.array(declaredTenantSchema).max(50).default([]),
    eventArchiveRetentionDays: z.number().int().min(1).max(3650),
    tokenCosts: tokenCostsSchema,
    turnRateLimits: turnRateLimitsConfigSchema,
    cognito: z.strictObject({
      accessTokenValidityMinutes: z.number().int().min(5).max(1440),
      idTokenValidityMinutes: z.number().int().min(5).max(1440),
      refreshTokenValidityDays: z.number().int().min(1).max(3650),
      mfa: z.enum(['off', 'optional']),
      /** `audit` and `enforced` need the Cognito Plus feature plan, which is billed per active user. */
      threatProtection: z.enum(['off', 'audit', 'enforced']),
    }),
    pointInTimeRecovery: z.boolean(),
    /** Table and user pool deletion protection, and termination protection of the long-lived stacks. */
    deletionProtection: z.boolean(),
  })
  .superRefine((config, ctx) => {
    for (const issue of operatorSettingIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
    if (config.voice && !(CONNECT_REGIONS as readonly string[]).includes(config.region)) {
      ctx.addIssue({
        code: 'custom',
        path: ['voice'],
        message: `Amazon Connect is not offered in ${config.region}: voice needs the environment in one of ${CONNECT_REGIONS.join(', ')}`,
      });
    }
    declaredTenantIssues(config, ctx);
    const instanceArn =
      config.voice && 'arn' in config.voice.instance ? config.voice.instance.arn : undefined;
    if (instanceArn && instanceArn.split(':')[3] !== config.region) {
      ctx.addIssue({
        code: 'custom',
        path: ['voice', 'instance', 'arn'],
        message: `the instance must be in the environment's region (${config.region}): its bot and Lambda are`,
      });
    }
  });

export type EnvironmentConfig = z.infer<typeof environmentConfigSchema>;

/** Unique ids and slugs, agent configurations the API would accept, and voice where there is voice. */
function declaredTenantIssues(
  config: { declaredTenants: readonly DeclaredTenantConfig[]; voice?: VoiceConfig | undefined },
  ctx: z.RefinementCtx,
): void {
  const seen = new Set<string>();
  const once = (key: string, path: (string | number)[], what: string) => {
    if (seen.has(key))
      ctx.addIssue({ code: 'custom', path, message: `must not declare the same ${what} twice` });
    seen.add(key);
  };
  config.declaredTenants.forEach((tenant, t) => {
    once(`tenant:${tenant.id}`, ['declaredTenants', t, 'id'], 'tenant');
    once(`slug:${tenant.slug}`, ['declaredTenants', t, 'slug'], 'slug');
    tenant.agents.forEach((agent, a) => {
      const path = ['declaredTenants', t, 'agents', a];
      once(`agent:${agent.id}`, [...path, 'id'], 'agent');
      const parsed = agentCreateBody().safeParse(agent.config);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'config', ...issue.path.map(String)],
            message: issue.message,
          });
        }
      } else if (parsed.data.channels.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'config', 'channels'],
          message: 'must be empty: a declared agent’s channels are its `channels`',
        });
      }
      if (agent.channels.some((c) => c.type === 'voice') && !config.voice) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'channels'],
          message: 'a voice channel needs the environment’s voice (config voice)',
        });
      }
    });
  });
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates one environment's raw config; the message names the environment and every bad field. */
export function parseEnvironmentConfig(envName: string, raw: unknown): EnvironmentConfig {
  const result = environmentConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
      return `  - ${where}: ${issue.message}`;
    });
    throw new ConfigError(
      `Invalid configuration for environment "${envName}" (cdk.json context environments.${envName}, with any -c ${Object.keys(OPERATOR_CONTEXT_KEYS).join('/')} given):\n${problems.join('\n')}`,
    );
  }
  return result.data;
}

/**
 * The one place that turns CDK context into typed configuration: the environment is chosen with
 * `-c env=<name>` and its settings are read from the `environments` context object in cdk.json.
 */
export function loadEnvironmentConfig(app: App): EnvironmentConfig {
  const environments: unknown = app.node.tryGetContext('environments');
  if (typeof environments !== 'object' || environments === null || Array.isArray(environments)) {
    throw new ConfigError('cdk.json context must contain an "environments" object keyed by environment name');
  }
  const known = Object.keys(environments);
  const listing = known.length > 0 ? known.join(', ') : '(none)';
  const envName: unknown = app.node.tryGetContext('env');
  if (typeof envName !== 'string' || envName.length === 0) {
    throw new ConfigError(`No environment selected: pass -c env=<name>. Known environments: ${listing}`);
  }
  if (!Object.hasOwn(environments, envName)) {
    throw new ConfigError(`Unknown environment "${envName}". Known environments: ${listing}`);
  }
  const operatorContext: Record<string, unknown> = {};
  for (const key of Object.keys(OPERATOR_CONTEXT_KEYS)) {
    const value: unknown = app.node.tryGetContext(key);
    if (value !== undefined) operatorContext[key] = value;
  }
  return parseEnvironmentConfig(
    envName,
    withOperatorContext((environments as Record<string, unknown>)[envName], operatorContext),
  );
}
