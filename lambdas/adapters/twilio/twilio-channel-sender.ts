import { ProviderError } from '../../domain/actions/ports';
import type {
  ChannelDeliveryReceipt,
  ChannelSender,
  OutboundChannelMessage,
} from '../../domain/channels/model';
import type { RetryOptions } from '../retry';
import { TwilioMessaging } from './twilio-messaging';

export interface TwilioChannelSenderOptions {
  readonly retry?: RetryOptions;
  readonly baseUrl?: string;
  /** `publicBaseUrl`: Twilio is asked to post delivery statuses to `/v1/webhooks/twilio/status` there. */
  readonly publicBaseUrl?: string;
}

/**
 * SMS and WhatsApp replies on an agent's channel: sent from the agent's own number with the
 * channel's Twilio credentials (`{"accountSid","authToken"}`), through the same Messages API
 * adapter actions use.
 */
export class TwilioChannelSender implements ChannelSender {
  constructor(private readonly options: TwilioChannelSenderOptions = {}) {}

  async send(message: OutboundChannelMessage): Promise<ChannelDeliveryReceipt> {
    if (message.channel !== 'sms' && message.channel !== 'whatsapp') {
      throw new ProviderError('twilio', false, `Twilio does not carry ${message.channel}`);
    }
    const { accountSid, authToken } = message.credentials;
    const messaging = new TwilioMessaging({
      credentials: {
        get: async <T extends Record<string, string>>(): Promise<T | undefined> =>
          ({
            ...(accountSid ? { accountSid } : {}),
            ...(authToken ? { authToken } : {}),
            smsFrom: message.from,
            whatsappFrom: message.from,
          }) as unknown as T,
      },
      ...(this.options.retry ? { retry: this.options.retry } : {}),
      ...(this.options.baseUrl ? { baseUrl: this.options.baseUrl } : {}),
    });
    const receipt = await messaging.send(message.tenantId, {
      channel: message.channel,
      to: message.to,
      body: message.text,
      ...(message.template
        ? {
            contentSid: message.template.contentSid,
            ...(message.template.variables ? { contentVariables: message.template.variables } : {}),
          }
        : {}),
      ...(this.options.publicBaseUrl
        ? { statusCallback: `${this.options.publicBaseUrl.replace(/\/+$/, '')}/v1/webhooks/twilio/status` }
        : {}),
    });
    return { provider: receipt.provider, providerMessageId: receipt.providerId, status: receipt.status };
  }
}
