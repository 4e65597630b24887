/**
 * Which way turn events leave a Lambda: the callback URL from the environment, or, for a function
 * of a stack deployed before the WebSocket API's (the approval step), from the SSM parameter.
 */
describe('realtime delivery: the connection poster from the environment', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    jest.resetModules();
  });

  function load(env: Record<string, string | undefined>) {
    for (const [name, value] of Object.entries(env)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    const readParameter = jest.fn(
      async (_name: string, _region: string) => 'https://ws123.execute-api.eu-west-1.amazonaws.com/live',
    );
    const posted: string[] = [];
    jest.doMock('../adapters/ssm/parameter', () => ({ readParameter }));
    jest.doMock('../adapters/apigateway/connection-poster', () => {
      const actual = jest.requireActual('../adapters/apigateway/connection-poster');
      return {
        ...actual,
        ApiGatewayConnectionPoster: class {
          constructor(private readonly endpoint: string) {}
          async post(connectionId: string, frame: string) {
            posted.push(`${this.endpoint} ${connectionId} ${frame}`);
            return 'sent' as const;
          }
        },
      };
    });
    const delivery = require('./realtime-delivery') as typeof import('./realtime-delivery');
    return { poster: delivery.connectionPoster(), readParameter, posted };
  }

  it('reads the callback URL from the parameter once, on the first frame, and posts there', async () => {
    const { poster, readParameter, posted } = load({
      WEBSOCKET_CALLBACK_URL: undefined,
      WEBSOCKET_CALLBACK_URL_PARAMETER: '/agent-platform/dev/websocket-callback-url',
      AWS_REGION: 'eu-west-1',
    });
    expect(readParameter).not.toHaveBeenCalled();
    await poster.post('c1', '{"type":"approval_decided"}');
    await poster.post('c2', '{"type":"approval_decided"}');
    expect(readParameter).toHaveBeenCalledTimes(1);
    expect(readParameter).toHaveBeenCalledWith('/agent-platform/dev/websocket-callback-url', 'eu-west-1');
    expect(posted).toEqual([
      'https://ws123.execute-api.eu-west-1.amazonaws.com/live c1 {"type":"approval_decided"}',
      'https://ws123.execute-api.eu-west-1.amazonaws.com/live c2 {"type":"approval_decided"}',
    ]);
  });

  it('posts to the URL given as WEBSOCKET_CALLBACK_URL without reading any parameter', async () => {
    const { poster, readParameter, posted } = load({
      WEBSOCKET_CALLBACK_URL: 'https://ws999.execute-api.eu-west-1.amazonaws.com/live',
      WEBSOCKET_CALLBACK_URL_PARAMETER: undefined,
    });
    await poster.post('c1', 'x');
    expect(readParameter).not.toHaveBeenCalled();
    expect(posted).toEqual(['https://ws999.execute-api.eu-west-1.amazonaws.com/live c1 x']);
  });

  it('refuses a parameter name that is not a path, naming the variable', () => {
    expect(() =>
      load({ WEBSOCKET_CALLBACK_URL: undefined, WEBSOCKET_CALLBACK_URL_PARAMETER: 'websocket-callback-url' }),
    ).toThrow(/WEBSOCKET_CALLBACK_URL_PARAMETER/);
  });
});

describe('turn events: where a process publishes them', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    jest.resetModules();
  });

  function load(env: Record<string, string | undefined>) {
    for (const [name, value] of Object.entries(env)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    const published: unknown[] = [];
    jest.doMock('./realtime-delivery', () => ({
      turnEventSink: () => ({
        publish: (_scope: unknown, event: unknown) => published.push(event),
        drain: async () => {},
      }),
    }));
    jest.doMock('./environment', () => ({
      ...jest.requireActual('./environment'),
      loadRuntimeConfig: () => ({ TABLE_NAME: 'table' }),
    }));
    jest.doMock('./table', () => ({ tableClient: () => ({}) }));
    const { turnEvents } = require('./turn-events') as typeof import('./turn-events');
    turnEvents.publish(
      { tenantId: 'ten_1', agentId: 'agt_1', conversationId: 'cnv_1', executionId: 'exe_1' },
      { type: 'approval_decided', approvalId: 'apr_1', decision: 'expired' } as never,
    );
    return published;
  }

  it('delivers to WebSocket subscribers from a function that only knows the callback URL parameter', () => {
    expect(
      load({
        WEBSOCKET_CALLBACK_URL: undefined,
        WEBSOCKET_CALLBACK_URL_PARAMETER: '/agent-platform/dev/websocket-callback-url',
      }),
    ).toHaveLength(1);
  });

  it('drops them where nothing can deliver (no URL, no parameter, no local stand-ins)', () => {
    expect(load({ WEBSOCKET_CALLBACK_URL: undefined, WEBSOCKET_CALLBACK_URL_PARAMETER: undefined })).toEqual(
      [],
    );
  });
});
