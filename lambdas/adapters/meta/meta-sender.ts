import { ProviderError } from '../../domain/actions/ports';
import {
  jsonOf,
  ProviderAnswerError,
  type ProviderPostOptions,
  postToProvider,
  splitText,
} from '../chat/provider-post';
import { retryAfterMs } from '../retry';

const PROVIDER = 'meta';

/** The Graph API version the Send API is called with; one place to move it when Meta retires one. */
export const META_GRAPH_VERSION = 'v23.0';

/** Messenger takes 2000 characters of text per message, Instagram 1000. */
const MAX_TEXT = { messenger: 2000, instagram: 1000 } as const;

/**
 * Graph API error codes that mean "later": unknown/service errors (1, 2), the app, user and
 * page rate limits (4, 17, 32, 613) and the Send API's own (1200). Everything else (10: outside
 * the messaging window or no permission, 100: bad parameter, 190: expired token, 551: person
 * unavailable) will fail the same way again.
 */
const TRANSIENT_CODES = new Set([1, 2, 4, 17, 32, 341, 613, 1200]);

export interface MetaPost {
  readonly channel: 'messenger' | 'instagram';
  readonly pageAccessToken: string;
  /** The customer's PSID (Messenger) or IGSID (Instagram). */
  readonly recipientId: string;
  readonly text: string;
}

/**
 * The Send API (`POST /{version}/me/messages`, https://developers.facebook.com/docs/messenger-platform/reference/send-api/)
 * with the page access token in the Authorization header (never in the URL, where proxies log
 * it), as a `RESPONSE` to the customer's message. Instagram messaging through a Facebook page
 * uses the same endpoint with the page's token.
 */
export async function sendMetaMessage(
  post: MetaPost,
  options: ProviderPostOptions & { readonly baseUrl?: string; readonly graphVersion?: string } = {},
): Promise<{ readonly providerMessageId: string }> {
  if (!post.pageAccessToken) throw new ProviderError(PROVIDER, false, 'no page access token configured');
  const baseUrl = (options.baseUrl ?? 'https://graph.facebook.com').replace(/\/+$/, '');
  const url = `${baseUrl}/${options.graphVersion ?? META_GRAPH_VERSION}/me/messages`;
  const ids: string[] = [];
  for (const text of splitText(post.text, MAX_TEXT[post.channel])) {
    ids.push(
      await postToProvider(
        {
          provider: PROVIDER,
          url,
          headers: { authorization: `Bearer ${post.pageAccessToken}` },
          body: JSON.stringify({
            recipient: { id: post.recipientId },
            messaging_type: 'RESPONSE',
            message: { text },
          }),
          secrets: [post.pageAccessToken],
          read: readGraphAnswer,
        },
        options,
      ),
    );
  }
  return { providerMessageId: ids[0] ?? 'unknown' };
}

/** `{"recipient_id", "message_id"}`, or `{"error": {"message", "type", "code", "error_subcode", "is_transient"}}`. */
function readGraphAnswer(response: Response, text: string): string {
  const body = jsonOf(text);
  if (response.ok && body && body.error === undefined) {
    return typeof body.message_id === 'string' ? body.message_id : 'unknown';
  }
  const error = (body?.error ?? {}) as {
    message?: unknown;
    code?: unknown;
    error_subcode?: unknown;
    is_transient?: unknown;
  };
  const code = typeof error.code === 'number' ? error.code : undefined;
  const subcode = typeof error.error_subcode === 'number' ? `/${error.error_subcode}` : '';
  const retryable =
    response.status >= 500 ||
    response.status === 429 ||
    error.is_transient === true ||
    (code !== undefined && TRANSIENT_CODES.has(code));
  const message = typeof error.message === 'string' ? error.message : '';
  throw new ProviderAnswerError(
    retryable,
    `HTTP ${response.status}${code !== undefined ? ` (code ${code}${subcode})` : ''}${message ? `: ${message}` : ''}`,
    code !== undefined ? `${code}${subcode}` : undefined,
    retryAfterMs(response.headers),
  );
}
