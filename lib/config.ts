import type { App } from 'aws-cdk-lib';
import * as z from 'zod';

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
    outbound: outboundConfigSchema.optional(),
    eventArchiveRetentionDays: z.number().int().min(1).max(3650),
    tokenCosts: tokenCostsSchema,
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
  });

export type EnvironmentConfig = z.infer<typeof environmentConfigSchema>;

/**
 * Operator settings that may be given on the command line (`-c key=value`, comma-separated for
 * several values) instead of in cdk.json, so that the repository ships no addresses or origins.
 * A value given this way is added to (subscribers) or replaces (origins) the environment's own.
 */
export const OPERATOR_CONTEXT_KEYS = {
  /** Subscribed to the alarm topic (the subscriber confirms by mail). */
  alarmEmail: 'alarms.emails',
  /** Every alarm also publishes to this existing SNS topic (e.g. one an AWS Chatbot channel watches). */
  alarmTopicArn: 'alarms.snsTopicArns',
  /** `<workspace id>/<channel id>`: alarms go to this Slack channel through AWS Chatbot. */
  alarmSlackChannel: 'alarms.slackChannel',
  /** Replaces api.corsAllowedOrigins: the browser origins of the console or web chat. */
  corsAllowedOrigins: 'api.corsAllowedOrigins',
} as const;
type OperatorContextKey = keyof typeof OPERATOR_CONTEXT_KEYS;

/** How the operator gives a setting, for the messages that ask for it. */
function howToGive(path: string): string {
  const key = (Object.keys(OPERATOR_CONTEXT_KEYS) as OperatorContextKey[]).find((k) =>
    path.startsWith(OPERATOR_CONTEXT_KEYS[k]),
  );
  return key ? `-c ${key}=…` : `${path} in cdk.json`;
}

/** Domains reserved for documentation (RFC 2606, RFC 6761) and account ids only ever seen in examples. */
const PLACEHOLDER_HOST = /(^|\.)(example\.(com|org|net)|example|test|invalid|localhost)$/i;
const PLACEHOLDER_ACCOUNT = /^(\d)\1{11}$|^123456789012$/;
const PLACEHOLDER_WORD =
  /changeme|change-me|replace-?me|placeholder|\byour-?(company|domain|org|team|console)\b|\bxxx+\b|\btodo\b|\btbd\b|[<>{}]/i;

/** Why a configured value looks like a placeholder, or undefined when it does not. */
export function placeholderReason(value: string): string | undefined {
  if (PLACEHOLDER_WORD.test(value)) return 'it reads like a placeholder';
  const host = value.includes('@')
    ? value.slice(value.lastIndexOf('@') + 1)
    : /^[a-z][a-z0-9+.-]*:\/\/([^/:?#]+)/i.exec(value)?.[1];
  if (host && PLACEHOLDER_HOST.test(host)) return `${host} is a reserved example domain`;
  const account =
    /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):/.exec(value)?.[1] ?? (/^\d{12}$/.test(value) ? value : undefined);
  if (account && PLACEHOLDER_ACCOUNT.test(account)) return `${account} is an example account id`;
  return undefined;
}

interface SettingIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

/** Placeholders anywhere; in production, also a missing subscriber and a wildcard or missing origin. */
function operatorSettingIssues(config: {
  production: boolean;
  account?: string | undefined;
  alarms: AlarmSubscribers;
  api: { corsAllowedOrigins: string[] };
  outbound?: OutboundConfig | undefined;
}): SettingIssue[] {
  const issues: SettingIssue[] = [];
  const values: [(string | number)[], string | undefined][] = [
    [['account'], config.account],
    ...config.alarms.emails.map((email, i): [(string | number)[], string] => [
      ['alarms', 'emails', i],
      email,
    ]),
    ...config.alarms.snsTopicArns.map((arn, i): [(string | number)[], string] => [
      ['alarms', 'snsTopicArns', i],
      arn,
    ]),
    ...config.api.corsAllowedOrigins.map((origin, i): [(string | number)[], string] => [
      ['api', 'corsAllowedOrigins', i],
      origin,
    ]),
    [['outbound', 'sesFromAddress'], config.outbound?.sesFromAddress],
  ];
  for (const [path, value] of values) {
    const reason = value === undefined ? undefined : placeholderReason(value);
    if (reason) {
      issues.push({
        path,
        message: `"${value}" is a placeholder (${reason}): give the real value with ${howToGive(path.filter((p) => typeof p === 'string').join('.'))}`,
      });
    }
  }
  const origins = config.api.corsAllowedOrigins;
  if (origins.length === 0) {
    issues.push({
      path: ['api', 'corsAllowedOrigins'],
      message:
        'no browser origin is allowed: give the console’s origin with -c corsAllowedOrigins=https://console.<your domain> (several: comma-separated)',
    });
  }
  if (!config.production) return issues;
  const { emails, snsTopicArns, slackChannel } = config.alarms;
  if (emails.length + snsTopicArns.length === 0 && !slackChannel) {
    issues.push({
      path: ['alarms'],
      message:
        'a production environment needs at least one alarm subscriber, or no alarm reaches anyone: give -c alarmEmail=<on-call address>, -c alarmTopicArn=<SNS topic ARN, e.g. one your AWS Chatbot channel watches> and/or -c alarmSlackChannel=<Slack workspace id>/<channel id>',
    });
  }
  if (origins.includes('*')) {
    issues.push({
      path: ['api', 'corsAllowedOrigins'],
      message:
        '"*" lets any web page call the production API from a browser: give the exact origins with -c corsAllowedOrigins=https://console.<your domain>',
    });
  }
  return issues;
}

/** Splits a `-c key=a,b` value (a string) or takes an array from cdk.context.json as it is. */
function contextList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [value];
  return items.map((item) => String(item).trim()).filter((item) => item.length > 0);
}

/** The environment's raw settings with the operator's command-line settings applied. */
export function withOperatorContext(raw: unknown, context: Readonly<Record<string, unknown>>): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const merged = { ...(raw as Record<string, unknown>) };
  const record = (value: unknown): Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? { ...(value as Record<string, unknown>) }
      : {};
  const given = (key: OperatorContextKey) =>
    context[key] === undefined ? undefined : contextList(context[key]);
  const emails = given('alarmEmail');
  const topics = given('alarmTopicArn');
  if (emails || topics) {
    const alarms = record(merged.alarms);
    const existing = (key: string) => (Array.isArray(alarms[key]) ? (alarms[key] as unknown[]) : []);
    if (emails) alarms.emails = [...existing('emails'), ...emails];
    if (topics) alarms.snsTopicArns = [...existing('snsTopicArns'), ...topics];
    merged.alarms = alarms;
  }
  const slack = context.alarmSlackChannel;
  if (typeof slack === 'string') {
    const parts = slack.split('/').map((part) => part.trim());
    // Anything but two parts leaves channelId empty, and the schema's message asks for it.
    const [workspaceId, channelId] = parts.length === 2 ? parts : [slack, ''];
    merged.alarms = { ...record(merged.alarms), slackChannel: { workspaceId, channelId } };
  }
  const origins = given('corsAllowedOrigins');
  if (origins) merged.api = { ...record(merged.api), corsAllowedOrigins: origins };
  return merged;
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
