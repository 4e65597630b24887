import { ProviderError } from '../../domain/actions/ports';
import {
  type MetaProvisioner,
  type SlackProvisioner,
  ThrottledError,
  type TwilioNumberWebhooks,
  type TwilioProvisioner,
} from '../../domain/provisioning/ports';

/**
 * The providers provisioning reaches over plain HTTPS (fetch, no SDK: a Lambda's cold start pays
 * for none): Twilio's REST API, Slack's auth.test, Meta's Graph API. 429 is `ThrottledError` and
 * 5xx a retryable `ProviderError`, both retried by the workflow; 4xx is final. Error messages carry
 * the provider's status and error code, never a credential.
 */

type Fetch = typeof fetch;

async function send(
  provider: string,
  what: string,
  fetcher: Fetch,
  url: string,
  init: RequestInit,
): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetcher(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new ProviderError(
      provider,
      true,
      `${what}: ${error instanceof Error ? error.name : 'network error'}`,
    );
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = {};
  }
  if (response.status === 429) throw new ThrottledError(`${provider} ${what}: 429`);
  if (!response.ok) {
    const code = String(body.code ?? (body.error as { code?: unknown } | undefined)?.code ?? '');
    throw new ProviderError(
      provider,
      response.status >= 500,
      `${what}: HTTP ${response.status}${code ? ` (${code})` : ''}`,
      code || undefined,
    );
  }
  return body;
}

const basic = (credentials: Readonly<Record<string, string>>) =>
  `Basic ${Buffer.from(`${credentials.accountSid ?? ''}:${credentials.authToken ?? ''}`).toString('base64')}`;

/**
 * Twilio: an SMS number is an IncomingPhoneNumber (SmsUrl, StatusCallback); a WhatsApp sender is a
 * Channels Sender (webhook.callback_url, webhook.status_callback_url).
 */
export class TwilioRestProvisioner implements TwilioProvisioner {
  constructor(
    private readonly fetcher: Fetch = fetch,
    private readonly api = 'https://api.twilio.com',
    private readonly messaging = 'https://messaging.twilio.com',
  ) {}

  async findNumber(
    credentials: Readonly<Record<string, string>>,
    channel: 'sms' | 'whatsapp',
    address: string,
  ) {
    const auth = { Authorization: basic(credentials) };
    if (channel === 'sms') {
      const url = `${this.api}/2010-04-01/Accounts/${encodeURIComponent(credentials.accountSid ?? '')}/IncomingPhoneNumbers.json?PhoneNumber=${encodeURIComponent(address)}`;
      const body = await send('twilio', 'IncomingPhoneNumbers', this.fetcher, url, { headers: auth });
      const number = (body.incoming_phone_numbers as Record<string, string>[] | undefined)?.[0];
      if (!number?.sid)
        throw new ProviderError('twilio', false, `${address} is not a number of this Twilio account`);
      return {
        sid: number.sid,
        webhooks: { inboundUrl: number.sms_url ?? '', statusUrl: number.status_callback ?? '' },
      };
    }
    const url = `${this.messaging}/v2/Channels/Senders/${encodeURIComponent(`whatsapp:${address}`)}`;
    const body = await send('twilio', 'Channels Senders', this.fetcher, url, { headers: auth });
    const webhook = (body.webhook ?? {}) as Record<string, string>;
    if (typeof body.sid !== 'string')
      throw new ProviderError('twilio', false, `${address} is not a WhatsApp sender of this account`);
    return {
      sid: body.sid,
      webhooks: { inboundUrl: webhook.callback_url ?? '', statusUrl: webhook.status_callback_url ?? '' },
    };
  }

  async setWebhooks(
    credentials: Readonly<Record<string, string>>,
    channel: 'sms' | 'whatsapp',
    sid: string,
    webhooks: Partial<TwilioNumberWebhooks>,
  ) {
    const auth = { Authorization: basic(credentials) };
    if (channel === 'sms') {
      const url = `${this.api}/2010-04-01/Accounts/${encodeURIComponent(credentials.accountSid ?? '')}/IncomingPhoneNumbers/${encodeURIComponent(sid)}.json`;
      const form = new URLSearchParams({
        SmsUrl: webhooks.inboundUrl ?? '',
        StatusCallback: webhooks.statusUrl ?? '',
      });
      await send('twilio', 'update IncomingPhoneNumber', this.fetcher, url, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
      return;
    }
    await send(
      'twilio',
      'update Channels Sender',
      this.fetcher,
      `${this.messaging}/v2/Channels/Senders/${encodeURIComponent(sid)}`,
      {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          webhook: { callback_url: webhooks.inboundUrl ?? '', status_callback_url: webhooks.statusUrl ?? '' },
        }),
      },
    );
  }
}

export class SlackApiProvisioner implements SlackProvisioner {
  constructor(
    private readonly fetcher: Fetch = fetch,
    private readonly api = 'https://slack.com/api',
  ) {}

  async authTest(botToken: string) {
    const body = await send('slack', 'auth.test', this.fetcher, `${this.api}/auth.test`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${botToken}` },
    });
    if (body.ok !== true || typeof body.team_id !== 'string') {
      throw new ProviderError(
        'slack',
        false,
        `auth.test refused the bot token (${String(body.error ?? 'not ok')})`,
      );
    }
    return { teamId: body.team_id, ...(typeof body.user_id === 'string' ? { botUserId: body.user_id } : {}) };
  }
}

/** Messenger: the page's subscribed_apps on graph.facebook.com; Instagram: the account's on graph.instagram.com. */
export class MetaGraphProvisioner implements MetaProvisioner {
  constructor(
    private readonly fetcher: Fetch = fetch,
    private readonly hosts = {
      messenger: 'https://graph.facebook.com/v21.0',
      instagram: 'https://graph.instagram.com/v21.0',
    },
  ) {}

  private url(channel: 'messenger' | 'instagram', accountId: string): string {
    return `${this.hosts[channel]}/${encodeURIComponent(accountId)}/subscribed_apps`;
  }

  async subscribe(channel: 'messenger' | 'instagram', accountId: string, pageAccessToken: string) {
    const form = new URLSearchParams({ subscribed_fields: 'messages', access_token: pageAccessToken });
    const body = await send('meta', 'subscribed_apps', this.fetcher, this.url(channel, accountId), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    if (body.success !== true)
      throw new ProviderError('meta', false, 'subscribed_apps did not confirm the subscription');
  }

  async unsubscribe(channel: 'messenger' | 'instagram', accountId: string, pageAccessToken: string) {
    await send(
      'meta',
      'unsubscribe',
      this.fetcher,
      `${this.url(channel, accountId)}?access_token=${encodeURIComponent(pageAccessToken)}`,
      {
        method: 'DELETE',
      },
    );
  }
}
