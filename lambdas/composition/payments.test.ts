import { parseReturnOrigins, platformPayments } from './payments';

describe('CONSOLE_ORIGINS', () => {
  it('reads comma-separated origins', () => {
    expect(parseReturnOrigins(' https://console.example.com, http://localhost:3000 ')).toEqual([
      'https://console.example.com',
      'http://localhost:3000',
    ]);
    expect(parseReturnOrigins(undefined)).toEqual([]);
  });

  it('refuses anything but an origin, naming the variable and not the rest of the configuration', () => {
    for (const bad of [
      'https://console.example.com/',
      'https://c.example.com/#/x',
      'ftp://c.example.com',
      'nope',
    ]) {
      expect(() => parseReturnOrigins(bad)).toThrow(/^Invalid payments configuration: CONSOLE_ORIGINS: /);
    }
  });

  it('is given to the Stripe payments with the port that can open a Checkout', () => {
    const payments = platformPayments({
      STAGE: 'dev',
      STRIPE_SECRET_KEY: 'sk_test_unit1',
      STRIPE_WEBHOOK_SECRET: 'whsec_unit1',
      CONSOLE_ORIGINS: 'https://console.example.com',
    });
    expect(payments.provider).toBe('stripe');
    expect(payments.returnOrigins).toEqual(['https://console.example.com']);
    expect(typeof payments.port?.checkout).toBe('function');
    expect(platformPayments({ STAGE: 'dev' })).toMatchObject({ provider: 'none', returnOrigins: [] });
  });

  it('adds the hosted console only when CONSOLE_URL_PARAMETER names its parameter, which must be a path', () => {
    const hosted = platformPayments({
      STAGE: 'dev',
      STRIPE_SECRET_KEY: 'sk_test_unit1',
      CONSOLE_URL_PARAMETER: '/agent-platform/dev/console-url',
    });
    expect(typeof hosted.hostedConsoleOrigin).toBe('function');
    expect(
      platformPayments({ STAGE: 'dev', STRIPE_SECRET_KEY: 'sk_test_unit1' }).hostedConsoleOrigin,
    ).toBeUndefined();
    expect(() => platformPayments({ STAGE: 'dev', CONSOLE_URL_PARAMETER: 'console-url' })).toThrow(
      /^Invalid payments configuration: CONSOLE_URL_PARAMETER/,
    );
  });
});
