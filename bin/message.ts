/**
 * `npm run message -- <sms|whatsapp> --to <agent number> --from <customer number> "text"`: posts a
 * customer message to a running local platform exactly as Twilio would (form-encoded, signed
 * with the `twilio` package's own function and the channel's auth token), then prints the agent's
 * reply from the local outbox.
 *
 * The chat channels, signed as their providers sign:
 *   slack     --to <team id> --from <user id>          --signing-secret (or $SLACK_SIGNING_SECRET)
 *   telegram  --to <channelKey> --from <chat id>       --secret-token (or $TELEGRAM_SECRET_TOKEN; without
 *             either, read from the setWebhook the local platform recorded in its outbox, with --token)
 *   messenger --to <page id> --from <PSID>             --app-secret (or $META_APP_SECRET)
 *   instagram --to <Instagram account id> --from <IGSID> --app-secret (or $META_APP_SECRET)
 *
 * Options: --api <url> (default $API or http://127.0.0.1:3000), --auth-token <the channel's Twilio
 * auth token> (default $TWILIO_AUTH_TOKEN), --token <a user's bearer token, to read the outbox>
 * (default $TOKEN; without it the reply is not awaited), --public-url <the URL to sign, when the
 * platform is reached through a tunnel>, --wait <seconds> (default 15).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { metaSignature } from '../lambdas/adapters/meta/meta-webhook';
import { slackSignature } from '../lambdas/adapters/slack/slack-webhook';

const TWILIO_CHANNELS = ['sms', 'whatsapp'] as const;
const CHAT_CHANNELS = ['slack', 'telegram', 'messenger', 'instagram'] as const;
type ChatChannel = (typeof CHAT_CHANNELS)[number];
type Channel = (typeof TWILIO_CHANNELS)[number] | ChatChannel;

interface Delivery {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly id: string;
}

/** The JSON a chat provider would post for one customer text, signed with the channel's secret. */
function chatDelivery(
  channel: ChatChannel,
  to: string,
  from: string,
  text: string,
  secret: string,
): Delivery {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const json = { 'content-type': 'application/json' };
  switch (channel) {
    case 'slack': {
      const id = `Ev${randomBytes(6).toString('hex').toUpperCase()}`;
      const body = JSON.stringify({
        token: 'local',
        team_id: to,
        api_app_id: 'A0LOCAL',
        event: {
          type: 'message',
          channel: `D${from.replace(/^U/, '')}`,
          user: from,
          text,
          ts: `${nowSeconds}.000100`,
          channel_type: 'im',
        },
        type: 'event_callback',
        event_id: id,
        event_time: nowSeconds,
      });
      return {
        path: '/v1/webhooks/slack',
        headers: {
          ...json,
          'x-slack-request-timestamp': String(nowSeconds),
          'x-slack-signature': slackSignature(body, secret, nowSeconds),
        },
        body,
        id,
      };
    }
    case 'telegram': {
      const updateId = randomBytes(4).readUInt32BE(0) >>> 1;
      const chatId = Number(from);
      const body = JSON.stringify({
        update_id: updateId,
        message: {
          message_id: updateId % 100000,
          from: { id: chatId, is_bot: false, first_name: 'Local' },
          chat: { id: chatId, first_name: 'Local', type: 'private' },
          date: nowSeconds,
          text,
        },
      });
      return {
        path: `/v1/webhooks/telegram/${encodeURIComponent(to)}`,
        headers: { ...json, 'x-telegram-bot-api-secret-token': secret },
        body,
        id: String(updateId),
      };
    }
    default: {
      const mid = `m_${randomBytes(12).toString('base64url')}`;
      const body = JSON.stringify({
        object: channel === 'messenger' ? 'page' : 'instagram',
        entry: [
          {
            id: to,
            time: Date.now(),
            messaging: [
              { sender: { id: from }, recipient: { id: to }, timestamp: Date.now(), message: { mid, text } },
            ],
          },
        ],
      });
      return {
        path: '/v1/webhooks/meta',
        headers: { ...json, 'x-hub-signature-256': metaSignature(body, secret) },
        body,
        id: mid,
      };
    }
  }
}

const CHAT_SECRETS: Record<
  ChatChannel,
  { readonly option: string; readonly env: string; readonly what: string }
> = {
  slack: { option: 'signing-secret', env: 'SLACK_SIGNING_SECRET', what: "the Slack app's signing secret" },
  telegram: {
    option: 'secret-token',
    env: 'TELEGRAM_SECRET_TOKEN',
    what: 'the secret token the platform gave setWebhook (locally, --token reads it from the outbox)',
  },
  messenger: { option: 'app-secret', env: 'META_APP_SECRET', what: "the Meta app's secret" },
  instagram: { option: 'app-secret', env: 'META_APP_SECRET', what: "the Meta app's secret" },
};

function fail(message: string): never {
  process.stderr.write(`message: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      to: { type: 'string' },
      from: { type: 'string' },
      api: { type: 'string' },
      'auth-token': { type: 'string' },
      'signing-secret': { type: 'string' },
      'secret-token': { type: 'string' },
      'app-secret': { type: 'string' },
      token: { type: 'string' },
      'public-url': { type: 'string' },
      wait: { type: 'string' },
    },
  });
  const [channelArg, ...words] = positionals;
  const channels: readonly string[] = [...TWILIO_CHANNELS, ...CHAT_CHANNELS];
  if (!channelArg || !channels.includes(channelArg)) {
    fail(`the first argument is the channel: ${channels.join(', ')} (got ${channelArg ?? 'nothing'})`);
  }
  const channel = channelArg as Channel;
  const text = words.join(' ');
  if (!values.to || !values.from) fail('--to <agent address> and --from <customer address> are required');
  if (!text) fail('the message text is required (quote it)');
  const api = (values.api ?? process.env.API ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const token = values.token ?? process.env.TOKEN;
  const waitSeconds = Number(values.wait ?? '15');
  const since = new Date().toISOString();
  let sid: string;
  let answer: Response;
  if ((CHAT_CHANNELS as readonly string[]).includes(channel)) {
    const chat = channel as ChatChannel;
    const { option, env, what } = CHAT_SECRETS[chat];
    const secret =
      (values as Record<string, string | undefined>)[option] ??
      process.env[env] ??
      (chat === 'telegram' && token ? await localTelegramSecret(api, token, values.to) : undefined);
    if (!secret) fail(`--${option} (or ${env}): ${what}, as configured`);
    const delivery = chatDelivery(chat, values.to, values.from, text, secret);
    sid = delivery.id;
    answer = await fetch(`${api}${delivery.path}`, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
    });
  } else {
    ({ sid, answer } = await postTwilio(
      channel as 'sms' | 'whatsapp',
      { ...values, to: values.to, from: values.from },
      text,
      api,
    ));
  }
  const body = await answer.text();
  if (answer.status !== 200) fail(`the webhook answered ${answer.status}: ${body}`);
  process.stdout.write(`sent ${sid} (${channel}) from ${values.from} to ${values.to}: ${answer.status}\n`);
  if (!token) {
    process.stdout.write('no --token: not waiting for the reply (read GET /v1/dev/outbox)\n');
    return;
  }
  const deadline = Date.now() + waitSeconds * 1000;
  while (Date.now() < deadline) {
    const listed = await fetch(`${api}/v1/dev/outbox?kind=${channel}&limit=20`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (listed.status !== 200) fail(`the outbox answered ${listed.status}: ${await listed.text()}`);
    const { items } = (await listed.json()) as { items: { to?: string; body?: string; createdAt: string }[] };
    const reply = items.find((item) => item.to === values.from && item.createdAt >= since);
    if (reply) {
      process.stdout.write(`reply: ${reply.body ?? ''}\n`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  process.stdout.write(
    `no reply within ${waitSeconds} s (opted out, agent paused, no tokens? see the conversation's messages)\n`,
  );
}

/**
 * Local mode only: the secret token the platform gave Telegram's setWebhook for this channel key,
 * as the local outbox recorded the call (the newest one wins: a reconfigured bot keeps its key).
 */
async function localTelegramSecret(
  api: string,
  token: string,
  channelKey: string,
): Promise<string | undefined> {
  const listed = await fetch(`${api}/v1/dev/outbox?kind=telegram&limit=100`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (listed.status !== 200) return undefined;
  const { items } = (await listed.json()) as {
    items: { method?: string; url?: string; secretToken?: string }[];
  };
  const path = `/v1/webhooks/telegram/${channelKey}`;
  return items.find((item) => item.method === 'setWebhook' && item.url?.endsWith(path))?.secretToken;
}

async function postTwilio(
  channel: 'sms' | 'whatsapp',
  values: {
    readonly to: string;
    readonly from: string;
    readonly 'auth-token'?: string;
    readonly 'public-url'?: string;
  },
  text: string,
  api: string,
): Promise<{ sid: string; answer: Response }> {
  const authToken = values['auth-token'] ?? process.env.TWILIO_AUTH_TOKEN;
  if (!authToken) fail("--auth-token (or TWILIO_AUTH_TOKEN): the channel's Twilio auth token, as configured");

  const prefix = channel === 'whatsapp' ? 'whatsapp:' : '';
  const sid = `SM${randomBytes(16).toString('hex')}`;
  const form: Record<string, string> = {
    ToCountry: 'US',
    SmsMessageSid: sid,
    NumMedia: '0',
    SmsSid: sid,
    SmsStatus: 'received',
    Body: text,
    To: `${prefix}${values.to}`,
    NumSegments: '1',
    MessageSid: sid,
    AccountSid: process.env.TWILIO_ACCOUNT_SID ?? `AC${'0'.repeat(32)}`,
    From: `${prefix}${values.from}`,
    ApiVersion: '2010-04-01',
  };
  // Only fields Twilio sends for this account: the channel's accountSid is checked against it when set.
  if (!process.env.TWILIO_ACCOUNT_SID) delete form.AccountSid;
  const path = `/v1/webhooks/twilio/${channel}`;
  const signedUrl = `${(values['public-url'] ?? api).replace(/\/+$/, '')}${path}`;
  const answer: Response = await fetch(`${api}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': getExpectedTwilioSignature(authToken, signedUrl, form),
    },
    body: new URLSearchParams(form).toString(),
  });
  return { sid, answer };
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
