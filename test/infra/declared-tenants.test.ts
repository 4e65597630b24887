import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ENV } from '../../lambdas/composition/env-names';
import {
  leadingKeysCondition,
  PLATFORM_KEY_PREFIXES,
  platformKeyPatterns,
} from '../../lambdas/composition/tenant-access-policy';
import { contactFlow } from '../../lambdas/domain/voice/contact-flow';
import {
  ConfigError,
  type DeclaredTenantConfig,
  MAX_DECLARED_AGENTS_PER_TENANT,
  parseEnvironmentConfig,
  type VoiceConfig,
} from '../../lib/config';
import {
  DECLARED_RECORDS_RESOURCE_TYPE,
  DECLARED_RECORDS_SERVICE,
  DECLARED_TENANT_RESOURCE_TYPE,
  type DeclaredTenantStack,
  declaredTenantStackName,
} from '../../lib/stacks/declared-tenant-stack';
import { buildPlatform, cdkJsonContext, logicalIdOf, type PlatformFixture } from './platform-fixture';

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };

const VOICE_REGION = 'eu-west-2';
const VOICE: VoiceConfig = {
  instance: { create: { alias: 'acme-agents-dev' } },
  languages: [{ localeId: 'en_US', voiceId: 'Joanna' }],
  humanQueue: { create: {} },
};
const TENANT_ID = `ten_01J${'0'.repeat(19)}DECK`;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const agentId = (n: number) =>
  `agt_01J000000000000000000000${CROCKFORD[Math.floor(n / 32)]}${CROCKFORD[n % 32]}`;

const AGENT_CONFIG = {
  name: 'Front desk',
  businessType: 'dental',
  model: { provider: 'bedrock', modelId: 'anthropic.claude-3-haiku-20240307-v1:0' },
  instructions: 'Answer the phone for Acme Dental.',
};

function tenantWith(count: number): DeclaredTenantConfig {
  return {
    id: TENANT_ID,
    name: 'Acme Dental',
    slug: 'acme-dental',
    owner: { email: 'owner@acme-dental.example', name: 'Ada Owner' },
    agents: Array.from({ length: count }, (_, n) => ({
      id: agentId(n),
      config: { ...AGENT_CONFIG, name: `Front desk ${n}` },
      channels: [{ type: 'voice' as const, phoneNumber: { countryCode: 'GB', type: 'DID' as const } }],
    })),
  };
}

function withDeclared(count: number): PlatformFixture {
  return buildPlatform('dev', {
    configOverrides: { region: VOICE_REGION, voice: VOICE, declaredTenants: [tenantWith(count)] },
  });
}

function resourcesOf(stack: Stack): Record<string, Resource> {
  return Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
}

function ofType(resources: Record<string, Resource>, type: string): [string, Resource][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

function declaredStack(fixture: PlatformFixture): Stack {
  const [stack] = fixture.declaredTenants;
  if (!stack) throw new Error('no declared tenant stack');
  return stack;
}

describe.each([1, 25])('declared tenant with %i voice agent(s)', (count) => {
  let fixture: PlatformFixture;
  let stack: Stack;
  let resources: Record<string, Resource>;

  beforeAll(() => {
    fixture = withDeclared(count);
    stack = declaredStack(fixture);
    resources = resourcesOf(stack);
  });

  it('is a stack of its own, named after the tenant, deployed after the API stack', () => {
    expect(fixture.declaredTenants).toHaveLength(1);
    expect(stack.stackName).toBe(declaredTenantStackName('dev', 'acme-dental'));
    expect(stack.dependencies).toContain(fixture.api);
  });

  it('has per agent a contact flow, a phone number, their association and the records', () => {
    const flows = ofType(resources, 'AWS::Connect::ContactFlow');
    const numbers = ofType(resources, 'AWS::Connect::PhoneNumber');
    const associations = ofType(resources, 'Custom::PhoneNumberContactFlow');
    const records = ofType(resources, DECLARED_RECORDS_RESOURCE_TYPE);
    expect([flows.length, numbers.length, associations.length, records.length]).toEqual([
      count,
      count,
      count,
      count,
    ]);
    for (const [, number] of numbers) {
      expect(number.Properties).toMatchObject({ CountryCode: 'GB', Type: 'DID' });
      // The instance the stateful stack created, read from its outputs.
      expect(number.Properties.TargetArn).toEqual({
        'Fn::GetStackOutput': expect.objectContaining({ StackName: fixture.stateful.stackName }),
      });
    }
  });

  it('builds every flow from contactFlow() with the voice channel’s Lambda, bot and queue', () => {
    const voice = fixture.api.voice;
    if (!voice) throw new Error('no voice channel');
    const imported = (value: string) => stack.resolve(value);
    // Stand-ins for the three deploy-time ARNs, well-formed as the template requires.
    const stand = {
      voiceLambdaArn: 'arn:aws:lambda:eu-west-2:111122223333:function:voice-stand-in',
      botAliasArn: 'arn:aws:lex:eu-west-2:111122223333:bot-alias/BOTSTANDIN/ALIASSTAND',
      humanQueueArn:
        'arn:aws:connect:eu-west-2:111122223333:instance/00000000-0000-0000-0000-000000000000/queue/00000000-0000-0000-0000-000000000001',
    };
    const expected = contactFlow(stand);
    for (const [, flow] of ofType(resources, 'AWS::Connect::ContactFlow')) {
      expect(flow.Properties).toMatchObject({ Type: 'CONTACT_FLOW', State: 'ACTIVE' });
      // Content is a Fn::Join of the JSON text around the three imported ARNs.
      const join = (flow.Properties.Content as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
      const text = join[1]
        .map((part) => {
          if (typeof part === 'string') return part;
          const json = JSON.stringify(part);
          if (json === JSON.stringify(imported(voice.voiceFunction.function.functionArn)))
            return stand.voiceLambdaArn;
          if (json === JSON.stringify(imported(voice.botAliasArn))) return stand.botAliasArn;
          if (json === JSON.stringify(imported(voice.humanQueueArn as string))) return stand.humanQueueArn;
          throw new Error(`unexpected value in the flow: ${json}`);
        })
        .join(join[0]);
      expect(JSON.parse(text)).toEqual(expected);
    }
  });

  it('associates each number with its own flow, and only those two may be touched', () => {
    for (const [id, association] of ofType(resources, 'Custom::PhoneNumberContactFlow')) {
      const prefix = id.replace(/NumberFlowAssociation.*$/, '');
      const numberId = ofType(resources, 'AWS::Connect::PhoneNumber').find(([n]) =>
        n.startsWith(prefix),
      )?.[0];
      const flowId = ofType(resources, 'AWS::Connect::ContactFlow').find(([n]) => n.startsWith(prefix))?.[0];
      expect(numberId).toBeDefined();
      expect(flowId).toBeDefined();
      const create = JSON.stringify(association.Properties.Create);
      expect(create).toContain('AssociatePhoneNumberContactFlow');
      expect(create).toContain(`${numberId}`);
      expect(create).toContain(`${flowId}`);
      // The instance by its id (the stateful stack's created instance's Id attribute), as the API takes it.
      expect(create).toMatch(
        /"InstanceId\\":\\"",\{"Fn::GetStackOutput":\{[^}]*ContactCenterInstance\w*Id\w*"/,
      );
      expect(JSON.stringify(association.Properties.Delete)).toContain('DisassociatePhoneNumberContactFlow');
    }
    const policies = ofType(resources, 'AWS::IAM::Policy').filter(([id]) =>
      id.includes('NumberFlowAssociation'),
    );
    expect(policies).toHaveLength(count);
    for (const [, policy] of policies) {
      const [statement] = (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
        .Statement;
      expect(statement?.Action).toEqual([
        'connect:AssociatePhoneNumberContactFlow',
        'connect:DisassociatePhoneNumberContactFlow',
      ]);
      expect(JSON.stringify(statement?.Resource)).not.toContain('*');
    }
  });

  it('writes the records through the tenant’s records function, with the number CloudFormation claimed', () => {
    const [stackFn] = fixture.declaredTenants.map((s) => s.recordsFunction);
    if (!stackFn) throw new Error('no records function');
    const fnId = logicalIdOf(stack, stackFn.function);
    const fn = resources[fnId] as Resource;
    const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables[ENV.DECLARED_TENANT_ID]).toBe(TENANT_ID);
    expect(variables[ENV.TENANT_ACCESS_ROLE_ARN]).toBeDefined();
    expect(stackFn.serviceName).toBe(DECLARED_RECORDS_SERVICE);
    const tenants = ofType(resources, DECLARED_TENANT_RESOURCE_TYPE);
    expect(tenants.map(([, r]) => r.Properties)).toEqual([
      {
        ServiceToken: { 'Fn::GetAtt': [fnId, 'Arn'] },
        Kind: 'tenant',
        TenantId: TENANT_ID,
        TenantName: 'Acme Dental',
        TenantSlug: 'acme-dental',
        OwnerEmail: 'owner@acme-dental.example',
        OwnerName: 'Ada Owner',
      },
    ]);
    const tenantRecordsId = tenants[0]?.[0];
    const records = ofType(resources, DECLARED_RECORDS_RESOURCE_TYPE);
    expect(records.map(([, r]) => r.Properties.AgentId).sort()).toEqual(
      Array.from({ length: count }, (_, n) => agentId(n)).sort(),
    );
    for (const [id, record] of records) {
      expect(record.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
      expect(record.Properties).toMatchObject({ Kind: 'agent', TenantId: TENANT_ID });
      // After the tenant's record: the agents are created in parallel, the tenant once.
      expect(record.DependsOn).toContain(tenantRecordsId);
      const config = JSON.parse(record.Properties.AgentConfig as string) as Record<string, unknown>;
      expect(config.businessType).toBe('dental');
      const prefix = id.replace(/Records.*$/, '');
      const numberId = ofType(resources, 'AWS::Connect::PhoneNumber').find(([n]) =>
        n.startsWith(prefix),
      )?.[0];
      expect(record.Properties.VoiceNumber).toEqual({ 'Fn::GetAtt': [numberId, 'Address'] });
    }
  });

  it('gives the records function its own platform keys only (slug, number route) and the tenant through the tenant-access role', () => {
    const fn = (stack as DeclaredTenantStack).recordsFunction;
    const roleRef = JSON.stringify({ Ref: logicalIdOf(stack, fn.role) });
    const statements = ofType(resources, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleRef))
      .flatMap(
        ([, p]) => (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
      );
    const dynamodb = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(dynamodb.length).toBeGreaterThan(0);
    for (const statement of dynamodb) {
      expect(statement.Condition).toEqual(
        leadingKeysCondition(platformKeyPatterns(PLATFORM_KEY_PREFIXES[DECLARED_RECORDS_SERVICE] ?? [])),
      );
    }
    expect(PLATFORM_KEY_PREFIXES[DECLARED_RECORDS_SERVICE]).toEqual(['CHADDR#', 'SLUG#']);
    const sts = statements.filter((s) => JSON.stringify(s.Action).includes('sts:'));
    expect(sts.map((s) => [s.Effect, s.Action])).toEqual([
      ['Allow', ['sts:AssumeRole', 'sts:TagSession']],
      ['Deny', ['sts:AssumeRole', 'sts:TagSession']],
    ]);
    // This tenant only: any other tenant's session tag is refused by IAM, not just by the code.
    expect(sts[1]?.Condition).toEqual({ StringNotEquals: { 'aws:RequestTag/tenant': TENANT_ID } });
    expect(sts[1]?.Resource).toEqual(sts[0]?.Resource);
    // No tenant's secrets (the house cursor key only).
    expect(JSON.stringify(statements)).not.toContain('/tenants/');
  });

  it('keeps every stack under CloudFormation’s 500-resource limit', () => {
    for (const s of [fixture.stateful, fixture.workflows, fixture.api, stack]) {
      expect({ stack: s.stackName, under500: Object.keys(resourcesOf(s)).length < 500 }).toEqual({
        stack: s.stackName,
        under500: true,
      });
    }
  });
});

describe('declared tenant stacks: removal, nag, config', () => {
  it('an agent removed from the config has no resource left in the template', () => {
    const two = resourcesOf(declaredStack(withDeclared(2)));
    const one = resourcesOf(declaredStack(withDeclared(1)));
    const removed = Object.keys(two).filter((id) => !(id in one));
    // Flow, number, association (+ its policy) and records of the second agent; nothing else.
    expect(removed.map((id) => two[id]?.Type).sort()).toEqual(
      [
        'AWS::Connect::ContactFlow',
        'AWS::Connect::PhoneNumber',
        'AWS::IAM::Policy',
        'Custom::PhoneNumberContactFlow',
        DECLARED_RECORDS_RESOURCE_TYPE,
      ].sort(),
    );
    // The first agent keeps its logical ids: a deploy without the second touches nothing of it.
    expect(Object.keys(one).every((id) => id in two)).toBe(true);
  });

  it('the most agents a tenant may declare still fit one stack: under 500 resources and 1 MB of template', () => {
    const largest = withDeclared(MAX_DECLARED_AGENTS_PER_TENANT);
    const stack = declaredStack(largest);
    const assembly = largest.app.synth();
    const template = readFileSync(path.join(assembly.directory, stack.templateFile), 'utf8');
    expect(Object.keys(JSON.parse(template).Resources).length).toBeLessThan(500);
    expect(Buffer.byteLength(template)).toBeLessThan(1_000_000);
    // One more agent than allowed is refused by the config.
    expect(() =>
      parseEnvironmentConfig('dev', {
        ...((cdkJsonContext().environments as Record<string, unknown>).dev as object),
        region: VOICE_REGION,
        voice: VOICE,
        declaredTenants: [tenantWith(MAX_DECLARED_AGENTS_PER_TENANT + 1)],
      }),
    ).toThrow(/declaredTenants\.0\.agents/);
  });

  it('dev and prod (cdk.json) declare no tenant', () => {
    expect(buildPlatform('dev').declaredTenants).toEqual([]);
    expect(buildPlatform('prod').declaredTenants).toEqual([]);
  });

  it('is cdk-nag clean (every finding acknowledged with a reason) with 25 agents', () => {
    const nagged = withDeclared(25);
    Validations.of(nagged.app).addPlugins(new AwsSolutionsChecks(nagged.app));
    const assembly = nagged.app.synth();
    const unacknowledged = new AwsSolutionsChecks()
      .validateScope(declaredStack(nagged))
      .violations.map(
        (v) =>
          `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
    expect(unacknowledged).toEqual([]);
    const report = path.join(assembly.directory, 'validation-report.json');
    const findings = existsSync(report)
      ? (
          JSON.parse(readFileSync(report, 'utf8')) as { pluginReports: { violations: unknown[] }[] }
        ).pluginReports.flatMap((p) => p.violations)
      : [];
    expect(findings).toEqual([]);
  });

  describe('config', () => {
    const devRaw = () =>
      (cdkJsonContext().environments as Record<string, Record<string, unknown>>).dev as Record<
        string,
        unknown
      >;
    const parse = (overrides: Record<string, unknown>) =>
      parseEnvironmentConfig('dev', { ...devRaw(), region: VOICE_REGION, voice: VOICE, ...overrides });

    it('accepts a declared tenant and defaults its agents’ channels', () => {
      const tenant = tenantWith(1);
      const config = parse({
        declaredTenants: [{ ...tenant, agents: [{ id: agentId(0), config: AGENT_CONFIG }] }],
      });
      expect(config.declaredTenants[0]?.agents[0]?.channels).toEqual([]);
    });

    it('checks each agent’s configuration with the API’s schema, naming the field', () => {
      const tenant = tenantWith(1);
      expect(() =>
        parse({
          declaredTenants: [
            {
              ...tenant,
              agents: [{ ...tenant.agents[0], config: { ...AGENT_CONFIG, model: { provider: 'x' } } }],
            },
          ],
        }),
      ).toThrow(/declaredTenants\.0\.agents\.0\.config\.model\.provider/);
    });

    it('refuses a voice channel without the environment’s voice, and repeated ids', () => {
      expect(() => parse({ voice: undefined, declaredTenants: [tenantWith(1)] })).toThrow(
        /declaredTenants\.0\.agents\.0\.channels: a voice channel needs/,
      );
      const tenant = tenantWith(1);
      const twice = { ...tenant, agents: [tenant.agents[0], tenant.agents[0]] };
      expect(() => parse({ declaredTenants: [twice] })).toThrow(ConfigError);
      expect(() => parse({ declaredTenants: [twice] })).toThrow(/must not declare the same agent twice/);
    });

    it('refuses malformed ids', () => {
      expect(() => parse({ declaredTenants: [{ ...tenantWith(1), id: 'acme' }] })).toThrow(
        /declaredTenants\.0\.id: must be ten_ followed by a ULID/,
      );
    });
  });
});
