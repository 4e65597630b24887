import * as z from 'zod/mini';
import {
  chatWebhookResponse,
  metaSubscriptionQuery,
  slackWebhookResponse,
  telegramWebhookParams,
} from '../../domain/channels/webhook-schemas';
import { lazySchema } from '../../domain/shared/zod';
import { devCallBody, devCallResponse } from '../../domain/voice/dev-calls';
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
      403: 'Missing or wrong X-Twilio-Signature (or the channel has no credentials); nothing was stored',
      404: 'No agent answers on the To number on this channel; nothing was stored',
    },
  }) as const;

/** What became of a message posted to the local email intake. */
export const emailIntakeResponse = lazySchema(() =>
  z.object({
    /** `queued` for the agent's turn, `duplicate` (that Message-ID was taken before) or `dropped`. */
    status: z.enum(['queued', 'duplicate', 'dropped']),
    /** Why it was dropped: an automatic message (auto-reply, bounce), or SES's verdicts on AWS. */
    reason: z.optional(z.string()),
  }),
);

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
      403: 'Missing or wrong X-Twilio-Signature; nothing was recorded',
      404: 'No agent sends from the From number; nothing was recorded',
    },
  },
  'POST /v1/dev/calls': {
    lambda: 'webhooks',
    localOnly: true,
    // A phone call carries no token: anyone may dial a number. Local mode only.
    permission: 'public',
    summary:
      "Local mode only: a phone call to an agent's number, walked through the same contact flow (contactFlow()) and voice Lambda handler as Amazon Connect and Lex V2 would: without `callId` it dials (the greeting) and, with `text`, says it; with the `callId` it answered, the call goes on. Answers what the caller heard (SSML as text, fillers, transfers) with timings.",
    body: devCallBody,
    status: 200,
    response: devCallResponse,
    errors: {
      404: 'No call with that callId is in progress for these numbers (or outside local mode)',
    },
  },
  'POST /v1/dev/email/inbound': {
    lambda: 'webhooks',
    localOnly: true,
    // Stands in for SES writing to the bucket, whose proof is the bucket policy: local mode only.
    permission: 'public',
    rawBody: true,
    rawBodyMediaType: 'message/rfc822',
    summary:
      "Local mode only: takes a raw RFC 5322 email (the body, as SES would have stored it) and runs the same intake as SES → S3 → Lambda on AWS: routes by the mailbox it was sent to, drops auto-replies and repeated Message-IDs, queues it for the agent's turn; the reply, threaded with In-Reply-To and References, lands in the local outbox.",
    status: 202,
    response: emailIntakeResponse,
    errors: {
      404: 'No agent answers any mailbox the message was sent to (or outside local mode); nothing was stored',
    },
  },
  'POST /v1/webhooks/slack': {
    lambda: 'webhooks',
    // Slack has no token: X-Slack-Signature (v0 HMAC-SHA256 over v0:timestamp:body with the app's signing secret) is the proof.
    permission: 'public',
    rawBody: true,
    summary:
      "Slack's Events API: answers url_verification with its challenge; for event_callback, routes by team_id, checks X-Slack-Signature with the channel's signing secret (refusing timestamps more than 5 minutes off), drops retries (X-Slack-Retry-Num, same event_id), ignores the bot's own messages, queues direct messages and mentions for the agent's turn and answers at once; the reply follows with chat.postMessage in the same channel/thread.",
    status: 200,
    response: slackWebhookResponse,
    errors: {
      403: 'Missing, stale or wrong X-Slack-Signature, or the channel has no signing secret; nothing was stored',
      404: 'No agent answers this Slack team; nothing was stored',
    },
  },
  'POST /v1/webhooks/telegram/{channelKey}': {
    lambda: 'webhooks',
    // Telegram has no token: X-Telegram-Bot-Api-Secret-Token (the secret given to setWebhook) is the proof.
    permission: 'public',
    rawBody: true,
    params: telegramWebhookParams,
    summary:
      "Telegram's webhook for the bot behind channelKey: X-Telegram-Bot-Api-Secret-Token must equal the channel's secret token; new messages are queued for the agent's turn (edits, channel posts and bots' messages are ignored), redeliveries (same update_id) dropped, and the reply follows with sendMessage in the same chat.",
    status: 200,
    response: chatWebhookResponse,
    errors: {
      403: 'Missing or wrong X-Telegram-Bot-Api-Secret-Token; nothing was stored',
      404: 'No agent answers on this channelKey; nothing was stored',
    },
  },
  'GET /v1/webhooks/meta': {
    lambda: 'webhooks',
    permission: 'public',
    query: metaSubscriptionQuery,
    summary:
      "Meta's subscription handshake for Messenger and Instagram: with hub.mode=subscribe and a hub.verify_token that some configured Messenger or Instagram channel holds, answers hub.challenge as text/plain.",
    status: 200,
    alsoAs: ['text/plain'],
    errors: {
      403: 'hub.verify_token is not the verify token of any configured Messenger or Instagram channel',
    },
  },
  'POST /v1/webhooks/meta': {
    lambda: 'webhooks',
    // Meta has no token: X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the app secret) is the proof.
    permission: 'public',
    rawBody: true,
    summary:
      "Meta's webhook for Messenger (object page) and Instagram (object instagram): every entry is routed by its page or Instagram account id and X-Hub-Signature-256 checked with that channel's app secret before anything is stored; then every message of every entry is queued for its agent's turn (echoes, reads and reactions ignored; redeliveries, same mid, dropped). Entries for ids no agent answers are skipped. Replies follow through the Graph Send API.",
    status: 200,
    response: chatWebhookResponse,
    errors: {
      403: "Missing or wrong X-Hub-Signature-256 for an entry's channel; nothing was stored",
      404: 'No agent answers on any page or account of the delivery; nothing was stored',
    },
  },
} as const satisfies RouteGroup<'webhooks'>;
