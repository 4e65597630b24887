import { inspect } from 'node:util';
import { META_GRAPH_VERSION, sendMetaMessage } from './meta-sender';

const PAGE_TOKEN = 'EAAGm0PX4ZCpsBAKZAc0ZBZCZAvery-secret-page-token';

const json = (status: number, value: unknown) =>
  new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });

let fetchSpy: jest.SpiedFunction<typeof fetch>;
let sleeps: number[];
beforeEach(() => {
  fetchSpy = jest.spyOn(globalThis, 'fetch');
  sleeps = [];
});
afterEach(() => fetchSpy.mockRestore());

const options = {
  timeoutMs: 500,
  retry: { maxAttempts: 3, sleep: async (ms: number) => void sleeps.push(ms), random: () => 0.5 },
};
const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined).catch((e: unknown) => e);
const call = (index = 0) => {
  const [url, init] = (fetchSpy.mock.calls[index] ?? []) as [string, RequestInit];
  return {
    url: String(url),
    headers: init.headers as Record<string, string>,
    body: JSON.parse(String(init.body)),
  };
};
const send = (extra: Partial<Parameters<typeof sendMetaMessage>[0]> = {}) =>
  sendMetaMessage(
    {
      channel: 'messenger',
      pageAccessToken: PAGE_TOKEN,
      recipientId: '6789012345678901',
      text: 'Yes, 9 to 5.',
      ...extra,
    },
    options,
  );

describe('sendMetaMessage', () => {
  it('posts to /{version}/me/messages with the page token as bearer, as a RESPONSE', async () => {
    fetchSpy.mockResolvedValueOnce(json(200, { recipient_id: '6789012345678901', message_id: 'm_reply1' }));
    await expect(send()).resolves.toEqual({ providerMessageId: 'm_reply1' });
    const sent = call();
    expect(sent.url).toBe(`https://graph.facebook.com/${META_GRAPH_VERSION}/me/messages`);
    expect(sent.url).not.toContain(PAGE_TOKEN);
    expect(sent.headers.authorization).toBe(`Bearer ${PAGE_TOKEN}`);
    expect(sent.body).toEqual({
      recipient: { id: '6789012345678901' },
      messaging_type: 'RESPONSE',
      message: { text: 'Yes, 9 to 5.' },
    });
  });

  it('cuts a long Instagram reply at 1000 characters per message', async () => {
    fetchSpy
      .mockResolvedValueOnce(json(200, { message_id: 'm1' }))
      .mockResolvedValueOnce(json(200, { message_id: 'm2' }));
    await send({ channel: 'instagram', text: `${'x'.repeat(900)} ${'y'.repeat(900)}` });
    expect(fetchSpy).toHaveBeenCalledTimes(2);
    expect(call(0).body.message.text).toBe('x'.repeat(900));
    expect(call(1).body.message.text).toBe('y'.repeat(900));
  });

  it('fails a message outside the messaging window at once, with the Graph code', async () => {
    fetchSpy.mockResolvedValueOnce(
      json(400, {
        error: {
          message: '(#10) This message is sent outside of allowed window.',
          type: 'OAuthException',
          code: 10,
          error_subcode: 2018278,
          fbtrace_id: 'AbCdEf',
        },
      }),
    );
    const error = await failureOf(send());
    expect(error).toMatchObject({ provider: 'meta', retryable: false, providerCode: '10/2018278' });
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });

  it('retries the page rate limit (code 32) and succeeds', async () => {
    fetchSpy
      .mockResolvedValueOnce(
        json(400, {
          error: { message: '(#32) Page request limit reached', type: 'OAuthException', code: 32 },
        }),
      )
      .mockResolvedValueOnce(json(200, { message_id: 'm_ok' }));
    await expect(send()).resolves.toEqual({ providerMessageId: 'm_ok' });
    expect(sleeps).toHaveLength(1);
  });

  it('never lets the page token into an error', async () => {
    fetchSpy.mockResolvedValueOnce(
      json(400, { error: { message: `Invalid OAuth access token - ${PAGE_TOKEN}`, code: 190 } }),
    );
    const error = await failureOf(send());
    expect(error).toMatchObject({ retryable: false, providerCode: '190' });
    expect(`${inspect(error, { depth: 5 })} ${JSON.stringify(error)}`).not.toContain(PAGE_TOKEN);
  });
});
