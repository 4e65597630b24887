import { configureChannel } from '../domain/channels/configure';
import type { TelegramWebhookRegistry } from '../domain/channels/ports';
import { ChannelCredentialsRejectedError } from '../domain/shared/errors';
import { telegramWebhooks } from './telegram-webhooks';

const BOT_TOKEN = '7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const live = { STAGE: 'prod', OUTBOUND_MODE: 'live', PUBLIC_BASE_URL: 'https://api.example.com' };
const json = (status: number, value: unknown) =>
  new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });

let fetchSpy: jest.SpiedFunction<typeof fetch>;
beforeEach(() => {
  fetchSpy = jest.spyOn(globalThis, 'fetch');
});
afterEach(() => fetchSpy.mockRestore());

describe('telegramWebhooks (live)', () => {
  const registry = () => telegramWebhooks({ env: live, retry: { maxAttempts: 1 } });

  it("calls Telegram's setWebhook and deleteWebhook with the bot token in the path", async () => {
    fetchSpy
      .mockResolvedValueOnce(json(200, { ok: true, result: true, description: 'Webhook was set' }))
      .mockResolvedValueOnce(json(200, { ok: true, result: true, description: 'Webhook was deleted' }));
    const webhooks = registry();
    expect(webhooks.publicBaseUrl).toBe('https://api.example.com');
    await webhooks.set('ten_1', 'agt_1', {
      botToken: BOT_TOKEN,
      url: 'https://api.example.com/v1/webhooks/telegram/key',
      secretToken: 'sec',
    });
    await webhooks.delete('ten_1', 'agt_1', { botToken: BOT_TOKEN });
    expect(fetchSpy.mock.calls.map(([url]) => String(url))).toEqual([
      `https://api.telegram.org/bot${BOT_TOKEN}/setWebhook`,
      `https://api.telegram.org/bot${BOT_TOKEN}/deleteWebhook`,
    ]);
  });

  it('turns a bot token Telegram does not know (401) into a 422 naming the field', async () => {
    fetchSpy.mockResolvedValueOnce(json(401, { ok: false, error_code: 401, description: 'Unauthorized' }));
    const error = await registry()
      .set('ten_1', 'agt_1', { botToken: BOT_TOKEN, url: 'https://api.example.com/x', secretToken: 's' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelCredentialsRejectedError);
    expect(error).toMatchObject({
      statusCode: 422,
      message: expect.stringMatching(/^body\.credentials\.botToken:/),
    });
    expect(String((error as Error).message)).not.toContain('AAHdqTcv');
  });

  it('leaves any other failure a 502 ProviderError', async () => {
    fetchSpy.mockResolvedValueOnce(
      json(400, {
        ok: false,
        error_code: 400,
        description: 'Bad Request: bad webhook: Failed to resolve host',
      }),
    );
    await expect(
      registry().set('ten_1', 'agt_1', {
        botToken: BOT_TOKEN,
        url: 'https://api.example.com/x',
        secretToken: 's',
      }),
    ).rejects.toMatchObject({ statusCode: 502, provider: 'telegram' });
  });

  it('has no public base URL on AWS without PUBLIC_BASE_URL', () => {
    expect(telegramWebhooks({ env: { STAGE: 'prod' } }).publicBaseUrl).toBeUndefined();
  });
});

describe('configureChannel (telegram) without a public base URL', () => {
  it('refuses with 409 naming the setting, before reading or claiming anything', async () => {
    const untouched = new Proxy(
      {},
      {
        get: (_t, name) => {
          throw new Error(`touched ${String(name)}`);
        },
      },
    );
    const webhooks: TelegramWebhookRegistry = {
      publicBaseUrl: undefined,
      set: () => Promise.reject(new Error('set called')),
      delete: () => Promise.reject(new Error('delete called')),
    };
    const error = await configureChannel(
      {
        agents: untouched,
        settings: untouched,
        directory: untouched,
        secrets: untouched,
        telegramWebhooks: webhooks,
      } as never,
      { userId: 'usr_1', tenantId: 'ten_1', role: 'owner' } as never,
      'agt_1',
      'telegram',
      { credentials: { botToken: BOT_TOKEN } },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 409, details: { setting: 'publicBaseUrl' } });
    expect((error as Error).message).toMatch(/PUBLIC_BASE_URL/);
  });
});
