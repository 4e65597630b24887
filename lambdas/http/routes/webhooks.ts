import type { RouteGroup } from '../route-spec';

/**
 * Messaging providers' webhooks (lambda `webhooks`). Public: no token; each route checks its
 * provider's own proof with the channel's secrets before anything is stored (403, nothing
 * stored, when it fails; 404 for an address no agent answers on). Providers add their routes
 * here and their implementations in lambdas/handlers/http/webhooks.ts.
 */
const twilioInbound = (channel: 'SMS' | 'WhatsApp') =>
  ({
    lambda: 'webhooks',
    // Twilio has no token: X-Twilio-Signature (HMAC-SHA1 of the public URL + the sorted form fields) is the proof.
    permission: 'public',
    rawBody: true,
    rawBodyMediaType: 'application/x-www-form-urlencoded',
    summary: `Twilio's incoming-${channel} webhook (form-encoded): checks X-Twilio-Signature against the public URL with the agent's Twilio auth token, drops redeliveries (by MessageSid), queues the message for the agent's turn and answers empty TwiML at once; the reply follows on the same channel. STOP/START opt the customer out of/into this channel.`,
    status: 200,
    alsoAs: ['text/xml'],
    errors: {
      404: 'No agent answers on the To number on this channel; nothing was stored',
    },
  }) as const;

export const WEBHOOK_ROUTES = {
  'POST /v1/webhooks/twilio/sms': twilioInbound('SMS'),
  'POST /v1/webhooks/twilio/whatsapp': twilioInbound('WhatsApp'),
  'POST /v1/webhooks/twilio/status': {
    lambda: 'webhooks',
    permission: 'public',
    rawBody: true,
    rawBodyMediaType: 'application/x-www-form-urlencoded',
    summary:
      "Twilio's message status callback: checks X-Twilio-Signature like the inbound webhooks, then records the delivery status (queued, sent, delivered, undelivered, failed, read) on the outbound message with that MessageSid. Unknown messages are acknowledged and ignored.",
    status: 200,
    alsoAs: ['text/xml'],
    errors: {
      404: 'No agent sends from the From number; nothing was stored',
    },
  },
} as const satisfies RouteGroup<'webhooks'>;
