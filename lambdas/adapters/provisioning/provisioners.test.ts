import { ProviderError } from '../../domain/actions/ports';
import { ConnectProvisioner } from './connect-provisioner';
import { MetaGraphProvisioner, SlackApiProvisioner, TwilioRestProvisioner } from './http-provisioners';

const INSTANCE = {
  arn: 'arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555',
  id: '11111111-2222-3333-4444-555555555555',
};

function sdkError(name: string): Error {
  const error = new Error(`${name} happened`);
  error.name = name;
  return error;
}

describe('ConnectProvisioner', () => {
  it('searches then claims with the provisioning as client token, into the instance', async () => {
    const sent: { name: string; input: Record<string, unknown> }[] = [];
    const client = {
      send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push({ name: command.constructor.name, input: command.input });
        if (command.constructor.name === 'SearchAvailablePhoneNumbersCommand') {
          return { AvailableNumbersList: [{ PhoneNumber: '+14155550100' }] };
        }
        return { PhoneNumberId: 'pn-1', PhoneNumberArn: 'arn' };
      },
    };
    const connect = new ConnectProvisioner(client as never, INSTANCE);
    const claimed = await connect.claimNumber({
      countryCode: 'US',
      type: 'DID',
      clientToken: 'prv_1',
      description: 'agent',
    });
    expect(claimed).toEqual({ phoneNumber: '+14155550100', phoneNumberId: 'pn-1' });
    expect(sent.map((s) => s.name)).toEqual([
      'SearchAvailablePhoneNumbersCommand',
      'ClaimPhoneNumberCommand',
    ]);
    expect(sent[1]?.input).toMatchObject({
      TargetArn: INSTANCE.arn,
      PhoneNumber: '+14155550100',
      ClientToken: 'prv_1',
    });
  });

  it('turns throttling into ThrottledError (the ASL backs off), 5xx into a retryable ProviderError, a refusal into a final one', async () => {
    const failing = (name: string) =>
      new ConnectProvisioner({ send: async () => Promise.reject(sdkError(name)) } as never, INSTANCE);
    await expect(failing('ThrottlingException').associate('pn', 'flow')).rejects.toMatchObject({
      name: 'ThrottledError',
    });
    await expect(
      failing('TooManyRequestsException').createFlow({ name: 'n', content: '{}', description: 'd' }),
    ).rejects.toMatchObject({
      name: 'ThrottledError',
    });
    const transient = await failing('InternalServiceException')
      .associate('pn', 'flow')
      .catch((e: unknown) => e);
    expect(transient).toBeInstanceOf(ProviderError);
    expect((transient as ProviderError).retryable).toBe(true);
    const final = await failing('InvalidParameterException')
      .associate('pn', 'flow')
      .catch((e: unknown) => e);
    expect((final as ProviderError).retryable).toBe(false);
  });

  it('treats an already released number or deleted flow as released (undo is idempotent)', async () => {
    const gone = new ConnectProvisioner(
      { send: async () => Promise.reject(sdkError('ResourceNotFoundException')) } as never,
      INSTANCE,
    );
    await expect(gone.releaseNumber('pn')).resolves.toBeUndefined();
    await expect(gone.deleteFlow('flow')).resolves.toBeUndefined();
    await expect(gone.disassociate('pn')).resolves.toBeUndefined();
  });
});

describe('HTTP provisioners', () => {
  function fakeFetch(status: number, body: unknown) {
    const calls: { url: string; init: RequestInit }[] = [];
    const fetcher = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response(JSON.stringify(body), { status });
    }) as unknown as typeof fetch;
    return { calls, fetcher };
  }

  it('Twilio: finds the SMS number with basic auth, keeps its webhooks, and points them at the platform', async () => {
    const found = fakeFetch(200, {
      incoming_phone_numbers: [
        { sid: 'PN1', sms_url: 'https://old/sms', status_callback: 'https://old/status' },
      ],
    });
    const twilio = new TwilioRestProvisioner(found.fetcher);
    const credentials = { accountSid: 'AC1', authToken: 'secret-token' };
    expect(await twilio.findNumber(credentials, 'sms', '+14155550100')).toEqual({
      sid: 'PN1',
      webhooks: { inboundUrl: 'https://old/sms', statusUrl: 'https://old/status' },
    });
    expect(found.calls[0]?.url).toBe(
      'https://api.twilio.com/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json?PhoneNumber=%2B14155550100',
    );
    const headers = (found.calls[0]?.init.headers ?? {}) as Record<string, string>;
    expect(headers.Authorization).toBe(`Basic ${Buffer.from('AC1:secret-token').toString('base64')}`);
    const update = fakeFetch(200, { sid: 'PN1' });
    await new TwilioRestProvisioner(update.fetcher).setWebhooks(credentials, 'sms', 'PN1', {
      inboundUrl: 'https://api.example/v1/webhooks/twilio/sms',
      statusUrl: 'https://api.example/v1/webhooks/twilio/status',
    });
    expect(update.calls[0]?.init.method).toBe('POST');
    expect(new URLSearchParams(String(update.calls[0]?.init.body)).get('SmsUrl')).toBe(
      'https://api.example/v1/webhooks/twilio/sms',
    );
  });

  it('Twilio: 401 is a final refusal naming no credential; 429 is throttling', async () => {
    const refused = await new TwilioRestProvisioner(fakeFetch(401, { code: 20003 }).fetcher)
      .findNumber({ accountSid: 'AC1', authToken: 'secret-token' }, 'sms', '+1')
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProviderError);
    expect((refused as ProviderError).retryable).toBe(false);
    expect((refused as Error).message).not.toContain('secret-token');
    await expect(
      new TwilioRestProvisioner(fakeFetch(429, {}).fetcher).findNumber(
        { accountSid: 'AC1', authToken: 't' },
        'sms',
        '+1',
      ),
    ).rejects.toMatchObject({ name: 'ThrottledError' });
  });

  it('Slack auth.test gives the workspace; a refused token is a final error', async () => {
    expect(
      await new SlackApiProvisioner(
        fakeFetch(200, { ok: true, team_id: 'T123', user_id: 'U1' }).fetcher,
      ).authTest('xoxb-1'),
    ).toEqual({
      teamId: 'T123',
      botUserId: 'U1',
    });
    await expect(
      new SlackApiProvisioner(fakeFetch(200, { ok: false, error: 'invalid_auth' }).fetcher).authTest('x'),
    ).rejects.toThrow(/invalid_auth/);
  });

  it('Meta subscribes the page to messages and needs the success flag', async () => {
    const ok = fakeFetch(200, { success: true });
    await new MetaGraphProvisioner(ok.fetcher).subscribe('messenger', '12345', 'page-token');
    expect(ok.calls[0]?.url).toBe('https://graph.facebook.com/v21.0/12345/subscribed_apps');
    expect(new URLSearchParams(String(ok.calls[0]?.init.body)).get('subscribed_fields')).toBe('messages');
    await expect(
      new MetaGraphProvisioner(fakeFetch(200, {}).fetcher).subscribe('instagram', '1', 't'),
    ).rejects.toThrow(/did not confirm/);
  });
});
