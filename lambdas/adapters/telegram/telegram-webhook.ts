import type { InboundAttachment, InboundMessage } from '../../domain/channels/model';
import type { InboundDelivery } from '../../domain/channels/receive';
import { constantTimeEqual, headerValue, refused, VERIFIED, type Verification } from '../chat/signatures';

/**
 * Telegram signs nothing: it sends back, in `X-Telegram-Bot-Api-Secret-Token`, the `secret_token`
 * the platform gave `setWebhook` (https://core.telegram.org/bots/api#setwebhook). It must equal
 * the bot's secret, compared in constant time.
 */
export function verifyTelegramRequest(
  request: { readonly headers: Readonly<Record<string, string | undefined>> },
  secretToken: string,
): Verification {
  if (!secretToken) return refused('no secret token configured');
  const given = headerValue(request.headers, 'x-telegram-bot-api-secret-token');
  if (!given) return refused('missing X-Telegram-Bot-Api-Secret-Token');
  return constantTimeEqual(given, secretToken)
    ? VERIFIED
    : refused('X-Telegram-Bot-Api-Secret-Token does not match');
}

/** Telegram's own rule for a secret token: 1–256 of A-Z, a-z, 0-9, `_` and `-`. */
export const TELEGRAM_SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export type TelegramDelivery =
  | {
      readonly kind: 'update';
      readonly messages: readonly InboundMessage[];
      /** Why nothing is to be answered, when `messages` is empty. */
      readonly ignored?: string;
    }
  | { readonly kind: 'invalid'; readonly reason: string };

interface TelegramUser {
  id?: unknown;
  is_bot?: unknown;
  first_name?: unknown;
  last_name?: unknown;
  username?: unknown;
}

interface TelegramFile {
  file_id?: unknown;
  file_size?: unknown;
  mime_type?: unknown;
  file_name?: unknown;
}

interface TelegramMessage {
  message_id?: unknown;
  message_thread_id?: unknown;
  is_topic_message?: unknown;
  from?: TelegramUser;
  chat?: { id?: unknown; type?: unknown };
  date?: unknown;
  text?: unknown;
  caption?: unknown;
  photo?: unknown;
  document?: TelegramFile;
  voice?: TelegramFile;
  audio?: TelegramFile;
  video?: TelegramFile;
}

/**
 * Reads one Update (https://core.telegram.org/bots/api#update) for the bot behind `channelKey`.
 * A new `message` is a customer writing; an `edited_message` is not a new question (answering
 * it would answer the same thing twice), and channel posts, callbacks and the rest are not
 * conversations with the agent. The customer is the chat (in a private chat, the person; in a
 * group, where the bot's privacy mode lets through only commands, mentions and replies to it,
 * the group), and the reply goes to the same chat. `update_id` is unique per bot only, hence
 * the dedup key `<channelKey>:<update_id>`.
 */
export function parseTelegramUpdate(channelKey: string, rawBody: string): TelegramDelivery {
  let update: { update_id?: unknown; message?: TelegramMessage; [other: string]: unknown };
  try {
    const parsed: unknown = JSON.parse(rawBody);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return { kind: 'invalid', reason: 'body is not a JSON object' };
    }
    update = parsed as typeof update;
  } catch {
    return { kind: 'invalid', reason: 'body is not JSON' };
  }
  if (!Number.isSafeInteger(update.update_id)) return { kind: 'invalid', reason: 'update_id is missing' };
  const ignore = (why: string): TelegramDelivery => ({ kind: 'update', messages: [], ignored: why });

  const message = update.message;
  if (typeof message !== 'object' || message === null) {
    const kinds = Object.keys(update).filter((key) => key !== 'update_id');
    return ignore(`update of kind ${kinds.join(', ') || 'none'}`);
  }
  const chatId = message.chat?.id;
  if (!Number.isSafeInteger(chatId) || !Number.isSafeInteger(message.message_id)) {
    return { kind: 'invalid', reason: 'message without chat.id or message_id' };
  }
  if (message.from?.is_bot === true) return ignore('a bot wrote it');

  const text = (
    typeof message.text === 'string'
      ? message.text
      : typeof message.caption === 'string'
        ? message.caption
        : ''
  ).trim();
  const attachments = attachmentsOf(message);
  if (text === '' && attachments.length === 0)
    return ignore('no text and no file (a sticker, a location, a service message)');

  const threadId =
    message.is_topic_message === true && Number.isSafeInteger(message.message_thread_id)
      ? String(message.message_thread_id)
      : undefined;
  const name = nameOf(message.from);
  return {
    kind: 'update',
    messages: [
      {
        channel: 'telegram',
        agentAddress: channelKey,
        customerAddress: String(chatId),
        ...(name ? { customerName: name } : {}),
        text,
        attachments,
        providerMessageId: `${channelKey}:${String(update.update_id)}`,
        sentAt:
          typeof message.date === 'number'
            ? new Date(message.date * 1000).toISOString()
            : new Date().toISOString(),
        replyContext: {
          chatId: String(chatId),
          replyToMessageId: String(message.message_id),
          ...(threadId ? { messageThreadId: threadId } : {}),
        },
      },
    ],
  };
}

function nameOf(user: TelegramUser | undefined): string | undefined {
  if (!user) return undefined;
  const full = [user.first_name, user.last_name]
    .filter((part) => typeof part === 'string' && part !== '')
    .join(' ');
  if (full) return full.slice(0, 200);
  return typeof user.username === 'string' ? user.username : undefined;
}

function attachmentsOf(message: TelegramMessage): InboundAttachment[] {
  const attachments: InboundAttachment[] = [];
  // A photo comes in several sizes, smallest first: the largest is the one worth keeping.
  if (Array.isArray(message.photo) && message.photo.length > 0) {
    const largest = message.photo[message.photo.length - 1] as TelegramFile;
    if (typeof largest?.file_id === 'string') attachments.push(fileOf(largest, 'image/jpeg'));
  }
  for (const file of [message.document, message.voice, message.audio, message.video]) {
    if (typeof file?.file_id === 'string') attachments.push(fileOf(file));
  }
  return attachments;
}

function fileOf(file: TelegramFile, defaultType?: string): InboundAttachment {
  const contentType = typeof file.mime_type === 'string' ? file.mime_type : defaultType;
  return {
    ref: file.file_id as string,
    ...(contentType ? { contentType } : {}),
    ...(typeof file.file_name === 'string' ? { name: file.file_name } : {}),
    ...(typeof file.file_size === 'number' ? { sizeBytes: file.file_size } : {}),
  };
}

/**
 * A Telegram POST to `/v1/webhooks/telegram/{channelKey}` as the pipeline takes it: routed by the
 * channel key, proven by the secret token kept with the bot token (`secretToken`).
 */
export function telegramWebhook(
  channelKey: string,
  request: { readonly headers: Readonly<Record<string, string | undefined>>; readonly rawBody: string },
):
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'delivery'; readonly delivery: InboundDelivery; readonly ignored?: string } {
  const parsed = parseTelegramUpdate(channelKey, request.rawBody);
  if (parsed.kind === 'invalid') return parsed;
  return {
    kind: 'delivery',
    ...(parsed.ignored ? { ignored: parsed.ignored } : {}),
    delivery: {
      channel: 'telegram',
      agentAddress: channelKey,
      messages: parsed.messages,
      verify: (secrets) => verifyTelegramRequest(request, secrets.secretToken ?? ''),
    },
  };
}
