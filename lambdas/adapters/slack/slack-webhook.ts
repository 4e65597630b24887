import type { InboundAttachment, InboundMessage } from '../../domain/channels/model';
import type { InboundDelivery } from '../../domain/channels/receive';
import {
  constantTimeEqual,
  headerValue,
  hmacSha256Hex,
  refused,
  VERIFIED,
  type Verification,
} from '../chat/signatures';

/** Slack refuses to let a signed request be replayed later than this; so do we. */
export const SLACK_MAX_AGE_SECONDS = 5 * 60;

/**
 * Checks Slack's request signature (https://api.slack.com/authentication/verifying-requests-from-slack):
 * `X-Slack-Signature` must be `v0=` + hex HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<raw body>`
 * with the app's signing secret, compared in constant time, and the timestamp within five
 * minutes of now (either way: a clock ahead is as suspicious as one behind).
 */
export function verifySlackRequest(
  request: { readonly headers: Readonly<Record<string, string | undefined>>; readonly rawBody: string },
  signingSecret: string,
  nowSeconds: number,
): Verification {
  if (!signingSecret) return refused('no signing secret configured');
  const timestamp = headerValue(request.headers, 'x-slack-request-timestamp');
  const signature = headerValue(request.headers, 'x-slack-signature');
  if (!timestamp || !/^\d{1,12}$/.test(timestamp))
    return refused('missing or malformed X-Slack-Request-Timestamp');
  if (!signature) return refused('missing X-Slack-Signature');
  if (Math.abs(nowSeconds - Number(timestamp)) > SLACK_MAX_AGE_SECONDS) {
    return refused('X-Slack-Request-Timestamp is more than 5 minutes from now (replay?)');
  }
  const expected = slackSignature(request.rawBody, signingSecret, Number(timestamp));
  return constantTimeEqual(signature, expected) ? VERIFIED : refused('X-Slack-Signature does not match');
}

/** Signs like Slack does (tests and `npm run message`). */
export function slackSignature(rawBody: string, signingSecret: string, timestampSeconds: number): string {
  return `v0=${hmacSha256Hex(signingSecret, `v0:${timestampSeconds}:${rawBody}`)}`;
}

/** What one Events API delivery asks of us, read before any check (the check needs its team's secret). */
export type SlackDelivery =
  /** The handshake when the Request URL is set: answered with its challenge, nothing stored. */
  | { readonly kind: 'url_verification'; readonly challenge: string }
  /** An event for a workspace: route by `teamId`, verify, then `messages` (maybe none: ignored events). */
  | {
      readonly kind: 'event';
      readonly teamId: string;
      readonly messages: readonly InboundMessage[];
      /** Why nothing is to be answered, when `messages` is empty (bot's own message, an edit...). */
      readonly ignored?: string;
    }
  | { readonly kind: 'invalid'; readonly reason: string };

interface SlackFile {
  id?: unknown;
  name?: unknown;
  mimetype?: unknown;
  size?: unknown;
}

interface SlackMessageEvent {
  type?: unknown;
  subtype?: unknown;
  user?: unknown;
  bot_id?: unknown;
  app_id?: unknown;
  text?: unknown;
  ts?: unknown;
  thread_ts?: unknown;
  channel?: unknown;
  channel_type?: unknown;
  files?: unknown;
}

interface SlackEnvelope {
  type?: unknown;
  challenge?: unknown;
  team_id?: unknown;
  api_app_id?: unknown;
  event_id?: unknown;
  event_time?: unknown;
  event?: SlackMessageEvent;
  authorizations?: unknown;
}

/** Message subtypes that are still a person writing to the agent; every other subtype (edits, joins, deletions, bots) is not. */
const CUSTOMER_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast']);

/**
 * Reads an Events API body. The agent answers direct messages (`message` events in an `im`) and
 * mentions (`app_mention`) wherever they are, replying in the thread of the mention; ordinary
 * channel chatter (`message` in a channel the bot sits in) is not addressed to it, and a mention
 * also arrives as a channel `message`, which would otherwise be answered twice. Its own messages
 * (any `bot_id`, subtype `bot_message`, or the installation's bot user) are ignored, so the agent
 * never talks to itself. `event_id` is the dedup key: Slack's retries (`X-Slack-Retry-Num`) carry
 * the same one.
 */
export function parseSlackDelivery(rawBody: string): SlackDelivery {
  let envelope: SlackEnvelope;
  try {
    const parsed: unknown = JSON.parse(rawBody);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return { kind: 'invalid', reason: 'body is not a JSON object' };
    }
    envelope = parsed as SlackEnvelope;
  } catch {
    return { kind: 'invalid', reason: 'body is not JSON' };
  }
  if (envelope.type === 'url_verification') {
    const challenge = envelope.challenge;
    if (typeof challenge !== 'string' || !/^[A-Za-z0-9_\-.]{1,200}$/.test(challenge)) {
      return { kind: 'invalid', reason: 'challenge must be a short token' };
    }
    return { kind: 'url_verification', challenge };
  }
  const teamId = envelope.team_id;
  if (typeof teamId !== 'string' || !/^[A-Z0-9]{1,32}$/.test(teamId)) {
    return { kind: 'invalid', reason: 'team_id is missing or malformed' };
  }
  if (envelope.type !== 'event_callback') {
    return { kind: 'event', teamId, messages: [], ignored: `delivery type ${String(envelope.type)}` };
  }
  const event = envelope.event;
  const eventId = envelope.event_id;
  if (typeof event !== 'object' || event === null || typeof eventId !== 'string' || eventId === '') {
    return { kind: 'invalid', reason: 'event_callback without event or event_id' };
  }
  const ignore = (why: string): SlackDelivery => ({ kind: 'event', teamId, messages: [], ignored: why });

  const isDirect = event.type === 'message' && event.channel_type === 'im';
  if (!isDirect && event.type !== 'app_mention')
    return ignore(`event ${String(event.type)} not addressed to the agent`);
  if (event.bot_id !== undefined || event.subtype === 'bot_message') return ignore('a bot wrote it');
  if (!CUSTOMER_SUBTYPES.has(event.subtype as string | undefined))
    return ignore(`subtype ${String(event.subtype)}`);
  const botUsers = botUserIds(envelope.authorizations);
  if (typeof event.user !== 'string' || event.user === '') return ignore('no user');
  if (botUsers.has(event.user)) return ignore('the agent wrote it');
  if (typeof event.channel !== 'string' || typeof event.ts !== 'string') {
    return { kind: 'invalid', reason: 'event without channel or ts' };
  }

  let text = typeof event.text === 'string' ? event.text : '';
  // A mention starts with the bot's own `<@U…>`: it says whom the message is for, not what it asks.
  for (const bot of botUsers) text = text.split(`<@${bot}>`).join('');
  text = text.trim();
  const attachments = filesOf(event.files);
  if (text === '' && attachments.length === 0) return ignore('empty message');

  const threadTs = typeof event.thread_ts === 'string' ? event.thread_ts : isDirect ? undefined : event.ts;
  const message: InboundMessage = {
    channel: 'slack',
    agentAddress: teamId,
    customerAddress: event.user,
    text,
    attachments,
    providerMessageId: eventId,
    sentAt: slackTime(event.ts, envelope.event_time),
    replyContext: { channel: event.channel, ...(threadTs ? { threadTs } : {}) },
  };
  return { kind: 'event', teamId, messages: [message] };
}

function botUserIds(authorizations: unknown): Set<string> {
  const ids = new Set<string>();
  if (!Array.isArray(authorizations)) return ids;
  for (const authorization of authorizations as { user_id?: unknown; is_bot?: unknown }[]) {
    if (authorization?.is_bot === true && typeof authorization.user_id === 'string')
      ids.add(authorization.user_id);
  }
  return ids;
}

function filesOf(files: unknown): InboundAttachment[] {
  if (!Array.isArray(files)) return [];
  return (files as SlackFile[])
    .filter((file) => typeof file?.id === 'string')
    .map((file) => ({
      ref: file.id as string,
      ...(typeof file.mimetype === 'string' ? { contentType: file.mimetype } : {}),
      ...(typeof file.name === 'string' ? { name: file.name } : {}),
      ...(typeof file.size === 'number' ? { sizeBytes: file.size } : {}),
    }));
}

/** `ts` is `<epoch seconds>.<micro>`, Slack's id of the message and its time. */
function slackTime(ts: string, eventTime: unknown): string {
  const seconds = Number(ts);
  if (Number.isFinite(seconds) && seconds > 0) return new Date(Math.floor(seconds * 1000)).toISOString();
  if (typeof eventTime === 'number') return new Date(eventTime * 1000).toISOString();
  return new Date().toISOString();
}

export interface WebhookRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly rawBody: string;
}

/**
 * A Slack POST as the pipeline takes it: the url_verification handshake to answer (it names no
 * team, so no signing secret can be chosen to check it: the challenge is echoed and nothing is
 * stored), or a delivery routed by team id whose proof is the v0 signature with the channel's
 * `signingSecret`.
 */
export function slackWebhook(
  request: WebhookRequest,
  nowSeconds: number,
):
  | { readonly kind: 'challenge'; readonly challenge: string }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'delivery'; readonly delivery: InboundDelivery; readonly ignored?: string } {
  const parsed = parseSlackDelivery(request.rawBody);
  if (parsed.kind === 'invalid') return parsed;
  if (parsed.kind === 'url_verification') return { kind: 'challenge', challenge: parsed.challenge };
  return {
    kind: 'delivery',
    ...(parsed.ignored ? { ignored: parsed.ignored } : {}),
    delivery: {
      channel: 'slack',
      agentAddress: parsed.teamId,
      messages: parsed.messages,
      verify: (secrets) => verifySlackRequest(request, secrets.signingSecret ?? '', nowSeconds),
    },
  };
}
