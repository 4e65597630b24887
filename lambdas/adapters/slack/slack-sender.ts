import { ProviderError } from '../../domain/actions/ports';
import { jsonOf, ProviderAnswerError, type ProviderPostOptions, postToProvider } from '../chat/provider-post';
import { retryAfterMs } from '../retry';

const PROVIDER = 'slack';

/** Slack's `error` codes that mean "later, not never" (https://api.slack.com/methods/chat.postMessage). */
const TRANSIENT_ERRORS = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

export interface SlackPost {
  readonly botToken: string;
  readonly channel: string;
  readonly text: string;
  /** Answer inside this thread (the mention's, or the thread the customer wrote in). */
  readonly threadTs?: string;
}

/**
 * `chat.postMessage` with the installation's bot token. Slack answers most failures with HTTP 200
 * and `{"ok": false, "error": "…"}`, and rate limits with HTTP 429 and `Retry-After`; both are
 * read here. Returns the `ts` of the posted message (Slack's message id).
 */
export async function postSlackMessage(
  post: SlackPost,
  options: ProviderPostOptions & { readonly baseUrl?: string } = {},
): Promise<{ readonly providerMessageId: string }> {
  if (!post.botToken) throw new ProviderError(PROVIDER, false, 'no bot token configured');
  const baseUrl = (options.baseUrl ?? 'https://slack.com/api').replace(/\/+$/, '');
  const ts = await postToProvider(
    {
      provider: PROVIDER,
      url: `${baseUrl}/chat.postMessage`,
      headers: { authorization: `Bearer ${post.botToken}` },
      body: JSON.stringify({
        channel: post.channel,
        text: post.text,
        ...(post.threadTs ? { thread_ts: post.threadTs } : {}),
      }),
      secrets: [post.botToken],
      read: readSlackAnswer,
    },
    options,
  );
  return { providerMessageId: ts };
}

function readSlackAnswer(response: Response, text: string): string {
  const body = jsonOf(text);
  if (response.status === 429) {
    throw new ProviderAnswerError(
      true,
      'HTTP 429: rate limited',
      'ratelimited',
      retryAfterMs(response.headers),
    );
  }
  if (!response.ok) {
    const code = typeof body?.error === 'string' ? body.error : undefined;
    throw new ProviderAnswerError(
      response.status >= 500,
      `HTTP ${response.status}${code ? `: ${code}` : ''}`,
      code,
    );
  }
  if (body?.ok === true) return typeof body.ts === 'string' ? body.ts : 'unknown';
  const code = typeof body?.error === 'string' ? body.error : 'unknown_error';
  throw new ProviderAnswerError(
    TRANSIENT_ERRORS.has(code),
    `ok=false: ${code}`,
    code,
    retryAfterMs(response.headers),
  );
}
