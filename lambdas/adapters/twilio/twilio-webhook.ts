import { getSignatureAlgorithm, validateRequest } from 'twilio/lib/webhooks/webhooks';
import type { InboundAttachment, InboundMessage } from '../../domain/channels/model';
import type { InboundDelivery, VerifyResult } from '../../domain/channels/receive';
import { ValidationError } from '../../domain/shared/errors';

/**
 * Twilio's webhooks: the incoming-message webhook (SMS, WhatsApp) and the message status callback.
 * Form-encoded; the proof is `X-Twilio-Signature`, checked with the `twilio` package's own
 * validator (its webhooks module only: the package's REST client would add megabytes) against the
 * URL Twilio called and the channel's auth token.
 */
export type TwilioForm = Readonly<Record<string, string>>;

export function parseTwilioForm(rawBody: string): TwilioForm {
  const form: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawBody)) form[key] = value;
  return form;
}

export interface TwilioRequestProof {
  /** The URL Twilio called, as it signed it (the public URL with the query string). */
  readonly url: string;
  readonly signature: string | undefined;
  /** `X-Twilio-Webhooks-Signature-Settings` (HMAC-SHA256 signing), if present. */
  readonly signatureSettings?: string | undefined;
}

export function verifyTwilio(
  form: TwilioForm,
  proof: TwilioRequestProof,
  secrets: Readonly<Record<string, string>>,
): VerifyResult {
  const authToken = secrets.authToken;
  if (!authToken) return { ok: false, reason: 'the channel has no Twilio auth token' };
  if (!proof.signature) return { ok: false, reason: 'no X-Twilio-Signature header' };
  if (secrets.accountSid && form.AccountSid && secrets.accountSid !== form.AccountSid) {
    return { ok: false, reason: "AccountSid is not the channel's Twilio account" };
  }
  const algorithm = getSignatureAlgorithm(proof.signatureSettings ?? null);
  return validateRequest(authToken, proof.signature, proof.url, form, algorithm)
    ? { ok: true }
    : { ok: false, reason: 'X-Twilio-Signature does not match the URL and form with the auth token' };
}

const required = (form: TwilioForm, field: string): string => {
  const value = form[field];
  if (!value) throw ValidationError.forField(`body.${field}`, 'is required');
  return value;
};

/** An incoming SMS or WhatsApp message (Twilio's Messaging webhook). */
export function twilioInboundDelivery(
  channel: 'sms' | 'whatsapp',
  form: TwilioForm,
  proof: TwilioRequestProof,
  now: () => Date,
): InboundDelivery {
  const agentAddress = required(form, 'To');
  const customerAddress = required(form, 'From').replace(/^whatsapp:/i, '');
  const providerMessageId = form.MessageSid ?? form.SmsMessageSid ?? required(form, 'MessageSid');
  const mediaCount = Math.min(Number.parseInt(form.NumMedia ?? '0', 10) || 0, 10);
  const attachments: InboundAttachment[] = [];
  for (let index = 0; index < mediaCount; index++) {
    const ref = form[`MediaUrl${index}`];
    if (!ref) continue;
    const contentType = form[`MediaContentType${index}`];
    attachments.push({ ref, ...(contentType ? { contentType } : {}) });
  }
  const message: InboundMessage = {
    channel,
    agentAddress: agentAddress.replace(/^whatsapp:/i, ''),
    customerAddress,
    ...(form.ProfileName ? { customerName: form.ProfileName } : {}),
    text: form.Body ?? '',
    attachments,
    providerMessageId,
    // Twilio does not say when the customer sent it: it calls at once.
    sentAt: now().toISOString(),
  };
  return {
    channel,
    agentAddress: message.agentAddress,
    verify: (secrets) => verifyTwilio(form, proof, secrets),
    messages: [message],
  };
}

/** Twilio's message status callback: about a message the agent sent, From its number. */
export interface TwilioStatus {
  readonly channel: 'sms' | 'whatsapp';
  readonly agentAddress: string;
  readonly providerMessageId: string;
  readonly status: string;
  readonly error?: string;
}

export function twilioStatus(form: TwilioForm): TwilioStatus {
  const from = required(form, 'From');
  const status = form.MessageStatus ?? form.SmsStatus ?? required(form, 'MessageStatus');
  return {
    channel: /^whatsapp:/i.test(from) ? 'whatsapp' : 'sms',
    agentAddress: from.replace(/^whatsapp:/i, ''),
    providerMessageId: form.MessageSid ?? required(form, 'MessageSid'),
    status,
    ...(form.ErrorCode
      ? { error: `Twilio error ${form.ErrorCode}${form.ErrorMessage ? `: ${form.ErrorMessage}` : ''}` }
      : {}),
  };
}
