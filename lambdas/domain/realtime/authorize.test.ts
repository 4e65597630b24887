import { RateLimitedError } from '../shared/errors';
import { UNSCOPED } from '../shared/scopes';
import { type AuthorizeDeps, authorizeConnection, type WebChatKey } from './authorize';

const ORIGIN = 'https://shop.example';

/** Web chat keys of several tenants, counted in memory as the table counts them. */
function webChatDeps(limits: AuthorizeDeps['limits']) {
  const counts = new Map<string, number>();
  const bump = (key: string) => {
    counts.set(key, (counts.get(key) ?? 0) + 1);
    return Promise.resolve(counts.get(key) as number);
  };
  const keys = new Map<string, WebChatKey>();
  for (let i = 0; i < 5; i += 1) {
    const publishableKey = `pk_${String(i).repeat(20)}`;
    keys.set(publishableKey, {
      publishableKey,
      tenantId: `ten_${i}`,
      agentId: `agt_${i}`,
      enabled: true,
      allowedOrigins: [ORIGIN],
    });
  }
  const deps: AuthorizeDeps = {
    verifyToken: () => Promise.reject(new Error('no tokens here')),
    users: { getCurrent: () => Promise.resolve(undefined) },
    webChat: {
      resolveKey: async (key) => keys.get(key),
      signingSecret: async () => undefined,
      count: (tenantId, agentId, bucket, windowStart) =>
        bump(`${tenantId}/${agentId}/${windowStart}/${bucket}`),
      countAddress: (address, windowStart) => bump(`address/${address}/${windowStart}`),
    },
    limits,
    scopes: UNSCOPED,
    now: () => new Date('2026-12-06T09:00:10Z'),
  };
  return { deps, keys: [...keys.keys()] };
}

describe('web chat connection limits', () => {
  const visit = (deps: AuthorizeDeps, publishableKey: string, sourceIp: string) =>
    authorizeConnection(deps, { publishableKey, origin: ORIGIN, sourceIp });

  it('limits one address across every key, while each key alone is under its limits', async () => {
    const { deps, keys } = webChatDeps({
      perKeyPerMinute: 100,
      perAddressPerMinute: 2,
      perAddressAllKeysPerMinute: 6,
    });
    // Two a key from one address (each key's own per-address limit), on three keys: six, all let in.
    for (const key of keys.slice(0, 3)) {
      await visit(deps, key, '203.0.113.7');
      await visit(deps, key, '203.0.113.7');
    }
    // A fourth key, first visit from this address: over the address's limit across keys.
    await expect(visit(deps, keys[3] as string, '203.0.113.7')).rejects.toBeInstanceOf(RateLimitedError);
    // Another address is not held back.
    await expect(visit(deps, keys[3] as string, '198.51.100.1')).resolves.toMatchObject({ kind: 'visitor' });
  });

  it('still limits an address per key, and a key over all addresses', async () => {
    const { deps, keys } = webChatDeps({
      perKeyPerMinute: 3,
      perAddressPerMinute: 2,
      perAddressAllKeysPerMinute: 100,
    });
    const [key] = keys as [string];
    await visit(deps, key, '203.0.113.7');
    await visit(deps, key, '203.0.113.7');
    await expect(visit(deps, key, '203.0.113.7')).rejects.toBeInstanceOf(RateLimitedError);
    await expect(visit(deps, key, '198.51.100.1')).rejects.toBeInstanceOf(RateLimitedError);
  });
});
