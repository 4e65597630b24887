import { createHmac } from 'node:crypto';
import { metaSignature, metaSubscription, parseMetaDelivery, verifyMetaRequest } from './meta-webhook';

const APP_SECRET = 'c4f3b2a1d0e9f8a7b6c5d4e3f2a1b0c9';
const PAGE = '104829318712345';
const OTHER_PAGE = '104829318799999';
const IG_ACCOUNT = '17841405822304914';

const textEvent = (page: string, psid: string, mid: string, text: string) => ({
  sender: { id: psid },
  recipient: { id: page },
  timestamp: 1765000000123,
  message: { mid, text },
});

// Two pages of one app in one delivery, the second with two events: Meta batches like this.
const BATCH = {
  object: 'page',
  entry: [
    {
      id: PAGE,
      time: 1765000000200,
      messaging: [textEvent(PAGE, '6789012345678901', 'm_AAA1', 'Hi, are you open?')],
    },
    {
      id: OTHER_PAGE,
      time: 1765000000300,
      messaging: [
        textEvent(OTHER_PAGE, '7789012345678902', 'm_BBB1', 'Price of the blue one?'),
        textEvent(OTHER_PAGE, '7789012345678902', 'm_BBB2', 'And shipping?'),
      ],
    },
  ],
};
const body = (value: unknown) => JSON.stringify(value);

describe('verifyMetaRequest', () => {
  it('accepts sha256= HMAC-SHA256 of the raw body with the app secret, computed independently here', () => {
    // Meta escapes non-ASCII: the signature is over these bytes, not over a re-serialisation.
    const rawBody =
      '{"object":"page","entry":[{"id":"104829318712345","time":1,"messaging":[{"message":{"text":"caf\\u00e9"}}]}]}';
    const header = `sha256=${createHmac('sha256', APP_SECRET).update(rawBody).digest('hex')}`;
    expect(verifyMetaRequest({ rawBody, headers: { 'X-Hub-Signature-256': header } }, APP_SECRET)).toEqual({
      ok: true,
    });
    const reserialised = JSON.stringify(JSON.parse(rawBody));
    expect(
      verifyMetaRequest({ rawBody: reserialised, headers: { 'X-Hub-Signature-256': header } }, APP_SECRET).ok,
    ).toBe(false);
  });

  it.each([
    ['another secret', { 'x-hub-signature-256': metaSignature(body(BATCH), 'other-app-secret') }],
    ['the legacy SHA-1 header only', { 'x-hub-signature': 'sha1=0123456789abcdef0123456789abcdef01234567' }],
    [
      'a bare hex digest',
      { 'x-hub-signature-256': metaSignature(body(BATCH), APP_SECRET).slice('sha256='.length) },
    ],
  ])('refuses %s without echoing the secret', (_why, headers) => {
    const result = verifyMetaRequest({ rawBody: body(BATCH), headers }, APP_SECRET);
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain(APP_SECRET);
  });

  it('refuses everything when no app secret is configured', () => {
    expect(
      verifyMetaRequest({ rawBody: '{}', headers: { 'x-hub-signature-256': metaSignature('{}', '') } }, '')
        .ok,
    ).toBe(false);
  });
});

describe('metaSubscription', () => {
  it('reads the handshake Meta sends when the callback URL is set', () => {
    expect(
      metaSubscription({
        'hub.mode': 'subscribe',
        'hub.verify_token': 'my-verify-token',
        'hub.challenge': '1158201444',
      }),
    ).toEqual({
      verifyToken: 'my-verify-token',
      challenge: '1158201444',
    });
  });

  it('refuses another mode, a missing token and a challenge that is not a token', () => {
    expect(
      metaSubscription({ 'hub.mode': 'unsubscribe', 'hub.verify_token': 't', 'hub.challenge': '1' }),
    ).toHaveProperty('invalid');
    expect(metaSubscription({ 'hub.mode': 'subscribe', 'hub.challenge': '1' })).toHaveProperty('invalid');
    expect(
      metaSubscription({ 'hub.mode': 'subscribe', 'hub.verify_token': 't', 'hub.challenge': '<b>x</b>' }),
    ).toHaveProperty('invalid');
  });
});

describe('parseMetaDelivery', () => {
  it('reads every entry and every event of a batched Messenger delivery', () => {
    const delivery = parseMetaDelivery(body(BATCH));
    expect(delivery).toEqual({
      kind: 'delivery',
      entries: [
        {
          channel: 'messenger',
          address: PAGE,
          messages: [
            {
              channel: 'messenger',
              agentAddress: PAGE,
              customerAddress: '6789012345678901',
              text: 'Hi, are you open?',
              attachments: [],
              providerMessageId: 'm_AAA1',
              sentAt: new Date(1765000000123).toISOString(),
              replyContext: { recipientId: '6789012345678901' },
            },
          ],
        },
        {
          channel: 'messenger',
          address: OTHER_PAGE,
          messages: [
            expect.objectContaining({ providerMessageId: 'm_BBB1', text: 'Price of the blue one?' }),
            expect.objectContaining({ providerMessageId: 'm_BBB2', text: 'And shipping?' }),
          ],
        },
      ],
    });
  });

  it('reads Instagram deliveries, from messaging and from changes with field messages', () => {
    const delivery = parseMetaDelivery(
      body({
        object: 'instagram',
        entry: [
          {
            id: IG_ACCOUNT,
            time: 1765000000400,
            messaging: [textEvent(IG_ACCOUNT, '5318008123456789', 'aWdfZAG1', 'Do you ship to Lisbon?')],
          },
          {
            id: IG_ACCOUNT,
            time: 1765000000500,
            changes: [
              {
                field: 'messages',
                value: textEvent(IG_ACCOUNT, '5318008123456789', 'aWdfZAG2', 'In a week?'),
              },
              { field: 'comments', value: { id: '1790', text: 'nice post' } },
            ],
          },
        ],
      }),
    );
    expect(
      delivery.kind === 'delivery' &&
        delivery.entries.map((e) => [e.channel, e.address, e.messages.map((m) => m.text)]),
    ).toEqual([
      ['instagram', IG_ACCOUNT, ['Do you ship to Lisbon?']],
      ['instagram', IG_ACCOUNT, ['In a week?']],
    ]);
  });

  it('ignores echoes, reads, deliveries, reactions and deletions, and takes a postback title as text', () => {
    const delivery = parseMetaDelivery(
      body({
        object: 'page',
        entry: [
          {
            id: PAGE,
            time: 1,
            messaging: [
              {
                sender: { id: PAGE },
                recipient: { id: '6789012345678901' },
                timestamp: 1,
                message: { mid: 'm_echo', is_echo: true, app_id: 1517776481860111, text: 'our reply' },
              },
              {
                sender: { id: '6789012345678901' },
                recipient: { id: PAGE },
                timestamp: 1,
                read: { watermark: 1765000000000 },
              },
              {
                sender: { id: '6789012345678901' },
                recipient: { id: PAGE },
                timestamp: 1,
                delivery: { mids: ['m_x'], watermark: 1 },
              },
              {
                sender: { id: '6789012345678901' },
                recipient: { id: PAGE },
                timestamp: 1,
                reaction: { mid: 'm_x', action: 'react', reaction: 'love' },
              },
              {
                sender: { id: '6789012345678901' },
                recipient: { id: PAGE },
                timestamp: 1,
                message: { mid: 'm_del', is_deleted: true },
              },
              {
                sender: { id: '6789012345678901' },
                recipient: { id: PAGE },
                timestamp: 1,
                postback: { mid: 'm_pb', title: 'Talk to sales', payload: 'SALES' },
              },
            ],
          },
        ],
      }),
    );
    expect(
      delivery.kind === 'delivery' && delivery.entries[0]?.messages.map((m) => [m.providerMessageId, m.text]),
    ).toEqual([['m_pb', 'Talk to sales']]);
  });

  it('keeps image attachments as their https URLs', () => {
    const delivery = parseMetaDelivery(
      body({
        object: 'page',
        entry: [
          {
            id: PAGE,
            time: 1,
            messaging: [
              {
                sender: { id: '6789012345678901' },
                recipient: { id: PAGE },
                timestamp: 1,
                message: {
                  mid: 'm_img',
                  attachments: [
                    { type: 'image', payload: { url: 'https://scontent.xx.fbcdn.net/v/t1.15752-9/abc.jpg' } },
                  ],
                },
              },
            ],
          },
        ],
      }),
    );
    expect(delivery).toMatchObject({
      entries: [
        {
          messages: [
            {
              text: '',
              attachments: [
                { ref: 'https://scontent.xx.fbcdn.net/v/t1.15752-9/abc.jpg', contentType: 'image/*' },
              ],
            },
          ],
        },
      ],
    });
  });

  it('rejects what is not a Messenger or Instagram delivery', () => {
    expect(parseMetaDelivery('{').kind).toBe('invalid');
    expect(parseMetaDelivery(body({ object: 'whatsapp_business_account', entry: [] })).kind).toBe('invalid');
    expect(parseMetaDelivery(body({ object: 'page' })).kind).toBe('invalid');
    expect(parseMetaDelivery(body({ object: 'page', entry: [{ id: '../x', messaging: [] }] })).kind).toBe(
      'invalid',
    );
  });
});
