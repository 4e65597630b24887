import { ExpiringCache } from './expiring-cache';

describe('ExpiringCache', () => {
  let now = 0;
  const cache = () => new ExpiringCache<string>({ maxEntries: 2, now: () => now });
  beforeEach(() => {
    now = 1_000;
  });

  it('shares one load between concurrent callers and keeps the value for its lifetime', async () => {
    const values = cache();
    const load = jest.fn(async () => 'v1');
    const [a, b] = await Promise.all([values.get('k', load, () => 100), values.get('k', load, () => 100)]);
    expect([a, b]).toEqual(['v1', 'v1']);
    now += 99;
    expect(
      await values.get(
        'k',
        async () => 'v2',
        () => 100,
      ),
    ).toBe('v1');
    now += 1;
    expect(
      await values.get(
        'k',
        async () => 'v2',
        () => 100,
      ),
    ).toBe('v2');
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('keeps neither a failed load nor a value whose lifetime is not positive', async () => {
    const values = cache();
    await expect(
      values.get(
        'k',
        async () => Promise.reject(new Error('down')),
        () => 100,
      ),
    ).rejects.toThrow('down');
    expect(
      await values.get(
        'k',
        async () => 'none',
        () => 0,
      ),
    ).toBe('none');
    expect(values.size).toBe(0);
    expect(
      await values.get(
        'k',
        async () => 'found',
        () => 100,
      ),
    ).toBe('found');
  });

  it('drops the least recently used key beyond its bound', async () => {
    const values = cache();
    await values.get(
      'a',
      async () => 'a',
      () => 100,
    );
    await values.get(
      'b',
      async () => 'b',
      () => 100,
    );
    await values.get(
      'a',
      async () => 'a2',
      () => 100,
    ); // a is now the most recent
    await values.get(
      'c',
      async () => 'c',
      () => 100,
    );
    expect(values.size).toBe(2);
    expect(
      await values.get(
        'a',
        async () => 'a3',
        () => 100,
      ),
    ).toBe('a');
    expect(
      await values.get(
        'b',
        async () => 'b2',
        () => 100,
      ),
    ).toBe('b2');
  });
});
