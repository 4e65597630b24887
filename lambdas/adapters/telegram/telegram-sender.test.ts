import { inspect } from 'node:util';
import {
  BAD_TOKEN_CODES,
  deleteTelegramWebhook,
  sendTelegramMessage,
  setTelegramWebhook,
  TELEGRAM_MAX_TEXT,
} from './telegram-sender';

const BOT_TOKEN = '7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';

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
  retry: {
    maxAttempts: 3,
    maxDelayMs: 60_000,
    sleep: async (ms: number) => void sleeps.push(ms),
    random: () => 0.5,
  },
};
const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined).catch((e: unknown) => e);
const sentBody = (index = 0) =>
  JSON.parse(String((fetchSpy.mock.calls[index]?.[1] as RequestInit | undefined)?.body));
const ok = (id: number) =>
  json(200, { ok: true, result: { message_id: id, chat: { id: 1089347521 }, date: 1765000001, text: '…' } });

describe('sendTelegramMessage', () => {
  it('calls sendMessage with the token in the path, replying to the customer message', async () => {
    fetchSpy.mockResolvedValueOnce(ok(53));
    const receipt = await sendTelegramMessage(
      {
        botToken: BOT_TOKEN,
        chatId: '1089347521',
        text: 'Yes, until Friday.',
        replyToMessageId: '52',
        messageThreadId: '7',
      },
      options,
    );
    expect(receipt).toEqual({ providerMessageId: '53' });
    expect(String(fetchSpy.mock.calls[0]?.[0])).toBe(`https://api.telegram.org/bot${BOT_TOKEN}/sendMessage`);
    expect(sentBody()).toEqual({
      chat_id: '1089347521',
      text: 'Yes, until Friday.',
      message_thread_id: 7,
      reply_parameters: { message_id: 52, allow_sending_without_reply: true },
    });
  });

  it('sends a reply longer than 4096 characters as several messages, in order', async () => {
    fetchSpy.mockResolvedValueOnce(ok(60)).mockResolvedValueOnce(ok(61));
    const text = `${'a'.repeat(3000)}\n\n${'b'.repeat(3000)}`;
    await expect(sendTelegramMessage({ botToken: BOT_TOKEN, chatId: '1', text }, options)).resolves.toEqual({
      providerMessageId: '60',
    });
    expect(fetchSpy).toHaveBeenCalledTimes(2);
    expect(sentBody(0).text).toBe('a'.repeat(3000));
    expect(sentBody(1).text).toBe('b'.repeat(3000));
    expect(sentBody(0).text.length).toBeLessThanOrEqual(TELEGRAM_MAX_TEXT);
  });

  it('waits the retry_after Telegram asks for on 429', async () => {
    fetchSpy
      .mockResolvedValueOnce(
        json(429, {
          ok: false,
          error_code: 429,
          description: 'Too Many Requests: retry after 5',
          parameters: { retry_after: 5 },
        }),
      )
      .mockResolvedValueOnce(ok(54));
    await expect(
      sendTelegramMessage({ botToken: BOT_TOKEN, chatId: '1', text: 'hi' }, options),
    ).resolves.toEqual({ providerMessageId: '54' });
    expect(sleeps).toEqual([5000]);
  });

  it('fails a blocked bot at once, not retryable, and never shows the token (it is in the URL)', async () => {
    fetchSpy.mockResolvedValueOnce(
      json(403, { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' }),
    );
    const error = await failureOf(
      sendTelegramMessage({ botToken: BOT_TOKEN, chatId: '1', text: 'hi' }, options),
    );
    expect(error).toMatchObject({ provider: 'telegram', retryable: false, providerCode: '403' });
    expect((error as Error).message).toContain('bot was blocked by the user');
    expect(fetchSpy).toHaveBeenCalledTimes(1);

    fetchSpy.mockRejectedValueOnce(
      new TypeError(`fetch failed for https://api.telegram.org/bot${BOT_TOKEN}/sendMessage`),
    );
    const network = await failureOf(
      sendTelegramMessage({ botToken: BOT_TOKEN, chatId: '1', text: 'hi' }, options),
    );
    expect(inspect(network, { depth: 5 })).not.toContain(BOT_TOKEN);
  });

  it('refuses a malformed token without calling Telegram (it would become part of the URL)', async () => {
    const error = await failureOf(
      sendTelegramMessage({ botToken: '1/../evil', chatId: '1', text: 'hi' }, options),
    );
    expect(error).toMatchObject({ retryable: false });
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

describe('setTelegramWebhook', () => {
  it('points the bot at the channel URL with the secret token, asking for messages only', async () => {
    fetchSpy.mockResolvedValueOnce(json(200, { ok: true, result: true, description: 'Webhook was set' }));
    await setTelegramWebhook(
      {
        botToken: BOT_TOKEN,
        url: 'https://api.example.com/v1/webhooks/telegram/tgk_key',
        secretToken: 'sec_TOKEN-1',
      },
      options,
    );
    expect(String(fetchSpy.mock.calls[0]?.[0])).toBe(`https://api.telegram.org/bot${BOT_TOKEN}/setWebhook`);
    expect(sentBody()).toEqual({
      url: 'https://api.example.com/v1/webhooks/telegram/tgk_key',
      secret_token: 'sec_TOKEN-1',
      allowed_updates: ['message'],
    });
  });

  it("reports Telegram's refusal without the token or the secret", async () => {
    fetchSpy.mockResolvedValueOnce(
      json(400, {
        ok: false,
        error_code: 400,
        description: 'Bad Request: bad webhook: sec_TOKEN-1 rejected',
      }),
    );
    const error = await failureOf(
      setTelegramWebhook(
        { botToken: BOT_TOKEN, url: 'https://x.example/v1/webhooks/telegram/k', secretToken: 'sec_TOKEN-1' },
        options,
      ),
    );
    expect(error).toMatchObject({ provider: 'telegram', retryable: false });
    expect(inspect(error, { depth: 5 })).not.toMatch(/sec_TOKEN-1|AAHdqTcv/);
  });

  it('refuses a plain-http URL without calling Telegram', async () => {
    await expect(
      setTelegramWebhook(
        { botToken: BOT_TOKEN, url: 'http://localhost:3000/v1/webhooks/telegram/k', secretToken: 's' },
        options,
      ),
    ).rejects.toMatchObject({ retryable: false });
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

describe('setTelegramWebhook: a token Telegram does not know', () => {
  it('reports 401 Unauthorized as a bad-token code, without retrying', async () => {
    fetchSpy.mockResolvedValueOnce(json(401, { ok: false, error_code: 401, description: 'Unauthorized' }));
    const error = await failureOf(
      setTelegramWebhook(
        { botToken: BOT_TOKEN, url: 'https://x.example/v1/webhooks/telegram/k', secretToken: 's' },
        options,
      ),
    );
    expect(error).toMatchObject({ provider: 'telegram', retryable: false, details: { providerCode: '401' } });
    expect(BAD_TOKEN_CODES.has((error as { providerCode: string }).providerCode)).toBe(true);
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });

  it('refuses a malformed token without calling Telegram, with a bad-token code', async () => {
    const error = await failureOf(
      setTelegramWebhook({ botToken: 'not-a-token', url: 'https://x.example/w', secretToken: 's' }, options),
    );
    expect(BAD_TOKEN_CODES.has((error as { providerCode: string }).providerCode)).toBe(true);
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

describe('deleteTelegramWebhook', () => {
  it('calls deleteWebhook with the token in the path, dropping pending updates', async () => {
    fetchSpy.mockResolvedValueOnce(json(200, { ok: true, result: true, description: 'Webhook was deleted' }));
    await deleteTelegramWebhook({ botToken: BOT_TOKEN }, options);
    expect(String(fetchSpy.mock.calls[0]?.[0])).toBe(
      `https://api.telegram.org/bot${BOT_TOKEN}/deleteWebhook`,
    );
    expect(sentBody()).toEqual({ drop_pending_updates: true });
  });

  it("reports Telegram's refusal without the token", async () => {
    fetchSpy.mockResolvedValueOnce(json(401, { ok: false, error_code: 401, description: 'Unauthorized' }));
    const error = await failureOf(deleteTelegramWebhook({ botToken: BOT_TOKEN }, options));
    expect(error).toMatchObject({ provider: 'telegram', retryable: false });
    expect(inspect(error, { depth: 5 })).not.toMatch(/AAHdqTcv/);
  });
});
