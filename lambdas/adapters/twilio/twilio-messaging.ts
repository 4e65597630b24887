import * as z from 'zod/mini';
import {
  type CredentialsPort,
  type DeliveryReceipt,
  type MessagingChannel,
  type MessagingPort,
  ProviderError,
} from '../../domain/actions/ports';
import { lazySchema } from '../../domain/shared/zod';
import {
  errorLike,
  isNetworkError,
  oneLineDetail,
  RetriesExhaustedError,
  type RetryOptions,
  type RetryVerdict,
  retryAfterMs,
  withRetries,
} from '../retry';

const PROVIDER = 'twilio';

/**
 * The tenant's secret `twilio`. `smsFrom` is an E.164 number or a Messaging Service SID (`MG…`),
 * which picks the sender itself; without `whatsappFrom` (a number approved for WhatsApp) the
 * tenant cannot send WhatsApp.
 */
const credentialsSchema = lazySchema(() =>
  z.object({
    // It becomes part of the URL path, so it is held to Twilio's own format.
    accountSid: z.string().check(z.regex(/^AC[0-9a-fA-F]{32}$/)),
    authToken: z.string().check(z.minLength(1)),
    smsFrom: z.string().check(z.minLength(1)),
    whatsappFrom: z.optional(z.string().check(z.minLength(1))),
  }),
);

const messageSchema = lazySchema(() =>
  z.object({ sid: z.string().check(z.minLength(1)), status: z.optional(z.nullable(z.string())) }),
);

export interface TwilioMessagingOptions {
  readonly credentials: CredentialsPort;
  /** Per attempt, response body included. */
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
  /** Tests and regional edges (`https://api.dublin.ie1.twilio.com`); no trailing `/2010-04-01`. */
  readonly baseUrl?: string;
}

/**
 * SMS and WhatsApp through Twilio's Messages REST API with the global `fetch` (the `twilio`
 * package would add megabytes to every bundle for one POST). Each tenant sends from its own
 * Twilio account, whose credentials are looked up per send.
 *
 * Twilio has no idempotency key for messages: a retry after a timeout can send a message twice.
 * That is accepted (a duplicate text is better than a silently lost one), and bounded by the
 * attempts of `withRetries`.
 */
export class TwilioMessaging implements MessagingPort {
  private readonly credentials: CredentialsPort;
  private readonly timeoutMs: number;
  private readonly retry: RetryOptions;
  private readonly baseUrl: string;

  constructor(options: TwilioMessagingOptions) {
    this.credentials = options.credentials;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retry = options.retry ?? {};
    this.baseUrl = (options.baseUrl ?? 'https://api.twilio.com').replace(/\/+$/, '');
  }

  async send(
    tenantId: string,
    message: {
      readonly channel: MessagingChannel;
      readonly to: string;
      readonly body: string;
      /** An approved template (WhatsApp outside the 24-hour window) sent instead of `body`. */
      readonly contentSid?: string;
      readonly contentVariables?: Readonly<Record<string, string>>;
      /** Where Twilio posts the delivery status (`/v1/webhooks/twilio/status`). */
      readonly statusCallback?: string;
    },
  ): Promise<DeliveryReceipt> {
    const credentials = await this.credentialsOf(tenantId);
    const form = new URLSearchParams({ To: address(message.channel, message.to) });
    if (message.contentSid) {
      form.set('ContentSid', message.contentSid);
      if (message.contentVariables) form.set('ContentVariables', JSON.stringify(message.contentVariables));
    } else {
      form.set('Body', message.body);
    }
    if (message.statusCallback) form.set('StatusCallback', message.statusCallback);
    if (message.channel === 'whatsapp') {
      if (!credentials.whatsappFrom) {
        throw new ProviderError(PROVIDER, false, 'this tenant has no WhatsApp sender configured');
      }
      form.set('From', address('whatsapp', credentials.whatsappFrom));
    } else if (/^MG[0-9a-fA-F]{32}$/.test(credentials.smsFrom)) {
      form.set('MessagingServiceSid', credentials.smsFrom);
    } else {
      form.set('From', credentials.smsFrom);
    }
    const url = `${this.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(credentials.accountSid)}/Messages.json`;
    const authorization = `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64')}`;
    const body = form.toString();

    let payload: unknown;
    try {
      payload = await withRetries(() => this.post(url, authorization, body), verdict, this.retry);
    } catch (error) {
      throw redacted(this.failure(error), credentials.authToken);
    }
    const parsed = messageSchema().safeParse(payload);
    if (!parsed.success) {
      // Twilio took the message (2xx); failing here would invite a retry that sends it twice.
      return { provider: PROVIDER, providerId: 'unknown', status: 'accepted' };
    }
    return { provider: PROVIDER, providerId: parsed.data.sid, status: parsed.data.status ?? 'queued' };
  }

  private async credentialsOf(tenantId: string) {
    const stored = await this.credentials.get(tenantId, PROVIDER);
    if (!stored) throw new ProviderError(PROVIDER, false, 'this tenant has no Twilio credentials configured');
    const parsed = credentialsSchema().safeParse(stored);
    if (!parsed.success) {
      // Field names only: the values are secrets.
      const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.')))].join(', ');
      throw new ProviderError(PROVIDER, false, `this tenant's Twilio credentials are invalid (${fields})`);
    }
    return parsed.data;
  }

  private async post(url: string, authorization: string, body: string): Promise<unknown> {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        authorization,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw TwilioHttpError.from(response, text);
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  private failure(error: unknown): ProviderError {
    if (error instanceof ProviderError) return error;
    if (error instanceof RetriesExhaustedError) {
      const last = error.lastError;
      return new ProviderError(
        PROVIDER,
        true,
        `${this.describe(last)} (${error.message})`,
        last instanceof TwilioHttpError ? last.code : undefined,
      );
    }
    if (error instanceof TwilioHttpError)
      return new ProviderError(PROVIDER, false, error.message, error.code);
    return new ProviderError(PROVIDER, false, this.describe(error));
  }

  private describe(error: unknown): string {
    if (error instanceof TwilioHttpError) return error.message;
    const like = errorLike(error);
    if (like?.name === 'TimeoutError') return `no answer within ${this.timeoutMs} ms`;
    // fetch reports "fetch failed" and keeps the reason (ECONNRESET, ENOTFOUND...) in `cause`.
    const cause = errorLike(like?.cause) ?? like;
    return `cannot reach Twilio: ${typeof cause?.message === 'string' ? cause.message : String(error)}`;
  }
}

/** WhatsApp addresses are `whatsapp:+E164` on both ends; SMS ones the bare number. */
function address(channel: MessagingChannel, number: string): string {
  const bare = number.replace(/^whatsapp:/, '');
  return channel === 'whatsapp' ? `whatsapp:${bare}` : bare;
}

/** A non-2xx answer with Twilio's `{code, message, more_info, status}` body. */
class TwilioHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly retryAfterMs: number | undefined,
    detail: string,
  ) {
    super(detail);
    this.name = 'TwilioHttpError';
  }

  static from(response: Response, body: string): TwilioHttpError {
    let message = '';
    let code: string | undefined;
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed === 'object' && parsed !== null) {
        const fields = parsed as { code?: unknown; message?: unknown };
        if (typeof fields.code === 'number' || typeof fields.code === 'string') code = String(fields.code);
        if (typeof fields.message === 'string') message = fields.message;
      }
    } catch {
      // A proxy's HTML page: its text says nothing a caller can use.
    }
    message = oneLineDetail(message);
    const detail = `HTTP ${response.status}${code ? ` (code ${code})` : ''}${message ? `: ${message}` : ''}`;
    return new TwilioHttpError(response.status, code, retryAfterMs(response.headers), detail);
  }
}

function verdict(error: unknown): RetryVerdict {
  if (error instanceof TwilioHttpError) {
    if (error.status !== 429 && error.status < 500) return { retry: false };
    return error.retryAfterMs === undefined ? { retry: true } : { retry: true, afterMs: error.retryAfterMs };
  }
  return { retry: isNetworkError(error) };
}

/** Twilio does not echo the token, but a proxy or a future error might: it never travels on. */
function redacted(error: ProviderError, secret: string): ProviderError {
  if (!error.message.includes(secret)) return error;
  const message = error.message.slice(`${PROVIDER}: `.length).split(secret).join('[redacted]');
  return new ProviderError(PROVIDER, error.retryable, message, error.providerCode);
}
