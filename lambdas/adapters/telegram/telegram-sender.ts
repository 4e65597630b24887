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
