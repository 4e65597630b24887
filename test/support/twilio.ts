import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { createDocumentClient } from '../../lambdas/adapters/dynamodb/document-client';
import { channelStores } from '../../lambdas/composition/channels';
import { inPlatformScope, inTenantScope } from '../../lambdas/composition/tenant-scope';
import type { MessagingChannel } from '../../lambdas/domain/channels/model';
import type { ApiClient } from './api';

export const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;

/**
 * Puts an agent on a channel as the channel settings routes do: the directory claim
 * (platform-level) and the credentials (the tenant's secrets).
 */
export async function configureChannel(
  api: ApiClient,
  route: { tenantId: string; agentId: string; channel: MessagingChannel; address: string },
  credentials: Record<string, string>,
): Promise<void> {
  const client = createDocumentClient({
    region: process.env.AWS_REGION ?? 'us-east-1',
    endpoint: api.platform.dynamoEndpoint,
  });
  const stores = channelStores(client, api.platform.tableName);
  const claimed = await inPlatformScope(() => stores.directory.claim(route));
  if (!claimed) throw new Error(`${route.address} is taken`);
  await inTenantScope(route.tenantId, () =>
    stores.secrets.put(route.tenantId, route.agentId, route.channel, credentials),
  );
}

let sid = 0;
export const messageSid = () => `SM${(++sid).toString(16).padStart(8, '0')}${'0'.repeat(24)}`;

/** Twilio's incoming-message form, as Twilio posts it. */
export function twilioMessageForm(
  channel: 'sms' | 'whatsapp',
  fields: { to: string; from: string; body: string; sid?: string },
): Record<string, string> {
  const prefix = channel === 'whatsapp' ? 'whatsapp:' : '';
  const id = fields.sid ?? messageSid();
  return {
    ToCountry: 'US',
    SmsMessageSid: id,
    NumMedia: '0',
    SmsSid: id,
    SmsStatus: 'received',
    Body: fields.body,
    To: `${prefix}${fields.to}`,
    NumSegments: '1',
    MessageSid: id,
    AccountSid: ACCOUNT_SID,
    From: `${prefix}${fields.from}`,
    ApiVersion: '2010-04-01',
    ...(channel === 'whatsapp' ? { ProfileName: 'Ana', WaId: fields.from.replace(/^\+/, '') } : {}),
  };
}

/** Posts a form to a Twilio webhook, signed with the `twilio` package's own function. */
export function postTwilio(
  api: ApiClient,
  path: string,
  form: Record<string, string>,
  authToken: string,
  options: { signature?: string } = {},
) {
  const url = `${api.platform.url}${path}`;
  const signature = options.signature ?? getExpectedTwilioSignature(authToken, url, form);
  return api.request('POST', path, {
    rawBody: new URLSearchParams(form).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
  });
}
