import { agentCreateBody, agentPatchBody } from './schemas';

const minimal = {
  name: 'Desk',
  businessType: 'dental',
  model: { provider: 'scripted', modelId: 'scripted-v1' },
};

describe('agent schemas', () => {
  it('fills defaults on create', () => {
    expect(agentCreateBody().parse(minimal)).toMatchObject({
      tools: [],
      channels: [],
      instructions: '',
      memory: { enabled: true, retentionDays: 365 },
      model: { temperature: 0.7, maxTokens: 1024, topP: 1 },
    });
  });

  it('keeps a patch to exactly the fields it names, so nothing else is reset', () => {
    expect(agentPatchBody().parse({ name: 'Renamed' })).toEqual({ name: 'Renamed' });
    expect(agentPatchBody().parse({ description: null })).toEqual({ description: null });
  });

  it('refuses an empty patch, unknown fields and repeated tools', () => {
    expect(agentPatchBody().safeParse({}).success).toBe(false);
    expect(agentPatchBody().safeParse({ status: 'active' }).success).toBe(false);
    expect(agentCreateBody().safeParse({ ...minimal, tools: ['calculator', 'calculator'] }).success).toBe(
      false,
    );
  });

  it('validates contact details in the business profile', () => {
    const result = agentCreateBody().safeParse({
      ...minimal,
      businessProfile: { name: 'B', phone: '555-0100' },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['businessProfile', 'phone']);
  });
});
