import { AppError, ValidationError } from '../shared/errors';
import { type PurchaseDeps, startPurchase } from './purchases';
import { hostedConsoleOrigin, isReturnOrigin, type ParameterReader } from './return-origins';

const PARAMETER = '/agent-platform/dev/console-url';
const CONSOLE = 'https://d111111abcdef8.cloudfront.net';
const CONFIGURED = ['https://console.example.com'];

/** A fake SSM: the parameter's value (undefined: no such parameter), or a failure; counts reads. */
function fakeSsm(...answers: Array<string | undefined | Error>) {
  const names: string[] = [];
  const read: ParameterReader = async (name) => {
    names.push(name);
    const answer = answers.length > 1 ? answers.shift() : answers[0];
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { read, names };
}

describe('the hosted console as a return origin', () => {
  it('allows the parameter’s origin, read once per process however many purchases ask', async () => {
    const ssm = fakeSsm(`${CONSOLE}\n`);
    const hosted = hostedConsoleOrigin(ssm.read, PARAMETER);
    const checks = await Promise.all([
      isReturnOrigin(CONSOLE, CONFIGURED, hosted),
      isReturnOrigin(CONSOLE, CONFIGURED, hosted),
    ]);
    expect(checks).toEqual([true, true]);
    expect(await isReturnOrigin('https://evil.example.com', CONFIGURED, hosted)).toBe(false);
    expect(await isReturnOrigin(CONSOLE, CONFIGURED, hosted)).toBe(true);
    expect(ssm.names).toEqual([PARAMETER]);
  });

  it('reads nothing for a configured origin, nor without a hosted console', async () => {
    const ssm = fakeSsm(CONSOLE);
    expect(
      await isReturnOrigin(CONFIGURED[0] as string, CONFIGURED, hostedConsoleOrigin(ssm.read, PARAMETER)),
    ).toBe(true);
    expect(ssm.names).toEqual([]);
    expect(await isReturnOrigin(CONSOLE, CONFIGURED, undefined)).toBe(false);
  });

  it('allows only the configured origins while the parameter is missing, and asks again later', async () => {
    let clock = 0;
    const ssm = fakeSsm(undefined, CONSOLE);
    const hosted = hostedConsoleOrigin(ssm.read, PARAMETER, { now: () => clock, missRetryMs: 60_000 });
    expect(await isReturnOrigin(CONSOLE, CONFIGURED, hosted)).toBe(false);
    clock = 59_999;
    expect(await isReturnOrigin(CONSOLE, CONFIGURED, hosted)).toBe(false);
    expect(ssm.names).toHaveLength(1);
    // The console stack deployed since: found without a cold start.
    clock = 60_000;
    expect(await isReturnOrigin(CONSOLE, CONFIGURED, hosted)).toBe(true);
    expect(ssm.names).toHaveLength(2);
  });

  it('answers 503 naming the parameter when it cannot be read, and keeps no failure', async () => {
    const ssm = fakeSsm(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), CONSOLE);
    const hosted = hostedConsoleOrigin(ssm.read, PARAMETER);
    const failure = await isReturnOrigin(CONSOLE, CONFIGURED, hosted).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AppError);
    expect(failure).toMatchObject({
      statusCode: 503,
      code: 'CONSOLE_ORIGIN_UNAVAILABLE',
      retryAfterSeconds: 5,
    });
    expect((failure as Error).message).toContain(PARAMETER);
    expect((failure as Error).message).toContain('ThrottlingException');
    expect(await isReturnOrigin(CONSOLE, CONFIGURED, hosted)).toBe(true);
    expect(ssm.names).toHaveLength(2);
  });

  it.each(['d111.cloudfront.net', 'http://d111.cloudfront.net', ''])(
    'answers 503 for a parameter value that is not an https URL (%j)',
    async (value) => {
      const hosted = hostedConsoleOrigin(fakeSsm(value).read, PARAMETER);
      await expect(hosted()).rejects.toMatchObject({ statusCode: 503, code: 'CONSOLE_ORIGIN_UNAVAILABLE' });
    },
  );

  it('decides a purchase’s returnOrigin: the hosted console passes, another origin is a 400 naming the field', async () => {
    const ssm = fakeSsm(CONSOLE);
    // No payment provider: a purchase whose origin is allowed gets as far as the 503 for that,
    // before touching any repository.
    const deps = {
      returnOrigins: CONFIGURED,
      hostedConsoleOrigin: hostedConsoleOrigin(ssm.read, PARAMETER),
    } as unknown as PurchaseDeps;
    const start = (returnOrigin: string) =>
      startPurchase(deps, 'ten_1', 100, 'key-0001-abcdefgh', 'user_1', { returnOrigin }).catch(
        (error: unknown) => error,
      );
    expect(await start(CONSOLE)).toMatchObject({ statusCode: 503, code: 'PURCHASES_UNAVAILABLE' });
    const refused = await start('https://evil.example.com');
    expect(refused).toBeInstanceOf(ValidationError);
    expect(JSON.stringify((refused as ValidationError).details)).toContain('body.returnOrigin');
  });
});
