import { planSteps, provisionAgentBody } from './model';
import type { StartDeps } from './start';
import { provisionAgent } from './start';

const actor = { tenantId: 'ten_01ARZ3NDEKTSV4RRFFQ69G5FAV', userId: 'usr_1', role: 'owner' as const };

describe('provisioning requests', () => {
  it('refuse simulated failures outside local mode, naming the field, before anything is stored', async () => {
    const stored: unknown[] = [];
    const deps = {
      allowSimulatedFailures: false,
      records: { create: async (r: unknown) => stored.push(r) },
    } as unknown as StartDeps;
    const input = provisionAgentBody().parse({
      agent: { name: 'A', businessType: 'dental', model: { provider: 'scripted', modelId: 'scripted-v1' } },
      channels: [{ type: 'voice' }],
      simulate: { failStep: 'voice:claim-number' },
    });
    await expect(provisionAgent(deps, actor, input)).rejects.toMatchObject({
      statusCode: 400,
      issues: [{ field: 'body.simulate', message: expect.stringContaining('local mode only') }],
    });
    expect(stored).toEqual([]);
  });

  it('plan each channel one step after another, the agent first, its context and activation last', () => {
    const plan = planSteps('agent', [
      { type: 'email', address: 'help@shop.example', credentialsStaged: false },
      { type: 'messenger', address: '123456', credentialsStaged: true },
    ]).map((s) => s.key);
    expect(plan).toEqual([
      'agent:create-agent',
      'email:check-identity',
      'email:configure-channel',
      'messenger:configure-channel',
      'messenger:subscribe-page',
      'agent:init-context',
      'agent:activate',
    ]);
  });
});
