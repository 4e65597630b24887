import { ProviderError } from '../../domain/actions/ports';
import {
  jsonOf,
  ProviderAnswerError,
  type ProviderPostOptions,
  postToProvider,
  splitText,
} from '../chat/provider-post';
import { retryAfterMs } from '../retry';

const PROVIDER = 'telegram';
/** `providerCode` of a bot token refused before any call: it cannot be a Telegram token. */
export const MALFORMED_TOKEN = 'malformed_token';
/**
 * Telegram's answers that mean the bot token is not a bot's: 401 Unauthorized (a revoked or wrong
 * token), 404 Not Found (a token of the right shape that names no bot), or the token's own shape.
 */
export const BAD_TOKEN_CODES: ReadonlySet<string> = new Set(['401', '404', MALFORMED_TOKEN]);
/** sendMessage's limit on `text`, after entities parsing. */
export const TELEGRAM_MAX_TEXT = 4096;

export interface TelegramPost {
  readonly botToken: string;
  readonly chatId: string;
  readonly text: string;
  /** The customer's message this answers: shown as a reply, sent anyway if it was deleted. */
  readonly replyToMessageId?: string;
  /** The forum topic the customer wrote in. */
  readonly messageThreadId?: string;
}

/**
 * `sendMessage` (https://core.telegram.org/bots/api#sendmessage). The token is part of the URL,
 * so it is blanked from every error. A reply longer than Telegram takes goes as several
 * messages, in order; the id returned is the first one's.
 */
export async function sendTelegramMessage(
  post: TelegramPost,
  options: ProviderPostOptions & { readonly baseUrl?: string } = {},
): Promise<{ readonly providerMessageId: string }> {
  if (!/^\d+:[A-Za-z0-9_-]+$/.test(post.botToken)) {
    throw new ProviderError(PROVIDER, false, 'the bot token is missing or malformed');
  }
  const baseUrl = (options.baseUrl ?? 'https://api.telegram.org').replace(/\/+$/, '');
  const ids: string[] = [];
  for (const [index, text] of splitText(post.text, TELEGRAM_MAX_TEXT).entries()) {
    const id = await postToProvider(
      {
        provider: PROVIDER,
        url: `${baseUrl}/bot${post.botToken}/sendMessage`,
        headers: {},
        body: JSON.stringify({
          chat_id: post.chatId,
          text,
          ...(post.messageThreadId ? { message_thread_id: Number(post.messageThreadId) } : {}),
          ...(post.replyToMessageId && index === 0
            ? {
                reply_parameters: {
                  message_id: Number(post.replyToMessageId),
                  allow_sending_without_reply: true,
                },
              }
            : {}),
        }),
        secrets: [post.botToken],
        read: readTelegramAnswer,
      },
      options,
    );
    ids.push(id);
  }
  return { providerMessageId: ids[0] ?? 'unknown' };
}

/** `{"ok": true, "result": Message}` or `{"ok": false, "error_code", "description", "parameters": {"retry_after"}}`. */
function readTelegramAnswer(response: Response, text: string): string {
  const body = jsonOf(text);
  if (response.ok && body?.ok === true) {
    const result = body.result as { message_id?: unknown } | undefined;
    return typeof result?.message_id === 'number' ? String(result.message_id) : 'unknown';
  }
  const code = typeof body?.error_code === 'number' ? body.error_code : response.status;
  const description = typeof body?.description === 'string' ? body.description : '';
  const parameters = body?.parameters as { retry_after?: unknown } | undefined;
  const waitMs =
    typeof parameters?.retry_after === 'number'
      ? parameters.retry_after * 1000
      : retryAfterMs(response.headers);
  const retryable = code === 429 || code >= 500;
  throw new ProviderAnswerError(
    retryable,
    `HTTP ${code}${description ? `: ${description}` : ''}`,
    String(code),
    waitMs,
  );
}

/**
 * `setWebhook` (https://core.telegram.org/bots/api#setwebhook): points the bot at the platform's
 * `/v1/webhooks/telegram/{channelKey}` with the channel's secret token, which Telegram then sends
 * back in `X-Telegram-Bot-Api-Secret-Token` on every update. Only new messages are asked for.
 * The secret token is never shown to the tenant, so the platform must make this call itself when
 * a Telegram channel is configured (with the public base URL of the environment).
 */
export async function setTelegramWebhook(
  request: { readonly botToken: string; readonly url: string; readonly secretToken: string },
  options: ProviderPostOptions & { readonly baseUrl?: string } = {},
): Promise<void> {
  if (!/^\d+:[A-Za-z0-9_-]+$/.test(request.botToken)) {
    throw new ProviderError(PROVIDER, false, 'the bot token is missing or malformed', MALFORMED_TOKEN);
  }
  if (!request.url.startsWith('https://')) {
    throw new ProviderError(PROVIDER, false, 'Telegram only calls https webhook URLs');
  }
  const baseUrl = (options.baseUrl ?? 'https://api.telegram.org').replace(/\/+$/, '');
  await postToProvider(
    {
      provider: PROVIDER,
      url: `${baseUrl}/bot${request.botToken}/setWebhook`,
      headers: {},
      body: JSON.stringify({
        url: request.url,
        secret_token: request.secretToken,
        allowed_updates: ['message'],
      }),
      secrets: [request.botToken, request.secretToken],
      read: (response, text) => {
        readTelegramAnswer(response, text);
      },
    },
    options,
  );
}

/**
 * `deleteWebhook` (https://core.telegram.org/bots/api#deletewebhook): the bot stops posting to the
 * platform when its channel is removed. Pending updates are dropped with it: nothing would route them.
 */
export async function deleteTelegramWebhook(
  request: { readonly botToken: string },
  options: ProviderPostOptions & { readonly baseUrl?: string } = {},
): Promise<void> {
  if (!/^\d+:[A-Za-z0-9_-]+$/.test(request.botToken)) {
    throw new ProviderError(PROVIDER, false, 'the bot token is missing or malformed', MALFORMED_TOKEN);
  }
  const baseUrl = (options.baseUrl ?? 'https://api.telegram.org').replace(/\/+$/, '');
  await postToProvider(
    {
      provider: PROVIDER,
      url: `${baseUrl}/bot${request.botToken}/deleteWebhook`,
      headers: {},
      body: JSON.stringify({ drop_pending_updates: true }),
      secrets: [request.botToken],
      read: (response, text) => {
        readTelegramAnswer(response, text);
      },
    },
    options,
  );
}
