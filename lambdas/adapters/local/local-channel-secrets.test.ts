import { inspect } from 'node:util';
import { currentTenant, inTenantScope } from '../../composition/tenant-scope';
import { LocalChannelSecrets } from './local-channel-secrets';

const A = 'ten_A0000000000000000000000';
const B = 'ten_B0000000000000000000000';

describe('LocalChannelSecrets', () => {
  it('stores, replaces and deletes per tenant, agent and channel, handing out copies', async () => {
    const store = new LocalChannelSecrets();
    const credentials = { botToken: 'xoxb-secret-1', signingSecret: 'sign-1' };
    await store.put(A, 'agt_1', 'slack', credentials);
    credentials.botToken = 'changed after put';
    expect(await store.get(A, 'agt_1', 'slack')).toEqual({
      botToken: 'xoxb-secret-1',
      signingSecret: 'sign-1',
    });
    expect(await store.get(A, 'agt_2', 'slack')).toBeUndefined();
    expect(await store.get(A, 'agt_1', 'telegram')).toBeUndefined();
    await store.put(A, 'agt_1', 'slack', { botToken: 'xoxb-secret-2', signingSecret: 'sign-2' });
    expect((await store.get(A, 'agt_1', 'slack'))?.botToken).toBe('xoxb-secret-2');
    expect(inspect(store, { depth: 10 })).not.toContain('xoxb-secret-2');
    await store.delete(A, 'agt_1', 'slack');
    await store.delete(A, 'agt_1', 'slack');
    expect(await store.get(A, 'agt_1', 'slack')).toBeUndefined();
  });

  it('with a scope check, reaches a tenant’s secrets only inside that tenant’s scope', async () => {
    const store = new LocalChannelSecrets({ currentTenant });
    await inTenantScope(A, () => store.put(A, 'agt_1', 'sms', { authToken: 'tok' }));
    expect(await inTenantScope(A, () => store.get(A, 'agt_1', 'sms'))).toEqual({ authToken: 'tok' });
    await expect(inTenantScope(B, () => store.get(A, 'agt_1', 'sms'))).rejects.toThrow(
      expect.objectContaining({ name: 'AccessDeniedException' }),
    );
    await expect(store.get(A, 'agt_1', 'sms')).rejects.toThrow(/only in that tenant's scope/);
    await expect(inTenantScope(B, () => store.delete(A, 'agt_1', 'sms'))).rejects.toThrow();
    expect(await inTenantScope(A, () => store.get(A, 'agt_1', 'sms'))).toEqual({ authToken: 'tok' });
  });
});
