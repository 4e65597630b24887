import { socketUrl } from './widget/socket-url';

const SCRIPT = 'https://d111.cloudfront.net';
const WS_API = 'wss://ws456.execute-api.eu-west-1.amazonaws.com/live';

describe('the chat widget’s socket URL', () => {
  it('is config.json’s wsUrl when the tag names none (AWS: the WebSocket API has its own URL)', () => {
    expect(socketUrl({}, SCRIPT, { wsUrl: WS_API }).href).toBe(WS_API);
  });

  it('is the tag’s data-ws before anything config.json says', () => {
    expect(socketUrl({ ws: 'wss://elsewhere.example/ws' }, SCRIPT, { wsUrl: WS_API }).href).toBe(
      'wss://elsewhere.example/ws',
    );
  });

  it('is /v1/ws beside the script when there is no config.json or it names no wsUrl (local mode)', () => {
    expect(socketUrl({}, 'http://127.0.0.1:3000', undefined).href).toBe('ws://127.0.0.1:3000/v1/ws');
    expect(socketUrl({}, SCRIPT, {}).href).toBe('wss://d111.cloudfront.net/v1/ws');
  });

  it('is /v1/ws on the platform the tag’s data-api or config.json’s apiUrl names', () => {
    expect(socketUrl({ api: 'https://platform.example/' }, SCRIPT, undefined).href).toBe(
      'wss://platform.example/v1/ws',
    );
    expect(socketUrl({}, SCRIPT, { apiUrl: 'https://api.example' }).href).toBe('wss://api.example/v1/ws');
    expect(
      socketUrl({ api: 'https://platform.example' }, SCRIPT, { apiUrl: 'https://api.example' }).href,
    ).toBe('wss://platform.example/v1/ws');
  });

  it.each([
    ['not a string', { wsUrl: 42 }],
    ['not a URL', { wsUrl: 'live' }],
    ['not a WebSocket URL', { wsUrl: 'https://ws.example/live' }],
    ['a script URL', { wsUrl: 'javascript:alert(1)' }],
    ['an apiUrl that is not http(s)', { apiUrl: 'ftp://api.example' }],
  ])('ignores a config.json value that is %s', (_, config) => {
    expect(socketUrl({}, SCRIPT, config).href).toBe('wss://d111.cloudfront.net/v1/ws');
  });
});
