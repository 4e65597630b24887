import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  conditionHolds,
  leadingKeysCondition,
  PLATFORM_KEY_PREFIXES,
  type PolicyStatementJson,
  platformKeyPatterns,
} from '../../lambdas/composition/tenant-access-policy';
import { type HouseFunction, houseFunctionsIn } from '../../lib/constructs/house-function';
import { HTTP_LAMBDAS } from '../../lib/http-lambdas';
import { buildPlatform, logicalIdOf, type PlatformFixture } from './platform-fixture';

type Statement = {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: PolicyStatementJson['Condition'];
};
type Resource = { Type: string; Properties: Record<string, unknown> };

const A = 'ten_01J0000000000000000000000A';
const B = 'ten_01J0000000000000000000000B';

/** Every deployed function, by service name, and the platform-level keys its own role may touch. */
const EXPECTED_PLATFORM_KEYS: Record<string, readonly string[]> = {
  auth: ['SLUG#*'],
  tenancy: [],
  agents: ['CHADDR#*', 'METAVERIFY#*', 'WEBKEY#*'],
  webhooks: ['CHADDR#*', 'INBOUND#*', 'METAVERIFY#*'],
  'inbound-worker': [],
  system: ['HEALTH'],
  memory: [],
  runtime: [],
  billing: ['PAYMENT#*'],
  actions: [],
  'execution-worker': [],
  'reservation-housekeeping': ['RSVHELD#*', 'BILLING#HOUSEKEEPING'],
  'approval-step': [],
  'provision-step': ['CHADDR#*', 'METAVERIFY#*'],
  // The WebSocket API: the authorizer resolves a web chat's publishable key before any tenant is known.
  'ws-authorizer': ['WEBKEY#*'],
  'ws-connection': [],
  'ws-messages': [],
  'billing-list-tenants': ['TENANTS'],
  'billing-charge-monthly-fee': [],
  'billing-suspend-tenant': [],
  // Only where email receiving is configured (not in these environments).
  'email-intake': ['CHADDR#*', 'INBOUND#*'],
  // Only where voice is configured (not in these environments): routing by dialled number.
  voice: ['CHADDR#*'],
  // Only in a declared tenant's stack (none in these environments; test/infra/declared-tenants.test.ts).
  'declared-agents': ['CHADDR#*', 'SLUG#*'],
};
/** Deployed only where the environment's config asks for them (email receiving, voice, declared tenants). */
const ONLY_WHEN_CONFIGURED = new Set(['email-intake', 'voice', 'declared-agents']);
/** Purely platform-level functions: no tenant's data, so no tenant credentials either. */
const PLATFORM_ONLY = new Set(['system', 'billing-list-tenants']);

const actionsOf = (statement: Statement) => [statement.Action].flat();
const resourcesOf = (statement: Statement) => [statement.Resource].flat();

describe.each(['dev', 'prod'])('tenant-scoped credentials (%s)', (envName) => {
  let fixture: PlatformFixture;
  const templates = new Map<Stack, Record<string, Resource>>();
  const resourcesIn = (stack: Stack) => {
    let resources = templates.get(stack);
    if (!resources) {
      resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
      templates.set(stack, resources);
    }
    return resources;
  };

  beforeAll(() => {
    fixture = buildPlatform(envName);
  });

  const functions = () => houseFunctionsIn(fixture.app);

  /** Every statement of every policy attached to a function's role (and of its inline policies). */
  function statementsOf(fn: HouseFunction): Statement[] {
    const stack = Stack.of(fn);
    const roleId = logicalIdOf(stack, fn.role);
    const resources = resourcesIn(stack);
    const attached = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) => JSON.stringify(r.Properties.Roles).includes(JSON.stringify({ Ref: roleId })))
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const inline = (
      (resources[roleId]?.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]
    ).flatMap((p) => p.PolicyDocument.Statement);
    return [...attached, ...inline];
  }
  function variablesOf(fn: HouseFunction): Record<string, unknown> {
    const resource = resourcesIn(Stack.of(fn))[logicalIdOf(Stack.of(fn), fn.function)];
    if (!resource) throw new Error(`no function ${fn.serviceName} in its template`);
    return (resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  }

  function tenantRole(): Resource {
    const { stateful } = fixture;
    return resourcesIn(stateful)[logicalIdOf(stateful, stateful.tenantAccess.role)] as Resource;
  }
  function tenantRoleStatements(): Statement[] {
    const policies = tenantRole().Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[];
    return policies.flatMap((p) => p.PolicyDocument.Statement);
  }

  describe('the tenant-access role', () => {
    it('is trusted by the account only, for AssumeRole with a tenant session tag (TagSession)', () => {
      const trust = tenantRole().Properties.AssumeRolePolicyDocument as {
        Statement: Record<string, unknown>[];
      };
      expect(trust.Statement).toEqual([
        {
          Effect: 'Allow',
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Principal: { AWS: expect.anything() },
          Condition: { StringLike: { 'aws:RequestTag/tenant': 'ten_?*' } },
        },
      ]);
      // The account itself (its root principal): only roles whose own policy allows it may assume it.
      expect(JSON.stringify(trust.Statement[0]?.Principal)).toMatch(/^\{"AWS":.*:iam::.*:root"/);
      expect(tenantRole().Properties.MaxSessionDuration).toBe(3600);
      expect(tenantRole().Properties.ManagedPolicyArns).toBeUndefined();
    });

    it('reaches the table and its index only under the tenant’s own leading keys, never by Scan', () => {
      const dynamodb = tenantRoleStatements().filter((s) =>
        actionsOf(s).some((a) => a.startsWith('dynamodb:')),
      );
      expect(dynamodb).toHaveLength(1);
      const [items] = dynamodb as [Statement];
      expect(items.Condition).toEqual({
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': [`T#\${aws:PrincipalTag/tenant}`, `T#\${aws:PrincipalTag/tenant}#*`],
        },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      });
      expect(actionsOf(items)).not.toContain('dynamodb:Scan');
      expect(actionsOf(items).every((a) => /^dynamodb:([A-Za-z]*Item|Query)$/.test(a))).toBe(true);
      const { stateful } = fixture;
      const tableArn = { 'Fn::GetAtt': [logicalIdOf(stateful, stateful.data.table), 'Arn'] };
      expect(resourcesOf(items)).toEqual([tableArn, { 'Fn::Join': ['', [tableArn, '/index/gsi1']] }]);
    });

    it('evaluates, as deployed, to tenant A’s keys for A and never to B’s, a prefix trick, or a Scan', () => {
      const [items] = tenantRoleStatements().filter((s) => actionsOf(s).includes('dynamodb:GetItem'));
      const as = (tenant: string, leadingKeys: string[]) =>
        conditionHolds(items?.Condition, { principalTags: { tenant }, leadingKeys });
      expect(as(A, [`T#${A}`])).toBe(true);
      expect(as(A, [`T#${A}#AGENT#agt_1`, `T#${A}#CONVS`])).toBe(true);
      expect(as(A, [`T#${B}`])).toBe(false);
      expect(as(A, [`T#${A}x`])).toBe(false);
      expect(as(A, [`T#${A}#LEDGER`, `T#${B}#LEDGER`])).toBe(false);
      expect(as(A, ['TENANTS'])).toBe(false);
      expect(as(A, [])).toBe(false);
      expect(as(B, [`T#${B}#RSV`])).toBe(true);
    });

    it('reaches only the session tenant’s own secrets, and the table key', () => {
      const secrets = tenantRoleStatements().filter((s) =>
        actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
      );
      expect(secrets).toHaveLength(1);
      expect(JSON.stringify(secrets[0]?.Resource)).toMatch(
        new RegExp(
          `:secret:agent-platform/${fixture.config.stageName}/tenants/\\$\\{aws:PrincipalTag/tenant\\}/\\*"`,
        ),
      );
      expect(actionsOf(secrets[0] as Statement)).toEqual(
        expect.arrayContaining(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']),
      );
      expect(actionsOf(secrets[0] as Statement).filter((a) => /List|Policy|\*/.test(a))).toEqual([]);
      const kms = tenantRoleStatements().filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
      const { stateful } = fixture;
      expect(kms.map((s) => s.Condition)).toEqual([
        { StringLike: { 'kms:ViaService': 'dynamodb.*.amazonaws.com' } },
      ]);
      expect(kms.map((s) => s.Resource)).toEqual([
        { 'Fn::GetAtt': [logicalIdOf(stateful, stateful.data.encryptionKey), 'Arn'] },
      ]);
      const all = tenantRoleStatements().flatMap(actionsOf);
      expect(all.filter((a) => !/^(dynamodb|secretsmanager|kms):/.test(a))).toEqual([]);
    });
  });

  describe('the functions’ own roles', () => {
    it('cover every deployed function', () => {
      expect(
        functions()
          .map((fn) => fn.serviceName)
          .sort(),
      ).toEqual(
        Object.keys(EXPECTED_PLATFORM_KEYS)
          .filter((name) => !ONLY_WHEN_CONFIGURED.has(name))
          .sort(),
      );
    });

    it('match PLATFORM_KEY_PREFIXES (the data the local check enforces too)', () => {
      for (const fn of functions()) {
        expect({
          fn: fn.serviceName,
          keys: platformKeyPatterns(PLATFORM_KEY_PREFIXES[fn.serviceName] ?? []),
        }).toEqual({
          fn: fn.serviceName,
          keys: EXPECTED_PLATFORM_KEYS[fn.serviceName],
        });
      }
    });

    it('touch the table only under a LeadingKeys condition with the function’s own platform prefixes', () => {
      for (const fn of functions()) {
        const expected = EXPECTED_PLATFORM_KEYS[fn.serviceName] ?? [];
        const dynamodb = statementsOf(fn).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
        if (expected.length === 0) {
          expect({ fn: fn.serviceName, dynamodb }).toEqual({ fn: fn.serviceName, dynamodb: [] });
          continue;
        }
        expect(dynamodb.length).toBeGreaterThan(0);
        for (const statement of dynamodb) {
          expect({ fn: fn.serviceName, condition: statement.Condition }).toEqual({
            fn: fn.serviceName,
            condition: leadingKeysCondition(expected),
          });
          expect(actionsOf(statement).filter((a) => a === 'dynamodb:Scan' || a.includes('*'))).toEqual([]);
          // As deployed: no tenant's key, and no request without keys.
          for (const leadingKeys of [[`T#${A}`], [`T#${A}#LEDGER`], []]) {
            expect(conditionHolds(statement.Condition, { principalTags: { tenant: A }, leadingKeys })).toBe(
              false,
            );
          }
        }
      }
    });

    it('never read the tenants’ secrets', () => {
      for (const fn of functions()) {
        const secrets = statementsOf(fn).filter((s) =>
          actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
        );
        const resources = JSON.stringify(secrets.flatMap(resourcesOf));
        expect({ fn: fn.serviceName, tenants: resources.includes('/tenants/') }).toEqual({
          fn: fn.serviceName,
          tenants: false,
        });
        expect(secrets.flatMap(actionsOf).filter((a) => a !== 'secretsmanager:GetSecretValue')).toEqual([]);
      }
    });

    it('serve a tenant only through the tenant-access role: its ARN, and AssumeRole + TagSession on it alone', () => {
      for (const fn of functions()) {
        const sts = statementsOf(fn).filter((s) => actionsOf(s).some((a) => a.startsWith('sts:')));
        const arn = variablesOf(fn).TENANT_ACCESS_ROLE_ARN;
        if (PLATFORM_ONLY.has(fn.serviceName)) {
          expect({ fn: fn.serviceName, arn, sts }).toEqual({ fn: fn.serviceName, arn: undefined, sts: [] });
          continue;
        }
        expect({ fn: fn.serviceName, sts }).toEqual({
          fn: fn.serviceName,
          sts: [
            {
              Effect: 'Allow',
              Action: ['sts:AssumeRole', 'sts:TagSession'],
              Resource: arn,
              Condition: { StringLike: { 'aws:RequestTag/tenant': 'ten_?*' } },
            },
          ],
        });
      }
    });

    it('are handed the tenant-access role’s own ARN', () => {
      const { stateful } = fixture;
      const roleArn = JSON.stringify({
        'Fn::GetAtt': [logicalIdOf(stateful, stateful.tenantAccess.role), 'Arn'],
      });
      const outputs = Template.fromStack(stateful).toJSON().Outputs as Record<string, { Value: unknown }>;
      const outputName = Object.entries(outputs).find(([, o]) => JSON.stringify(o.Value) === roleArn)?.[0];
      expect(outputName).toBeDefined();
      for (const fn of functions().filter((f) => !PLATFORM_ONLY.has(f.serviceName))) {
        expect(JSON.stringify(variablesOf(fn).TENANT_ACCESS_ROLE_ARN)).toContain(`"${outputName}"`);
      }
    });
  });
});

describe('HTTP_LAMBDAS', () => {
  it('bundles the STS client exactly where a Lambda assumes the tenant-access role', () => {
    for (const [name, spec] of Object.entries(HTTP_LAMBDAS)) {
      expect({ name, sts: (spec.sdkClients as readonly string[]).includes('@aws-sdk/client-sts') }).toEqual({
        name,
        sts: spec.tenantAccess,
      });
    }
  });
});
