import { inspect } from 'node:util';
import { ProviderError } from '../../domain/actions/ports';
import { postSlackMessage } from './slack-sender';

const BOT_TOKEN = 'xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy';

const json = (status: number, value: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(value), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

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
const post = (extra: Partial<Parameters<typeof postSlackMessage>[0]> = {}) =>
  postSlackMessage({ botToken: BOT_TOKEN, channel: 'C0LAN2Q65', text: 'We open at 10.', ...extra }, options);

describe('postSlackMessage', () => {
  it('posts chat.postMessage as JSON with the bearer bot token, in the thread, and returns the ts', async () => {
    fetchSpy.mockResolvedValueOnce(
      json(200, { ok: true, channel: 'C0LAN2Q65', ts: '1765000001.000300', message: {} }),
    );
    await expect(post({ threadTs: '1765000000.000200' })).resolves.toEqual({
      providerMessageId: '1765000001.000300',
    });
    const [url, init] = fetchSpy.mock.calls[0] as [string, RequestInit];
    expect(url).toBe('https://slack.com/api/chat.postMessage');
    const headers = init.headers as Record<string, string>;
    expect(headers.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    expect(headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(String(init.body))).toEqual({
      channel: 'C0LAN2Q65',
      text: 'We open at 10.',
      thread_ts: '1765000000.000200',
    });
  });

  it('fails ok:false at once, not retryable, with Slack error code', async () => {
    fetchSpy.mockResolvedValueOnce(json(200, { ok: false, error: 'channel_not_found' }));
    const error = await failureOf(post());
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ provider: 'slack', retryable: false, providerCode: 'channel_not_found' });
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });

  it('waits the Retry-After of a 429 and tries again', async () => {
    fetchSpy
      .mockResolvedValueOnce(json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '3' }))
      .mockResolvedValueOnce(json(200, { ok: true, ts: '1765000001.000300' }));
    await expect(post()).resolves.toEqual({ providerMessageId: '1765000001.000300' });
    expect(sleeps).toEqual([3000]);
  });

  it('retries transient ok:false errors and reports a retryable error when they persist', async () => {
    fetchSpy.mockImplementation(async () => json(200, { ok: false, error: 'service_unavailable' }));
    const error = await failureOf(post());
    expect(fetchSpy).toHaveBeenCalledTimes(3);
    expect(error).toMatchObject({
      retryable: true,
      providerCode: 'service_unavailable',
      code: 'PROVIDER_UNAVAILABLE',
    });
  });

  it('never lets the bot token into an error', async () => {
    fetchSpy.mockResolvedValueOnce(json(200, { ok: false, error: `invalid_auth ${BOT_TOKEN}` }));
    const error = await failureOf(post());
    expect(`${inspect(error, { depth: 5 })} ${JSON.stringify(error)}`).not.toContain(BOT_TOKEN);
  });

  it('refuses to send without a token, without calling Slack', async () => {
    expect(await failureOf(post({ botToken: '' }))).toMatchObject({ retryable: false });
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});
