import {
  ConnectClient,
  DestinationNotAllowedException,
  InternalServiceException,
  InvalidParameterException,
  LimitExceededException,
  ResourceNotFoundException,
  StartOutboundVoiceContactCommand,
  ThrottlingException,
} from '@aws-sdk/client-connect';
import { mockClient } from 'aws-sdk-client-mock';
import { type CredentialsPort, ProviderError } from '../../domain/actions/ports';
import { ConnectVoice, type ConnectVoiceOptions } from './connect-voice';

const TENANT = 'ten_01J0000000000000000000000A';
const OTHER_TENANT = 'ten_01J0000000000000000000000B';
const AGENT = 'agt_01J0000000000000000000000C';
const INSTANCE = 'a1b2c3d4-0000-4000-8000-000000000001';
const DEFAULT_FLOW = 'f0f0f0f0-0000-4000-8000-00000000000f';
const connect = mockClient(ConnectClient);

class FakeCredentials implements CredentialsPort {
  constructor(private readonly store: Record<string, Record<string, string>> = {}) {}
  async get<T extends Record<string, string>>(tenantId: string, provider: string) {
    return this.store[`${tenantId}/${provider}`] as T | undefined;
  }
}

const STARTED = { ContactId: 'c0ffee00-1111-4222-8333-444455556666', $metadata: {} };
const CALL = { agentId: AGENT, to: '+15550100199', purpose: 'Confirm tomorrow 10:00 appointment' };

let sleeps: number[];

beforeEach(() => {
  connect.reset();
  sleeps = [];
});

function voice(options: Partial<ConnectVoiceOptions> = {}) {
  return new ConnectVoice(new ConnectClient({ region: 'us-east-1', maxAttempts: 1 }), {
    instanceId: INSTANCE,
    contactFlowId: DEFAULT_FLOW,
    sourcePhoneNumber: '+15550100000',
    credentials: new FakeCredentials({
      [`${TENANT}/connect`]: { sourcePhoneNumber: '+15550100777', contactFlowId: 'tenant-flow-1' },
      [`${OTHER_TENANT}/connect`]: { sourcePhoneNumber: '+15550100888' },
    }),
    retry: {
      maxAttempts: 3,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
    },
    ...options,
  });
}

const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined).catch((e: unknown) => e);
const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

describe('ConnectVoice', () => {
  it("starts an outbound contact from the tenant's number and flow, with the call's attributes", async () => {
    connect.on(StartOutboundVoiceContactCommand).resolves(STARTED);
    const receipt = await voice().placeCall(TENANT, CALL);

    expect(receipt).toEqual({ provider: 'connect', providerId: STARTED.ContactId, status: 'initiated' });
    const input = connect.commandCalls(StartOutboundVoiceContactCommand)[0]?.args[0].input;
    expect(input).toEqual({
      InstanceId: INSTANCE,
      ContactFlowId: 'tenant-flow-1',
      DestinationPhoneNumber: '+15550100199',
      SourcePhoneNumber: '+15550100777',
      Attributes: {
        origin: 'place_call',
        tenantId: TENANT,
        agentId: AGENT,
        purpose: 'Confirm tomorrow 10:00 appointment',
      },
      ClientToken: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it("calls from the agent's own number when it has one, so the flow routes the call to the agent", async () => {
    connect.on(StartOutboundVoiceContactCommand).resolves(STARTED);
    await voice().placeCall(TENANT, { ...CALL, from: '+15550100555' });
    const input = connect.commandCalls(StartOutboundVoiceContactCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ SourcePhoneNumber: '+15550100555', Attributes: { origin: 'place_call' } });
  });

  it('uses the default flow when the tenant names none, and the default number for a tenant without settings', async () => {
    connect.on(StartOutboundVoiceContactCommand).resolves(STARTED);
    await voice().placeCall(OTHER_TENANT, CALL);
    await voice().placeCall('ten_without_settings', CALL);

    const inputs = connect.commandCalls(StartOutboundVoiceContactCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => [input.SourcePhoneNumber, input.ContactFlowId])).toEqual([
      ['+15550100888', DEFAULT_FLOW],
      ['+15550100000', DEFAULT_FLOW],
    ]);
  });

  it('refuses without calling Connect when there is no caller id or no flow', async () => {
    const noNumber = await failureOf(voice({ sourcePhoneNumber: undefined }).placeCall('ten_x', CALL));
    expect(noNumber).toBeInstanceOf(ProviderError);
    expect(noNumber).toMatchObject({ provider: 'connect', retryable: false });

    const noFlow = await failureOf(voice({ contactFlowId: undefined }).placeCall(OTHER_TENANT, CALL));
    expect(noFlow).toMatchObject({ retryable: false, message: expect.stringContaining('contact flow') });
    expect(connect.calls()).toHaveLength(0);
  });

  it('refuses tenant settings whose number is not E.164', async () => {
    const credentials = new FakeCredentials({ [`${TENANT}/connect`]: { sourcePhoneNumber: '555-0100' } });
    const error = await failureOf(voice({ credentials }).placeCall(TENANT, CALL));
    expect(error).toMatchObject({ retryable: false, message: expect.stringContaining('sourcePhoneNumber') });
    expect(connect.calls()).toHaveLength(0);
  });

  it('retries throttling with one client token for every attempt', async () => {
    connect
      .on(StartOutboundVoiceContactCommand)
      .rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', ...meta(429) }))
      .rejectsOnce(
        new LimitExceededException({ Message: 'concurrent calls', message: 'limit', ...meta(429) }),
      )
      .resolves(STARTED);
    const receipt = await voice().placeCall(TENANT, CALL);

    expect(receipt.providerId).toBe(STARTED.ContactId);
    const tokens = connect
      .commandCalls(StartOutboundVoiceContactCommand)
      .map((call) => call.args[0].input.ClientToken);
    expect(tokens).toHaveLength(3);
    expect(new Set(tokens).size).toBe(1);
    // Backoff from 500 ms (random fixed at 0.5): 250, then 500.
    expect(sleeps).toEqual([250, 500]);
  });

  it('uses a fresh client token for each call placed', async () => {
    connect.on(StartOutboundVoiceContactCommand).resolves(STARTED);
    const adapter = voice();
    await adapter.placeCall(TENANT, CALL);
    await adapter.placeCall(TENANT, CALL);
    const [first, second] = connect
      .commandCalls(StartOutboundVoiceContactCommand)
      .map((call) => call.args[0].input.ClientToken);
    expect(first).not.toBe(second);
  });

  it('reports a retryable error once 5xx failures exhaust the attempts', async () => {
    connect
      .on(StartOutboundVoiceContactCommand)
      .rejects(new InternalServiceException({ Message: 'oops', message: 'oops', ...meta(500) }));
    const error = await failureOf(voice().placeCall(TENANT, CALL));
    expect(error).toMatchObject({
      provider: 'connect',
      retryable: true,
      providerCode: 'InternalServiceException',
      code: 'PROVIDER_UNAVAILABLE',
    });
    expect(connect.commandCalls(StartOutboundVoiceContactCommand)).toHaveLength(3);
  });

  it.each([
    [
      'DestinationNotAllowedException',
      () =>
        new DestinationNotAllowedException({ Message: 'country not allowed', message: 'x', ...meta(403) }),
    ],
    [
      'InvalidParameterException',
      () => new InvalidParameterException({ Message: 'bad number', message: 'x', ...meta(400) }),
    ],
    [
      'ResourceNotFoundException',
      () => new ResourceNotFoundException({ Message: 'no such flow', message: 'x', ...meta(404) }),
    ],
  ])('does not retry %s', async (name, build) => {
    connect.on(StartOutboundVoiceContactCommand).rejects(build());
    const error = await failureOf(voice().placeCall(TENANT, CALL));
    expect(error).toMatchObject({ provider: 'connect', retryable: false, providerCode: name });
    expect(connect.commandCalls(StartOutboundVoiceContactCommand)).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });
});
