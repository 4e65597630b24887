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

/**
 * Checks `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw body with the Meta app's
 * secret (https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads),
 * in constant time. The raw bytes matter: Meta escapes non-ASCII as `\uXXXX`, which re-serialised
 * JSON would not reproduce.
 */
export function verifyMetaRequest(
  request: { readonly headers: Readonly<Record<string, string | undefined>>; readonly rawBody: string },
  appSecret: string,
): Verification {
  if (!appSecret) return refused('no app secret configured');
  const given = headerValue(request.headers, 'x-hub-signature-256');
  if (!given) return refused('missing X-Hub-Signature-256');
  return constantTimeEqual(given, metaSignature(request.rawBody, appSecret))
    ? VERIFIED
    : refused('X-Hub-Signature-256 does not match');
}

/** Signs like Meta does (tests and `npm run message`). */
export function metaSignature(rawBody: string, appSecret: string): string {
  return `sha256=${hmacSha256Hex(appSecret, rawBody)}`;
}

/**
 * The subscription handshake (`GET` with `hub.mode=subscribe`, `hub.verify_token`,
 * `hub.challenge`): the token to check, and the challenge to echo once it checks out.
 */
export function metaSubscription(
  query: Readonly<Record<string, string | undefined>>,
): { readonly verifyToken: string; readonly challenge: string } | { readonly invalid: string } {
  if (query['hub.mode'] !== 'subscribe') return { invalid: 'hub.mode must be subscribe' };
  const verifyToken = query['hub.verify_token'];
  const challenge = query['hub.challenge'];
  if (!verifyToken) return { invalid: 'hub.verify_token is missing' };
  // Echoed back verbatim: held to what Meta sends (digits), so the endpoint reflects nothing else.
  if (!challenge || !/^[A-Za-z0-9_-]{1,128}$/.test(challenge))
    return { invalid: 'hub.challenge is missing or malformed' };
  return { verifyToken, challenge };
}

/** One entry of a delivery: the page (Messenger) or Instagram account it is for, and what customers wrote. */
export interface MetaEntry {
  readonly channel: 'messenger' | 'instagram';
  /** `entry.id`: the page id or the Instagram account id, the directory address. */
  readonly address: string;
  readonly messages: readonly InboundMessage[];
}

export type MetaDelivery =
  | { readonly kind: 'delivery'; readonly entries: readonly MetaEntry[] }
  | { readonly kind: 'invalid'; readonly reason: string };

interface MetaMessagingEvent {
  sender?: { id?: unknown };
  recipient?: { id?: unknown };
  timestamp?: unknown;
  message?: {
    mid?: unknown;
    text?: unknown;
    is_echo?: unknown;
    is_deleted?: unknown;
    is_unsupported?: unknown;
    attachments?: unknown;
  };
  postback?: { mid?: unknown; title?: unknown; payload?: unknown };
}

interface MetaEntryBody {
  id?: unknown;
  time?: unknown;
  messaging?: unknown;
  changes?: unknown;
}

/**
 * Reads a Messenger (`object: page`) or Instagram (`object: instagram`) delivery. Meta batches:
 * one POST may carry several entries (pages/accounts) and each several events, so every entry
 * and every event is read, from `messaging` and from `changes` with `field: messages` (the form
 * Instagram's own API delivers). Echoes of the agent's own sends, reads, deliveries, reactions
 * and deletions are not customers writing; a postback (a button the customer pressed) is, with
 * the button's title as the text. `mid` is the dedup key.
 */
export function parseMetaDelivery(rawBody: string): MetaDelivery {
  let body: { object?: unknown; entry?: unknown };
  try {
    const parsed: unknown = JSON.parse(rawBody);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return { kind: 'invalid', reason: 'body is not a JSON object' };
    }
    body = parsed as typeof body;
  } catch {
    return { kind: 'invalid', reason: 'body is not JSON' };
  }
  const channel =
    body.object === 'page' ? 'messenger' : body.object === 'instagram' ? 'instagram' : undefined;
  if (!channel) return { kind: 'invalid', reason: 'object must be page or instagram' };
  if (!Array.isArray(body.entry)) return { kind: 'invalid', reason: 'entry must be an array' };

  const entries: MetaEntry[] = [];
  for (const entry of body.entry as MetaEntryBody[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const address =
      typeof entry.id === 'string' ? entry.id : typeof entry.id === 'number' ? String(entry.id) : '';
    if (!/^\d{1,32}$/.test(address))
      return { kind: 'invalid', reason: 'entry.id must be a page or account id' };
    const events: MetaMessagingEvent[] = [];
    if (Array.isArray(entry.messaging)) events.push(...(entry.messaging as MetaMessagingEvent[]));
    if (Array.isArray(entry.changes)) {
      for (const change of entry.changes as { field?: unknown; value?: unknown }[]) {
        if (change?.field === 'messages' && typeof change.value === 'object' && change.value !== null) {
          events.push(change.value as MetaMessagingEvent);
        }
      }
    }
    const messages = events.flatMap((event) => inboundOf(channel, address, event));
    entries.push({ channel, address, messages });
  }
  return { kind: 'delivery', entries };
}

function inboundOf(
  channel: MetaEntry['channel'],
  address: string,
  event: MetaMessagingEvent,
): InboundMessage[] {
  if (typeof event !== 'object' || event === null) return [];
  const customer = idOf(event.sender?.id);
  if (!customer || customer === address) return []; // the page itself wrote: an echo
  const sentAt =
    typeof event.timestamp === 'number' ? new Date(event.timestamp).toISOString() : new Date().toISOString();
  const base = { channel, agentAddress: address, customerAddress: customer, sentAt };

  const message = event.message;
  if (message && typeof message === 'object') {
    if (message.is_echo === true || message.is_deleted === true) return [];
    if (typeof message.mid !== 'string' || message.mid === '') return [];
    const text = typeof message.text === 'string' ? message.text.trim() : '';
    const attachments = attachmentsOf(message.attachments);
    if (text === '' && attachments.length === 0) return [];
    return [
      { ...base, text, attachments, providerMessageId: message.mid, replyContext: { recipientId: customer } },
    ];
  }
  const postback = event.postback;
  if (
    postback &&
    typeof postback === 'object' &&
    typeof postback.mid === 'string' &&
    typeof postback.title === 'string'
  ) {
    return [
      {
        ...base,
        text: postback.title,
        attachments: [],
        providerMessageId: postback.mid,
        replyContext: { recipientId: customer },
      },
    ];
  }
  return [];
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && /^\d{1,32}$/.test(value)) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

function attachmentsOf(attachments: unknown): InboundAttachment[] {
  if (!Array.isArray(attachments)) return [];
  const result: InboundAttachment[] = [];
  for (const attachment of attachments as { type?: unknown; payload?: { url?: unknown } }[]) {
    const url = attachment?.payload?.url;
    if (typeof url !== 'string' || !url.startsWith('https://')) continue;
    const kind = typeof attachment.type === 'string' ? attachment.type : undefined;
    result.push({ ref: url, ...(kind && CONTENT_TYPES[kind] ? { contentType: CONTENT_TYPES[kind] } : {}) });
  }
  return result;
}

/** Meta names the kind, not the MIME type; the broad type is what a tool deciding to fetch needs. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  image: 'image/*',
  video: 'video/*',
  audio: 'audio/*',
  file: 'application/octet-stream',
};

/**
 * A Meta POST as the pipeline takes it: one delivery per entry (page or Instagram account),
 * each proven by the whole body's signature with that channel's `appSecret` (a Meta app signs
 * the batch once; every page it carries belongs to that app). `receiveBatch` checks every entry
 * before storing any.
 */
export function metaWebhook(request: {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly rawBody: string;
}):
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'deliveries'; readonly deliveries: readonly InboundDelivery[] } {
  const parsed = parseMetaDelivery(request.rawBody);
  if (parsed.kind === 'invalid') return parsed;
  return {
    kind: 'deliveries',
    deliveries: parsed.entries.map((entry) => ({
      channel: entry.channel,
      agentAddress: entry.address,
      messages: entry.messages,
      verify: (secrets) => verifyMetaRequest(request, secrets.appSecret ?? ''),
    })),
  };
}
