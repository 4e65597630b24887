import { isNetworkError, RetriesExhaustedError, type RetryVerdict, withRetries } from './retry';

const retryAll = (): RetryVerdict => ({ retry: true });

function recorder() {
  const sleeps: number[] = [];
  return { sleeps, sleep: async (ms: number) => void sleeps.push(ms) };
}

describe('withRetries', () => {
  it('returns the first success without waiting', async () => {
    const { sleeps, sleep } = recorder();
    await expect(withRetries(async (attempt) => attempt, retryAll, { sleep })).resolves.toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('rethrows a final error as it is, after one attempt', async () => {
    const { sleeps, sleep } = recorder();
    const final = new Error('bad request');
    let attempts = 0;
    const run = withRetries(
      async () => {
        attempts++;
        throw final;
      },
      () => ({ retry: false }),
      { sleep },
    );
    await expect(run).rejects.toBe(final);
    expect(attempts).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('backs off exponentially up to the cap, scaled by the jitter, then gives up with the last error', async () => {
    const { sleeps, sleep } = recorder();
    let attempts = 0;
    const failure = await withRetries(
      async () => {
        attempts++;
        throw new Error(`failure ${attempts}`);
      },
      retryAll,
      { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 3000, sleep, random: () => 0.999 },
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RetriesExhaustedError);
    expect(failure).toMatchObject({ attempts: 5, message: 'gave up after 5 attempts' });
    expect((failure as RetriesExhaustedError).lastError).toEqual(new Error('failure 5'));
    expect(sleeps).toEqual([999, 1998, 2997, 2997]);
  });

  it('draws each delay between zero and the exponential bound (full jitter)', async () => {
    const { sleeps, sleep } = recorder();
    const draws = [0, 0.25];
    await withRetries(
      async (attempt) => {
        if (attempt < 3) throw new Error('busy');
        return 'ok';
      },
      retryAll,
      { baseDelayMs: 400, sleep, random: () => draws.shift() ?? 0 },
    );
    expect(sleeps).toEqual([0, 200]);
  });

  it('waits as the server asks, but stops at once when it asks for longer than the cap', async () => {
    const { sleeps, sleep } = recorder();
    await withRetries(
      async (attempt) => {
        if (attempt === 1) throw new Error('429');
        return 'ok';
      },
      () => ({ retry: true, afterMs: 1500 }),
      { sleep, random: () => 0 },
    );
    expect(sleeps).toEqual([1500]);

    const tooLong = await withRetries(
      async () => {
        throw new Error('429');
      },
      () => ({ retry: true, afterMs: 60_000 }),
      { maxDelayMs: 10_000, sleep },
    ).catch((e: unknown) => e);
    expect(tooLong).toMatchObject({ attempts: 1 });
    expect(sleeps).toEqual([1500]);
  });
});

describe('isNetworkError', () => {
  it('knows socket failures and timeouts, along the cause chain', () => {
    expect(isNetworkError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isNetworkError(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }))).toBe(true);
    expect(isNetworkError(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe(
      true,
    );
  });

  it('does not take other failures for network ones', () => {
    expect(isNetworkError(new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } }))).toBe(false);
    expect(isNetworkError(new Error('bad request'))).toBe(false);
    expect(isNetworkError('ECONNRESET')).toBe(false);
  });
});
