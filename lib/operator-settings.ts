import type { AlarmSubscribers, OutboundConfig, VoiceConfig } from './config';

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
  /**
   * An existing Amazon Connect instance (its ARN) for phone calls: turns voice on with it, in the
   * environment's `voice` languages (default en_US / Joanna) and with a 24/7 human queue created
   * on it unless `voice.humanQueue` says otherwise.
   */
  voiceInstanceArn: 'voice.instance.arn',
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
export function operatorSettingIssues(config: {
  production: boolean;
  account?: string | undefined;
  alarms: AlarmSubscribers;
  api: { corsAllowedOrigins: string[] };
  console: { enabled: boolean };
  outbound?: OutboundConfig | undefined;
  voice?: VoiceConfig | undefined;
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
    [
      ['voice', 'instance', 'arn'],
      config.voice && 'arn' in config.voice.instance ? config.voice.instance.arn : undefined,
    ],
    [
      ['voice', 'humanQueue', 'arn'],
      config.voice?.humanQueue && 'arn' in config.voice.humanQueue ? config.voice.humanQueue.arn : undefined,
    ],
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
  // A console hosted by the platform calls the API on its own origin (CloudFront's `/v1/*`): no CORS.
  if (origins.length === 0 && !config.console.enabled) {
    issues.push({
      path: ['api', 'corsAllowedOrigins'],
      message:
        'no browser origin is allowed: give the console’s origin with -c corsAllowedOrigins=https://console.<your domain> (several: comma-separated), or host the console on the platform (console.enabled in cdk.json)',
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
  const voiceInstanceArn = context.voiceInstanceArn;
  if (voiceInstanceArn !== undefined) {
    const voice = record(merged.voice);
    merged.voice = {
      languages: [{ localeId: 'en_US', voiceId: 'Joanna' }],
      humanQueue: { create: {} },
      ...voice,
      instance: { arn: String(voiceInstanceArn).trim() },
    };
  }
  return merged;
}
