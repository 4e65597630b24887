import * as z from 'zod/mini';
import { lazySchema } from '../shared/zod';

/** What a chat provider's webhook answers: the provider only needs the 200; the counts help whoever reads the logs of a test or a replay. */
export const chatWebhookResponse = lazySchema(() =>
  z.object({
    received: z.literal(true),
    /** Messages queued for the agent's turn. */
    queued: z.number(),
    /** Messages already received before (a provider's retry): dropped. */
    duplicates: z.number(),
  }),
);

/** Slack's url_verification handshake: the challenge echoed, or a delivery acknowledged. */
export const slackWebhookResponse = lazySchema(() =>
  z.object({
    received: z.literal(true),
    challenge: z.optional(z.string()),
    queued: z.optional(z.number()),
    duplicates: z.optional(z.number()),
  }),
);

/** The Telegram webhook URL's key: the platform generates it (the channel's directory address). */
export const telegramWebhookParams = lazySchema(() =>
  z.object({ channelKey: z.string().check(z.regex(/^[A-Za-z0-9_-]{8,64}$/)) }),
);

/** Meta's subscription handshake (`GET` on the callback URL). */
export const metaSubscriptionQuery = lazySchema(() =>
  z.object({
    'hub.mode': z.optional(z.string().check(z.maxLength(32))),
    'hub.verify_token': z.optional(z.string().check(z.maxLength(256))),
    'hub.challenge': z.optional(z.string().check(z.maxLength(128))),
  }),
);
