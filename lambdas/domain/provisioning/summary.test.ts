import { type ProvisioningRecord, planSteps, provisioningSummary } from './model';

const record = (overrides: Partial<ProvisioningRecord> = {}): ProvisioningRecord => {
  const channels = [{ type: 'telegram' as const, credentialsStaged: true }];
  return {
    id: 'prv_1',
    tenantId: 'ten_1',
    agentId: 'agt_1',
    kind: 'agent',
    status: 'running',
    channels,
    steps: planSteps('agent', channels),
    agentConfig: { name: 'Front desk' },
    requestHash: 'h',
    createdBy: 'usr_1',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:05.000Z',
    version: 3,
    ...overrides,
  };
};

describe('a provisioning in a listing', () => {
  it('is not finished while running; names the agent from its config when the record predates agentName', () => {
    expect(provisioningSummary(record())).toEqual({
      id: 'prv_1',
      agentId: 'agt_1',
      agentName: 'Front desk',
      kind: 'agent',
      status: 'running',
      channels: [{ type: 'telegram' }],
      startedAt: '2026-01-01T00:00:00.000Z',
      undone: 0,
      leftBehind: [],
    });
  });

  it('finished: its finishedAt, or for older records its last write; counts undone and left-behind steps', () => {
    const steps = planSteps('agent', record().channels).map((s, i) => ({
      ...s,
      status: (['compensated', 'compensation-failed', 'failed', 'pending'] as const)[i] ?? 'pending',
    }));
    const failed = record({
      status: 'failed',
      steps,
      failure: { step: 'telegram:configure-channel', reason: 'refused' },
      kind: 'channel',
      agentName: 'Renamed desk',
      agentConfig: undefined,
    });
    expect(provisioningSummary(failed)).toMatchObject({
      agentName: 'Renamed desk',
      finishedAt: '2026-01-01T00:00:05.000Z',
      failure: { step: 'telegram:configure-channel', reason: 'refused' },
      undone: 1,
      leftBehind: ['telegram:configure-channel'],
    });
    expect(provisioningSummary({ ...failed, finishedAt: '2026-01-01T00:00:04.000Z' }).finishedAt).toBe(
      '2026-01-01T00:00:04.000Z',
    );
    // Never the steps, the agent's configuration or anything staged.
    for (const key of ['steps', 'agentConfig', 'simulate', 'requestHash', 'createdBy', 'tenantId']) {
      expect(provisioningSummary({ ...failed, simulate: { failStep: 'x:y-z' } })).not.toHaveProperty(key);
    }
  });
});
