import { inspect } from 'node:util';
import { type CredentialsPort, ProviderError } from '../../domain/actions/ports';
import { TwilioMessaging } from './twilio-messaging';

const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'tw-auth-9f8e7d6c5b4a39281706';
const TENANT = 'ten_01J0000000000000000000000A';
const OTHER_TENANT = 'ten_01J0000000000000000000000B';

const CREDENTIALS: Record<string, Record<string, string>> = {
  [`${TENANT}/twilio`]: {
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    smsFrom: '+15550100100',
    whatsappFrom: '+15550100101',
  },
  [`${OTHER_TENANT}/twilio`]: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, smsFrom: '+15550100100' },
};

class FakeCredentials implements CredentialsPort {
  readonly calls: string[] = [];
  constructor(private readonly store: Record<string, Record<string, string>> = CREDENTIALS) {}
  async get<T extends Record<string, string>>(tenantId: string, provider: string) {
    this.calls.push(`${tenantId}/${provider}`);
    return this.store[`${tenantId}/${provider}`] as T | undefined;
  }
}

// A recorded 201 from the Messages API (trimmed).
const CREATED = {
  sid: 'SM1f0e2d3c4b5a69788796a5b4c3d2e1f0',
  status: 'queued',
  to: '+15550100199',
  from: '+15550100100',
  body: 'Your appointment is confirmed.',
  account_sid: ACCOUNT_SID,
  error_code: null,
};

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

let fetchSpy: jest.SpiedFunction<typeof fetch>;
let sleeps: number[];

beforeEach(() => {
  fetchSpy = jest.spyOn(globalThis, 'fetch');
  sleeps = [];
});

afterEach(() => {
  fetchSpy.mockRestore();
});

function messaging(credentials: CredentialsPort = new FakeCredentials()) {
  return new TwilioMessaging({
    credentials,
    timeoutMs: 500,
    retry: {
      maxAttempts: 3,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
    },
  });
}

function sent(index = 0) {
  const call = fetchSpy.mock.calls[index];
  if (!call) throw new Error(`no fetch call #${index}`);
  const [url, init] = call;
  return {
    url: String(url),
    init: init as RequestInit,
    headers: (init?.headers ?? {}) as Record<string, string>,
    form: new URLSearchParams(String(init?.body)),
  };
}

const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined).catch((e: unknown) => e);

describe('TwilioMessaging', () => {
  it('posts an SMS form to the tenant account with basic auth and returns the SID as the receipt', async () => {
    fetchSpy.mockResolvedValueOnce(json(201, CREATED));
    const receipt = await messaging().send(TENANT, {
      channel: 'sms',
      to: '+15550100199',
      body: 'Your appointment is confirmed.',
    });

    expect(receipt).toEqual({ provider: 'twilio', providerId: CREATED.sid, status: 'queued' });
    expect(fetchSpy).toHaveBeenCalledTimes(1);
    const { url, init, headers, form } = sent();
    expect(url).toBe(`https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    expect(init.method).toBe('POST');
    expect(init.signal).toBeInstanceOf(AbortSignal);
    expect(headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(headers.authorization).toBe(
      `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`,
    );
    expect(Object.fromEntries(form)).toEqual({
      To: '+15550100199',
      From: '+15550100100',
      Body: 'Your appointment is confirmed.',
    });
  });

  it('prefixes both WhatsApp addresses with whatsapp:', async () => {
    fetchSpy.mockResolvedValueOnce(json(201, { ...CREATED, status: 'accepted' }));
    const receipt = await messaging().send(TENANT, { channel: 'whatsapp', to: '+15550100199', body: 'Hola' });

    expect(receipt.status).toBe('accepted');
    expect(sent().form.get('To')).toBe('whatsapp:+15550100199');
    expect(sent().form.get('From')).toBe('whatsapp:+15550100101');
  });

  it('does not double a whatsapp: prefix the caller already put on the number', async () => {
    fetchSpy.mockResolvedValueOnce(json(201, CREATED));
    await messaging().send(TENANT, { channel: 'whatsapp', to: 'whatsapp:+15550100199', body: 'Hola' });
    expect(sent().form.get('To')).toBe('whatsapp:+15550100199');
  });

  it('sends through a Messaging Service when smsFrom is one', async () => {
    fetchSpy.mockResolvedValueOnce(json(201, CREATED));
    const credentials = new FakeCredentials({
      [`${TENANT}/twilio`]: {
        accountSid: ACCOUNT_SID,
        authToken: AUTH_TOKEN,
        smsFrom: 'MG0123456789abcdef0123456789abcdef',
      },
    });
    await messaging(credentials).send(TENANT, { channel: 'sms', to: '+15550100199', body: 'hi' });
    expect(sent().form.get('MessagingServiceSid')).toBe('MG0123456789abcdef0123456789abcdef');
    expect(sent().form.has('From')).toBe(false);
  });

  it('looks up the credentials of the tenant that sends, under provider twilio', async () => {
    fetchSpy.mockResolvedValueOnce(json(201, CREATED));
    const credentials = new FakeCredentials();
    await messaging(credentials).send(OTHER_TENANT, { channel: 'sms', to: '+15550100199', body: 'hi' });
    expect(credentials.calls).toEqual([`${OTHER_TENANT}/twilio`]);
  });

  it('refuses, without calling Twilio, a tenant that has no credentials', async () => {
    const error = await failureOf(
      messaging().send('ten_unknown', { channel: 'sms', to: '+15550100199', body: 'hi' }),
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ provider: 'twilio', retryable: false, code: 'PROVIDER_REJECTED' });
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('refuses WhatsApp for a tenant without a WhatsApp sender', async () => {
    const error = await failureOf(
      messaging().send(OTHER_TENANT, { channel: 'whatsapp', to: '+15550100199', body: 'hi' }),
    );
    expect(error).toMatchObject({ retryable: false, message: expect.stringContaining('WhatsApp') });
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('refuses malformed credentials naming the fields, never their values', async () => {
    const credentials = new FakeCredentials({
      [`${TENANT}/twilio`]: { accountSid: '../../Evil', authToken: AUTH_TOKEN, smsFrom: '+15550100100' },
    });
    const error = await failureOf(
      messaging(credentials).send(TENANT, { channel: 'sms', to: '+15550100199', body: 'hi' }),
    );
    expect(error).toMatchObject({ retryable: false, message: expect.stringContaining('accountSid') });
    expect(inspect(error)).not.toContain('../../Evil');
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("fails a 4xx at once, not retryable, with Twilio's code and message", async () => {
    fetchSpy.mockResolvedValueOnce(
      json(400, {
        code: 21211,
        message: "The 'To' number +1555 is not a valid phone number.",
        more_info: 'https://www.twilio.com/docs/errors/21211',
        status: 400,
      }),
    );
    const error = await failureOf(messaging().send(TENANT, { channel: 'sms', to: '+1555', body: 'hi' }));

    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({
      provider: 'twilio',
      retryable: false,
      providerCode: '21211',
      statusCode: 502,
      code: 'PROVIDER_REJECTED',
    });
    expect((error as Error).message).toContain("The 'To' number +1555 is not a valid phone number.");
    expect(fetchSpy).toHaveBeenCalledTimes(1);
    expect(sleeps).toEqual([]);
  });

  it('never puts the auth token or the Authorization header into an error', async () => {
    // A misbehaving proxy echoing the request back.
    fetchSpy.mockResolvedValueOnce(
      json(401, { code: 20003, message: `Authenticate: rejected ${AUTH_TOKEN} in Basic header` }),
    );
    const error = await failureOf(
      messaging().send(TENANT, { channel: 'sms', to: '+15550100199', body: 'x' }),
    );

    expect(error).toMatchObject({ retryable: false, providerCode: '20003' });
    const everything = `${inspect(error, { depth: 5 })} ${JSON.stringify(error)}`;
    expect(everything).not.toContain(AUTH_TOKEN);
    expect(everything).not.toContain(Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64'));
    expect((error as Error).message).toContain('[redacted]');
  });

  it('retries a 429 after the Retry-After the server asked for, then succeeds', async () => {
    fetchSpy
      .mockResolvedValueOnce(json(429, { code: 20429, message: 'Too Many Requests' }, { 'retry-after': '2' }))
      .mockResolvedValueOnce(json(201, CREATED));
    const receipt = await messaging().send(TENANT, { channel: 'sms', to: '+15550100199', body: 'hi' });

    expect(receipt.providerId).toBe(CREATED.sid);
    expect(fetchSpy).toHaveBeenCalledTimes(2);
    expect(sleeps).toEqual([2000]);
  });

  it('retries 5xx with backoff and reports a retryable error once the attempts run out', async () => {
    fetchSpy.mockImplementation(async () => json(503, { code: 20500, message: 'Service Unavailable' }));
    const error = await failureOf(
      messaging().send(TENANT, { channel: 'sms', to: '+15550100199', body: 'x' }),
    );

    expect(fetchSpy).toHaveBeenCalledTimes(3);
    expect(sleeps).toHaveLength(2);
    expect(error).toMatchObject({
      provider: 'twilio',
      retryable: true,
      providerCode: '20500',
      code: 'PROVIDER_UNAVAILABLE',
    });
    expect((error as Error).message).toMatch(/HTTP 503.*gave up after 3 attempts/);
  });

  it('retries network failures and timeouts', async () => {
    const reset = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    });
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), {
      name: 'TimeoutError',
    });
    fetchSpy
      .mockRejectedValueOnce(reset)
      .mockRejectedValueOnce(timeout)
      .mockResolvedValueOnce(json(201, CREATED));
    const receipt = await messaging().send(TENANT, { channel: 'sms', to: '+15550100199', body: 'x' });

    expect(receipt.providerId).toBe(CREATED.sid);
    expect(fetchSpy).toHaveBeenCalledTimes(3);
  });

  it('reports a timeout on every attempt as retryable, saying so', async () => {
    fetchSpy.mockRejectedValue(Object.assign(new Error('aborted'), { name: 'TimeoutError' }));
    const error = await failureOf(
      messaging().send(TENANT, { channel: 'sms', to: '+15550100199', body: 'x' }),
    );
    expect(error).toMatchObject({
      retryable: true,
      message: expect.stringContaining('no answer within 500 ms'),
    });
  });

  it('does not retry an error that is not a network failure', async () => {
    fetchSpy.mockRejectedValueOnce(new TypeError('Invalid URL'));
    const error = await failureOf(
      messaging().send(TENANT, { channel: 'sms', to: '+15550100199', body: 'x' }),
    );
    expect(error).toMatchObject({ retryable: false });
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });

  it('stops at once when Retry-After exceeds the patience, as a retryable failure', async () => {
    fetchSpy.mockResolvedValueOnce(
      json(429, { code: 20429, message: 'slow down' }, { 'retry-after': '3600' }),
    );
    const error = await failureOf(
      messaging().send(TENANT, { channel: 'sms', to: '+15550100199', body: 'x' }),
    );
    expect(error).toMatchObject({ retryable: true, providerCode: '20429' });
    expect(fetchSpy).toHaveBeenCalledTimes(1);
    expect(sleeps).toEqual([]);
  });
});
