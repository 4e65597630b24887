import {
  conditionHolds,
  LOCAL_ONLY_KEY_PREFIXES,
  leadingKeysAllowed,
  leadingKeysCondition,
  PLATFORM_KEY_PREFIXES,
  type PolicyStatementJson,
  platformKeyPatterns,
  TENANT_SESSION_TAG,
  tenantAccessStatements,
} from './tenant-access-policy';

const A = 'ten_01J0000000000000000000000A';
const B = 'ten_01J0000000000000000000000B';

// The statements exactly as the CDK deploys them (the resources do not change the conditions).
const statements = tenantAccessStatements({
  tableArn: 'arn:aws:dynamodb:eu-west-1:111111111111:table/Data',
  indexArn: 'arn:aws:dynamodb:eu-west-1:111111111111:table/Data/index/gsi1',
  secretArnPrefix: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:agent-platform/dev',
  tableKeyArn: 'arn:aws:kms:eu-west-1:111111111111:key/k',
});
const items = statements.find((statement) => statement.Sid === 'TenantItems') as PolicyStatementJson;
const secrets = statements.find((statement) => statement.Sid === 'TenantSecrets') as PolicyStatementJson;

const asTenant = (tenant: string | undefined, leadingKeys: readonly string[]) =>
  conditionHolds(items.Condition, {
    principalTags: tenant === undefined ? {} : { [TENANT_SESSION_TAG]: tenant },
    leadingKeys,
  });

describe('the tenant-access role, evaluated for tenant A and tenant B', () => {
  it.each([
    `T#${A}`, // tenant, users, balance, policy ...
    `T#${A}#AGENT#agt_1`,
    `T#${A}#AGENT#agt_1#MEM`,
    `T#${A}#LEDGER`,
    `T#${A}#AGENT_NAME`, // gsi1 partitions are leading keys of an index Query
    `T#${A}#ACTIONS#executing`,
  ])('lets A touch its own partition %s', (key) => {
    expect(asTenant(A, [key])).toBe(true);
    expect(leadingKeysAllowed(A, [key])).toBe(true);
  });

  it.each([
    [`T#${B}`, 'B’s tenant partition'],
    [`T#${B}#LEDGER`, 'B’s ledger'],
    [`T#${A}x`, 'a longer id that starts with A’s'],
    [`T#${A}0#AGENT#agt_1`, 'a longer id followed by a key'],
    [`T#${A.slice(0, -1)}`, 'a shorter id that A’s starts with'],
    [`T#${A.slice(0, -1)}#LEDGER`, 'a shorter id’s partition'],
    [`T#${A.toLowerCase()}`, 'A’s id in another case (StringLike is case-sensitive)'],
    [`X#T#${A}`, 'A’s key behind another prefix'],
    [`T${A}`, 'A’s id without the separator'],
    ['SLUG#shop', 'a platform key'],
    ['TENANTS', 'the tenant listing (index key)'],
    ['RSVHELD#2026-12-06T04', 'the held-reservation index'],
    ['BILLING#HOUSEKEEPING', 'the sweep mark'],
    ['PAYMENT#stripe#pi_1', 'the payment lookup'],
    ['CHADDR#sms#+14155550100', 'the channel directory'],
    ['*', 'a literal wildcard'],
  ])('refuses A %s (%s)', (key) => {
    expect(asTenant(A, [key])).toBe(false);
    expect(leadingKeysAllowed(A, [key])).toBe(false);
  });

  it('refuses a batch that mixes A’s keys with one of B’s (every key must match)', () => {
    expect(asTenant(A, [`T#${A}`, `T#${A}#LEDGER`])).toBe(true);
    expect(asTenant(A, [`T#${A}`, `T#${B}`])).toBe(false);
    expect(leadingKeysAllowed(A, [`T#${A}#RSV`, `T#${B}#RSV`])).toBe(false);
  });

  it('gives B its own keys and none of A’s', () => {
    expect(asTenant(B, [`T#${B}#CONV#cnv_1`])).toBe(true);
    expect(asTenant(B, [`T#${A}#CONV#cnv_1`])).toBe(false);
  });

  it('refuses a request without leading keys (a Scan): the Null condition closes the ForAllValues empty set', () => {
    expect(asTenant(A, [])).toBe(false);
    expect(leadingKeysAllowed(A, [])).toBe(false);
    // Why the Null condition is there: ForAllValues alone holds for an absent key.
    const forAllValuesOnly = {
      'ForAllValues:StringLike': items.Condition?.['ForAllValues:StringLike'] ?? {},
    };
    expect(conditionHolds(forAllValuesOnly, { principalTags: { tenant: A }, leadingKeys: [] })).toBe(true);
  });

  it('refuses everything to a session without the tenant tag (the policy variable has no value)', () => {
    expect(asTenant(undefined, [`T#${A}`])).toBe(false);
    expect(asTenant(undefined, ['T#'])).toBe(false);
    expect(asTenant('', [`T#${A}`])).toBe(false);
  });

  it('limits the item statement to item actions on the table and its index, never Scan', () => {
    expect(items.Action).not.toContain('dynamodb:Scan');
    expect(items.Action.every((action) => action.endsWith('Item') || action === 'dynamodb:Query')).toBe(true);
    expect(items.Resource).toEqual([
      'arn:aws:dynamodb:eu-west-1:111111111111:table/Data',
      'arn:aws:dynamodb:eu-west-1:111111111111:table/Data/index/gsi1',
    ]);
  });

  it('limits secrets to the session tenant’s own path, the suffix covered by the trailing wildcard', () => {
    expect(secrets.Resource).toEqual([
      `arn:aws:secretsmanager:eu-west-1:111111111111:secret:agent-platform/dev/tenants/\${aws:PrincipalTag/tenant}/*`,
    ]);
    expect(secrets.Action).toContain('secretsmanager:GetSecretValue');
    expect(secrets.Action.some((action) => action.includes('List'))).toBe(false);
  });
});

describe('platform-level credentials (outside any tenant scope)', () => {
  it.each([
    'SLUG#shop',
    'PAYMENT#stripe#pi_1',
    'TENANTS',
    'RSVHELD#2026-12-06T04',
    'BILLING#HOUSEKEEPING',
    'CHADDR#sms#+14155550100',
    'INBOUND#twilio#SM1',
    'LOCALID#owner@shop.example',
  ])('may touch the platform key %s', (key) => {
    expect(leadingKeysAllowed(undefined, [key])).toBe(true);
  });

  it.each([`T#${A}`, `T#${B}#LEDGER`, 'TENANTSX', 'BILLING#HOUSEKEEPINGX', 'BILLING#OTHER', 'SLUG'])(
    'may not touch %s',
    (key) => {
      expect(leadingKeysAllowed(undefined, [key])).toBe(false);
    },
  );

  it('may not Scan, nor mix a tenant key into a platform batch', () => {
    expect(leadingKeysAllowed(undefined, [])).toBe(false);
    expect(leadingKeysAllowed(undefined, ['SLUG#shop', `T#${A}`])).toBe(false);
  });

  it('gives each function only its own prefixes', () => {
    const housekeeping = leadingKeysCondition(
      platformKeyPatterns(PLATFORM_KEY_PREFIXES['reservation-housekeeping'] ?? []),
    );
    const request = (key: string) => ({ principalTags: {}, leadingKeys: [key] });
    expect(conditionHolds(housekeeping, request('RSVHELD#2026-12-06T04'))).toBe(true);
    expect(conditionHolds(housekeeping, request('BILLING#HOUSEKEEPING'))).toBe(true);
    expect(conditionHolds(housekeeping, request('SLUG#shop'))).toBe(false);
    expect(conditionHolds(housekeeping, request('TENANTS'))).toBe(false);
  });

  it('has no platform prefix that could match a tenant key, and local-only keys are not deployed', () => {
    for (const [service, prefixes] of Object.entries(PLATFORM_KEY_PREFIXES)) {
      const condition = leadingKeysCondition(platformKeyPatterns(prefixes));
      for (const key of [`T#${A}`, `T#${A}#LEDGER`, 'T#', 'T']) {
        expect({
          service,
          key,
          allowed: conditionHolds(condition, { principalTags: {}, leadingKeys: [key] }),
        }).toEqual({ service, key, allowed: false });
      }
      for (const local of LOCAL_ONLY_KEY_PREFIXES) expect(prefixes).not.toContain(local);
    }
  });
});

describe('conditionHolds follows IAM’s documented semantics', () => {
  const request = (leadingKeys: string[], principalTags: Record<string, string> = {}) => ({
    principalTags,
    leadingKeys,
  });

  it('StringLike: * spans any run (also empty), ? exactly one character', () => {
    const condition = { StringLike: { 'dynamodb:LeadingKeys': 'a*c?' } };
    expect(conditionHolds(condition, request(['acx']))).toBe(true);
    expect(conditionHolds(condition, request(['a##c#']))).toBe(true);
    expect(conditionHolds(condition, request(['ac']))).toBe(false);
    expect(conditionHolds(condition, request(['abcxy']))).toBe(false);
  });

  it(`StringEquals treats * literally; \${*} in a value is a literal *`, () => {
    expect(conditionHolds({ StringEquals: { 'dynamodb:LeadingKeys': 'a*' } }, request(['ab']))).toBe(false);
    expect(conditionHolds({ StringEquals: { 'dynamodb:LeadingKeys': 'a*' } }, request(['a*']))).toBe(true);
    expect(conditionHolds({ StringLike: { 'dynamodb:LeadingKeys': `a\${*}` } }, request(['ab']))).toBe(false);
    expect(conditionHolds({ StringLike: { 'dynamodb:LeadingKeys': `a\${*}` } }, request(['a*']))).toBe(true);
  });

  it('ForAnyValue needs one match and fails for an absent key; ForAllValues holds for an absent key', () => {
    const anyValue = { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': 'A*' } };
    const allValues = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': 'A*' } };
    expect(conditionHolds(anyValue, request(['Ax', 'B']))).toBe(true);
    expect(conditionHolds(allValues, request(['Ax', 'B']))).toBe(false);
    expect(conditionHolds(anyValue, request([]))).toBe(false);
    expect(conditionHolds(allValues, request([]))).toBe(true);
  });

  it('Null: "false" needs the key present, "true" absent', () => {
    expect(conditionHolds({ Null: { 'dynamodb:LeadingKeys': 'false' } }, request(['k']))).toBe(true);
    expect(conditionHolds({ Null: { 'dynamodb:LeadingKeys': 'false' } }, request([]))).toBe(false);
    expect(conditionHolds({ Null: { 'dynamodb:LeadingKeys': 'true' } }, request([]))).toBe(true);
  });

  it('substitutes principal tags as literal text, and a missing tag matches nothing', () => {
    const condition = { StringLike: { 'dynamodb:LeadingKeys': `T#\${aws:PrincipalTag/tenant}` } };
    expect(conditionHolds(condition, request(['T#x'], { tenant: 'x' }))).toBe(true);
    expect(conditionHolds(condition, request(['T#xy'], { tenant: 'x*' }))).toBe(false);
    expect(conditionHolds(condition, request(['T#x'], {}))).toBe(false);
  });

  it('a single-valued operator needs the key with exactly one value; IfExists passes an absent key', () => {
    expect(conditionHolds({ StringLike: { 'dynamodb:LeadingKeys': '*' } }, request([]))).toBe(false);
    expect(conditionHolds({ StringLike: { 'dynamodb:LeadingKeys': '*' } }, request(['a', 'b']))).toBe(false);
    expect(conditionHolds({ StringLikeIfExists: { 'dynamodb:LeadingKeys': 'x' } }, request([]))).toBe(true);
  });

  it('every operator and every key must hold; values of one key are alternatives', () => {
    const condition = {
      StringLike: { 'dynamodb:LeadingKeys': ['a*', 'b*'], 'aws:PrincipalTag/tenant': 't' },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    };
    expect(conditionHolds(condition, request(['bz'], { tenant: 't' }))).toBe(true);
    expect(conditionHolds(condition, request(['bz'], { tenant: 'u' }))).toBe(false);
    expect(conditionHolds(undefined, request([]))).toBe(true);
  });

  it('refuses to evaluate an operator it does not implement', () => {
    expect(() =>
      conditionHolds({ NumericLessThan: { 'aws:MultiFactorAuthAge': '300' } }, request([])),
    ).toThrow(/Unsupported condition operator/);
  });
});
