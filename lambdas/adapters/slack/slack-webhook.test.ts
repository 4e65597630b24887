import { createHmac } from 'node:crypto';
import { parseSlackDelivery, slackSignature, verifySlackRequest } from './slack-webhook';

const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = 1_765_000_000;

// An Events API delivery of a direct message, as Slack sends it (ids made up, shape recorded).
const DIRECT_MESSAGE = {
  token: 'XXYYZZ',
  team_id: 'T061EG9R6',
  context_team_id: 'T061EG9R6',
  api_app_id: 'A0PNCHHK2',
  event: {
    type: 'message',
    channel: 'D024BE91L',
    user: 'U2147483697',
    text: 'Do you open on Sundays?',
    ts: '1765000000.000200',
    event_ts: '1765000000.000200',
    channel_type: 'im',
    client_msg_id: '9e5b7a1c-1111-2222-3333-444455556666',
  },
  type: 'event_callback',
  event_id: 'Ev0PV52K21',
  event_time: 1765000000,
  authorizations: [
    {
      enterprise_id: null,
      team_id: 'T061EG9R6',
      user_id: 'U0BOTUSER1',
      is_bot: true,
      is_enterprise_install: false,
    },
  ],
  is_ext_shared_channel: false,
  event_context: '4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUMDYxRUc5UjYifQ',
};

const body = (value: unknown) => JSON.stringify(value);
const withEvent = (event: Record<string, unknown>) =>
  body({ ...DIRECT_MESSAGE, event: { ...DIRECT_MESSAGE.event, ...event } });

function signed(rawBody: string, timestamp = NOW, secret = SIGNING_SECRET) {
  return {
    rawBody,
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(rawBody, secret, timestamp),
    },
  };
}

describe('verifySlackRequest', () => {
  it('accepts the v0 HMAC-SHA256 of v0:timestamp:body, computed independently here', () => {
    const rawBody = body(DIRECT_MESSAGE);
    const signature = `v0=${createHmac('sha256', SIGNING_SECRET).update(`v0:${NOW}:${rawBody}`).digest('hex')}`;
    const request = {
      rawBody,
      headers: { 'X-Slack-Request-Timestamp': String(NOW), 'X-Slack-Signature': signature },
    };
    expect(verifySlackRequest(request, SIGNING_SECRET, NOW)).toEqual({ ok: true });
  });

  it('refuses a body changed after signing', () => {
    const request = signed(body(DIRECT_MESSAGE));
    const tampered = { ...request, rawBody: request.rawBody.replace('Sundays', 'Mondays') };
    expect(verifySlackRequest(tampered, SIGNING_SECRET, NOW)).toEqual({
      ok: false,
      reason: 'X-Slack-Signature does not match',
    });
  });

  it('refuses a signature made with another secret', () => {
    const request = signed(body(DIRECT_MESSAGE), NOW, 'another-apps-signing-secret');
    expect(verifySlackRequest(request, SIGNING_SECRET, NOW).ok).toBe(false);
  });

  it('refuses a correctly signed request older than five minutes, and one from the future', () => {
    const stale = signed(body(DIRECT_MESSAGE), NOW - 301);
    expect(verifySlackRequest(stale, SIGNING_SECRET, NOW)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('5 minutes'),
    });
    expect(verifySlackRequest(signed(body(DIRECT_MESSAGE), NOW - 300), SIGNING_SECRET, NOW).ok).toBe(true);
    expect(verifySlackRequest(signed(body(DIRECT_MESSAGE), NOW + 301), SIGNING_SECRET, NOW).ok).toBe(false);
  });

  it('refuses missing or malformed headers and an empty secret, never echoing the secret', () => {
    const request = signed(body(DIRECT_MESSAGE));
    const noSignature = { rawBody: request.rawBody, headers: { 'x-slack-request-timestamp': String(NOW) } };
    const badTimestamp = {
      rawBody: request.rawBody,
      headers: { ...request.headers, 'x-slack-request-timestamp': '12ab' },
    };
    const results = [
      verifySlackRequest(noSignature, SIGNING_SECRET, NOW),
      verifySlackRequest(badTimestamp, SIGNING_SECRET, NOW),
      verifySlackRequest(request, '', NOW),
      verifySlackRequest(
        { ...request, headers: { ...request.headers, 'x-slack-signature': 'v0=' } },
        SIGNING_SECRET,
        NOW,
      ),
    ];
    expect(results.map((r) => r.ok)).toEqual([false, false, false, false]);
    expect(JSON.stringify(results)).not.toContain(SIGNING_SECRET);
  });
});

describe('parseSlackDelivery', () => {
  it('answers url_verification with its challenge', () => {
    const delivery = parseSlackDelivery(
      body({
        token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
        challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
        type: 'url_verification',
      }),
    );
    expect(delivery).toEqual({
      kind: 'url_verification',
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
    });
  });

  it('refuses a challenge that is not a token (it is echoed back)', () => {
    expect(
      parseSlackDelivery(body({ type: 'url_verification', challenge: '<script>alert(1)</script>' })).kind,
    ).toBe('invalid');
  });

  it('maps a direct message to one InboundMessage keyed by team, user and event id, replying in the DM', () => {
    expect(parseSlackDelivery(body(DIRECT_MESSAGE))).toEqual({
      kind: 'event',
      teamId: 'T061EG9R6',
      messages: [
        {
          channel: 'slack',
          agentAddress: 'T061EG9R6',
          customerAddress: 'U2147483697',
          text: 'Do you open on Sundays?',
          attachments: [],
          providerMessageId: 'Ev0PV52K21',
          sentAt: new Date(1_765_000_000_000).toISOString(),
          replyContext: { channel: 'D024BE91L' },
        },
      ],
    });
  });

  it('answers a mention in a channel in its thread, without the bot mention in the text', () => {
    const delivery = parseSlackDelivery(
      withEvent({
        type: 'app_mention',
        channel: 'C0LAN2Q65',
        channel_type: undefined,
        text: '<@U0BOTUSER1> book me for 3pm',
      }),
    );
    expect(delivery).toMatchObject({
      kind: 'event',
      messages: [
        { text: 'book me for 3pm', replyContext: { channel: 'C0LAN2Q65', threadTs: '1765000000.000200' } },
      ],
    });
  });

  it('keeps the thread a direct message was written in', () => {
    const delivery = parseSlackDelivery(withEvent({ thread_ts: '1764999000.000100' }));
    expect(delivery).toMatchObject({
      messages: [{ replyContext: { channel: 'D024BE91L', threadTs: '1764999000.000100' } }],
    });
  });

  it.each([
    ['a bot_id', { bot_id: 'B0BOT', subtype: undefined }],
    ['subtype bot_message', { subtype: 'bot_message' }],
    ["the installation's own bot user", { user: 'U0BOTUSER1' }],
    ['an edit', { subtype: 'message_changed' }],
    ['a channel message (a mention arrives as app_mention too)', { channel_type: 'channel' }],
    ['an empty text', { text: '   ' }],
  ])('ignores %s', (_why, event) => {
    const delivery = parseSlackDelivery(withEvent(event));
    expect(delivery).toMatchObject({ kind: 'event', teamId: 'T061EG9R6', messages: [] });
    expect(delivery.kind === 'event' && delivery.ignored).toBeTruthy();
  });

  it('gives a retry of the same event (X-Slack-Retry-Num) the same providerMessageId', () => {
    const first = parseSlackDelivery(body(DIRECT_MESSAGE));
    const retry = parseSlackDelivery(body(DIRECT_MESSAGE));
    expect(first.kind === 'event' && first.messages[0]?.providerMessageId).toBe('Ev0PV52K21');
    expect(retry).toEqual(first);
  });

  it('carries shared files as references', () => {
    const delivery = parseSlackDelivery(
      withEvent({
        subtype: 'file_share',
        text: 'here is my receipt',
        files: [{ id: 'F0123ABCD', name: 'receipt.pdf', mimetype: 'application/pdf', size: 51234 }],
      }),
    );
    expect(delivery).toMatchObject({
      messages: [
        {
          attachments: [
            { ref: 'F0123ABCD', name: 'receipt.pdf', contentType: 'application/pdf', sizeBytes: 51234 },
          ],
        },
      ],
    });
  });

  it('reads other delivery types as nothing to answer, and rejects what is not a Slack delivery', () => {
    expect(
      parseSlackDelivery(body({ type: 'app_rate_limited', team_id: 'T061EG9R6', minute_rate_limited: 1 })),
    ).toMatchObject({
      kind: 'event',
      messages: [],
    });
    expect(parseSlackDelivery('not json').kind).toBe('invalid');
    expect(parseSlackDelivery('[1]').kind).toBe('invalid');
    expect(parseSlackDelivery(body({ ...DIRECT_MESSAGE, team_id: '../T1' })).kind).toBe('invalid');
    expect(parseSlackDelivery(body({ ...DIRECT_MESSAGE, event_id: undefined })).kind).toBe('invalid');
  });
});
