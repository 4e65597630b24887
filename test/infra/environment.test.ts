import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ENV, type EnvName, NOT_SET_BY_THE_STACKS } from '../../lambdas/composition/env-names';
import { ENVIRONMENT_VARIABLES } from '../../lambdas/composition/environment';
import { buildPlatform } from './platform-fixture';

/** Every variable every house Lambda of one environment is given, by function. */
function variablesOf(envName: string, options: Parameters<typeof buildPlatform>[1] = {}) {
  const platform = buildPlatform(envName, options);
  const stacks: Stack[] = [platform.stateful, platform.workflows, platform.api, ...platform.declaredTenants];
  const byFunction = new Map<string, string[]>();
  for (const stack of stacks) {
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function') as Record<
      string,
      { Properties: { Environment?: { Variables?: Record<string, unknown> } } }
    >;
    for (const [id, resource] of Object.entries(functions)) {
      const variables = Object.keys(resource.Properties.Environment?.Variables ?? {});
      // House functions only: CDK's own helper functions (custom resources) are not ours to parse.
      if (variables.includes(ENV.POWERTOOLS_SERVICE_NAME))
        byFunction.set(`${stack.stackName}/${id}`, variables);
    }
  }
  return byFunction;
}

/** Every optional feature on, so every variable the stacks can set is set somewhere. */
const EVERYTHING_ON = {
  outbound: {
    sesFromAddress: 'no-reply@acme-agents.io',
    connectInstanceId: '11111111-2222-3333-4444-555555555555',
    connectContactFlowId: '66666666-7777-8888-9999-000000000000',
    connectSourcePhoneNumber: '+14155550100',
  },
  payments: {
    stripeSecretName: 'agent-platform/dev/platform/stripe',
    tokenPrice: { currency: 'EUR', minorUnitsPerToken: 2 },
  },
  // Voice needs a region Amazon Connect is offered in.
  region: 'eu-west-2',
  voice: {
    instance: { create: { alias: 'acme-agents-dev' } },
    languages: [{ localeId: 'en_US', voiceId: 'Joanna' }],
    humanQueue: { create: {} },
  },
  // A declared tenant's stack (its records function).
  declaredTenants: [
    {
      id: `ten_01J${'0'.repeat(19)}DECK`,
      name: 'Acme Dental',
      slug: 'acme-dental',
      owner: { email: 'owner@acme-dental.example', name: 'Ada Owner' },
      agents: [
        {
          id: `agt_01J${'0'.repeat(20)}AG1`,
          config: {
            name: 'Front desk',
            businessType: 'dental',
            model: { provider: 'bedrock', modelId: 'm' },
          },
          channels: [{ type: 'voice' as const, phoneNumber: { countryCode: 'GB', type: 'DID' as const } }],
        },
      ],
    },
  ],
};

describe('the environment variables the stacks set and the runtime schema reads', () => {
  const set = new Map<string, string[]>();
  beforeAll(() => {
    for (const [name, variables] of [
      ...variablesOf('dev'),
      ...variablesOf('prod'),
      ...variablesOf('dev', { configOverrides: EVERYTHING_ON }),
    ]) {
      for (const variable of variables) set.set(variable, [...(set.get(variable) ?? []), name]);
    }
  });

  it('are named by the same constants: the schema knows exactly the names of env-names.ts', () => {
    expect([...ENVIRONMENT_VARIABLES].sort()).toEqual(Object.keys(ENV).sort());
  });

  it('never include a variable the runtime schema does not know', () => {
    expect(set.size).toBeGreaterThan(10);
    const known = new Set<string>(ENVIRONMENT_VARIABLES);
    const unknown = [...set.entries()]
      .filter(([variable]) => !known.has(variable))
      .map(([variable, functions]) => `${variable} (set on ${functions.join(', ')})`);
    expect(unknown).toEqual([]);
  });

  it('leave unset only the variables listed, with a reason, as not set by the stacks', () => {
    const neverSet = ENVIRONMENT_VARIABLES.filter((variable) => !set.has(variable)).sort();
    expect(neverSet).toEqual((Object.keys(NOT_SET_BY_THE_STACKS) as EnvName[]).sort());
  });
});
