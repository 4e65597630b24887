/**
 * `npm run message -- <sms|whatsapp> --to <agent number> --from <customer number> "text"`: posts a
 * customer message to a running local platform exactly as Twilio would (form-encoded, signed
 * with the `twilio` package's own function and the channel's auth token), then prints the agent's
 * reply from the local outbox.
 *
 * Options: --api <url> (default $API or http://127.0.0.1:3000), --auth-token <the channel's Twilio
 * auth token> (default $TWILIO_AUTH_TOKEN), --token <a user's bearer token, to read the outbox>
 * (default $TOKEN; without it the reply is not awaited), --public-url <the URL to sign, when the
 * platform is reached through a tunnel>, --wait <seconds> (default 15).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';

const TWILIO_CHANNELS = ['sms', 'whatsapp'] as const;
type Channel = (typeof TWILIO_CHANNELS)[number];

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
      token: { type: 'string' },
      'public-url': { type: 'string' },
      wait: { type: 'string' },
    },
  });
  const [channelArg, ...words] = positionals;
  if (!channelArg || !(TWILIO_CHANNELS as readonly string[]).includes(channelArg)) {
    fail(
      `the first argument is the channel: ${TWILIO_CHANNELS.join(' or ')} (got ${channelArg ?? 'nothing'})`,
    );
  }
  const channel = channelArg as Channel;
  const text = words.join(' ');
  if (!values.to || !values.from) fail('--to <agent address> and --from <customer address> are required');
  if (!text) fail('the message text is required (quote it)');
  const authToken = values['auth-token'] ?? process.env.TWILIO_AUTH_TOKEN;
  if (!authToken) fail("--auth-token (or TWILIO_AUTH_TOKEN): the channel's Twilio auth token, as configured");
  const api = (values.api ?? process.env.API ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const token = values.token ?? process.env.TOKEN;
  const waitSeconds = Number(values.wait ?? '15');

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
  const since = new Date().toISOString();
  const answer = await fetch(`${api}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': getExpectedTwilioSignature(authToken, signedUrl, form),
    },
    body: new URLSearchParams(form).toString(),
  });
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

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
