/**
 * The one statement of who may touch which table items and secrets, as plain IAM JSON: the CDK
 * deploys it (lib/constructs/tenant-access.ts: the tenant-access role, and each Lambda role's
 * platform-level table grant), and local mode and the tests enforce the very same documents with
 * the evaluator below, so a scope that is missing or wrong fails the same way everywhere.
 * No imports: the CDK app loads this file on its own.
 */

/** The session tag that names the tenant when a function assumes the tenant-access role. */
export const TENANT_SESSION_TAG = 'tenant';

/** IAM policy JSON, plain data (CDK turns it into PolicyStatements with PolicyStatement.fromJson). */
export interface PolicyStatementJson {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

const LEADING_KEYS = 'dynamodb:LeadingKeys';
const TENANT_TAG_VARIABLE = `\${aws:PrincipalTag/${TENANT_SESSION_TAG}}`;

/**
 * The item-level actions, every one of which carries `dynamodb:LeadingKeys`. Never `Scan` (no
 * leading key: the Null condition refuses it anyway) and never `DescribeTable` (not an item).
 */
export const TABLE_ITEM_READ_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:GetItem',
  'dynamodb:Query',
] as const;
export const TABLE_ITEM_WRITE_ACTIONS = [
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
] as const;

/** DynamoDB calls KMS with the caller's credentials, so whoever touches items needs the table key. */
export const TABLE_KEY_ACTIONS = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
] as const;

/** What a tenant's channel settings and outbound actions do with the tenant's own secrets. */
export const TENANT_SECRET_ACTIONS = [
  'secretsmanager:GetSecretValue',
  'secretsmanager:DescribeSecret',
  'secretsmanager:CreateSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:DeleteSecret',
  'secretsmanager:TagResource',
  // Re-adding a channel within the recovery window of its deleted secret.
  'secretsmanager:RestoreSecret',
] as const;

/**
 * A LeadingKeys condition that lets a request through only if it names at least one partition key
 * (Null = false: `ForAllValues` alone is TRUE for a request without the key, i.e. a Scan or any
 * request whose key set is empty) and every key it names matches one of `patterns`.
 */
export function leadingKeysCondition(
  patterns: readonly string[],
): NonNullable<PolicyStatementJson['Condition']> {
  return {
    'ForAllValues:StringLike': { [LEADING_KEYS]: [...patterns] },
    Null: { [LEADING_KEYS]: 'false' },
  };
}

/** The tenant's own partitions: `T#<tenant>` and `T#<tenant>#…`, never `T#<tenant>x…`. */
export const TENANT_KEY_PATTERNS = [`T#${TENANT_TAG_VARIABLE}`, `T#${TENANT_TAG_VARIABLE}#*`] as const;

/** The tenant-access role's statements (the role is assumed with the tenant as session tag). */
export function tenantAccessStatements(resources: {
  tableArn: string;
  indexArn: string;
  /** `arn:aws:secretsmanager:<region>:<account>:secret:<TENANT_SECRETS_PREFIX>` */
  secretArnPrefix: string;
  tableKeyArn?: string;
}): PolicyStatementJson[] {
  const statements: PolicyStatementJson[] = [
    {
      Sid: 'TenantItems',
      Effect: 'Allow',
      Action: [...TABLE_ITEM_READ_ACTIONS, ...TABLE_ITEM_WRITE_ACTIONS],
      Resource: [resources.tableArn, resources.indexArn],
      Condition: leadingKeysCondition(TENANT_KEY_PATTERNS),
    },
    {
      Sid: 'TenantSecrets',
      Effect: 'Allow',
      Action: [...TENANT_SECRET_ACTIONS],
      // The trailing `/*` also covers the random suffix Secrets Manager appends to every name.
      Resource: [`${resources.secretArnPrefix}/tenants/${TENANT_TAG_VARIABLE}/*`],
    },
  ];
  if (resources.tableKeyArn) {
    statements.push({
      Sid: 'TableKey',
      Effect: 'Allow',
      Action: [...TABLE_KEY_ACTIONS],
      Resource: [resources.tableKeyArn],
      // Only as DynamoDB uses it on the session's behalf, never to decrypt anything directly.
      Condition: { StringLike: { 'kms:ViaService': 'dynamodb.*.amazonaws.com' } },
    });
  }
  return statements;
}

/**
 * Platform-level leading keys each function may touch with its own role, by service name (the
 * HouseFunction's `serviceName`). An entry ending in `#` is a prefix (`SLUG#` → `SLUG#*`), any other
 * an exact key. A function without an entry touches no item with its own role: everything it does
 * for a tenant goes through the tenant-access role. No entry may match a `T#…` key (a test checks).
 */
export const PLATFORM_KEY_PREFIXES: Readonly<Record<string, readonly string[]>> = {
  /** Registration claims (and on failure releases) the global slug. */
  auth: ['SLUG#'],
  /** The health check's point read of a key that never exists. */
  system: ['HEALTH'],
  /**
   * Configuring an agent's channel claims / releases the global (channel, address) route, and
   * indexes a Meta channel's verify token by its hash (the handshake has no page id to route by),
   * and keeps the public web chat's publishable key → agent index.
   */
  /**
   * Provisioning routes each channel's address (`CHADDR#`, voice numbers included) and configures
   * Meta channels (`METAVERIFY#`) as the channel routes do; its records are the tenant's.
   */
  'provision-step': ['CHADDR#', 'METAVERIFY#'],
  agents: ['CHADDR#', 'METAVERIFY#', 'WEBKEY#'],
  /**
   * Declared agents' records (a CloudFormation custom resource per agent): a new declared tenant
   * claims its global slug, as registration does, and its voice number's route (`CHADDR#voice#…`).
   */
  'declared-agents': ['CHADDR#', 'SLUG#'],
  /** The payment webhook's payment → purchase lookup (and its write when a purchase starts). */
  billing: ['PAYMENT#'],
  /**
   * The messaging webhooks: route a channel address, drop a provider's redelivery, answer Meta's
   * handshake by the verify token's hash; everything else in the routed tenant's scope.
   */
  webhooks: ['CHADDR#', 'INBOUND#', 'METAVERIFY#'],
  /** Email in (SES → S3 → Lambda): route by mailbox and drop a repeated Message-ID; no secrets. */
  'email-intake': ['CHADDR#', 'INBOUND#'],
  /** Phone calls: the dialled number routes the call to its tenant and agent (`CHADDR#voice#<E.164>`). */
  voice: ['CHADDR#'],
  /**
   * The WebSocket `$connect` authorizer: a web chat's publishable key → (tenant, agent, origins),
   * read before any tenant is known; everything else (users, secrets, counts) in the tenant's scope.
   */
  'ws-authorizer': ['WEBKEY#'],
  /** The monthly run's tenant listing: a Query on gsi1 `TENANTS`. */
  'billing-list-tenants': ['TENANTS'],
  /** Held reservations by the hour their hold ends (gsi1 `RSVHELD#<hour>`) and the sweep mark. */
  'reservation-housekeeping': ['RSVHELD#', 'BILLING#HOUSEKEEPING'],
};

/**
 * Keys only local mode writes (its identity issuer's users and MFA challenges): never deployed,
 * but platform-level in local mode, so the local check lets platform code touch them.
 */
export const LOCAL_ONLY_KEY_PREFIXES: readonly string[] = ['LOCALID#', 'LOCALCHALLENGE#'];

/** `SLUG#` → `SLUG#*`; `TENANTS` → `TENANTS` (the StringLike patterns of platform keys). */
export function platformKeyPatterns(prefixes: readonly string[]): string[] {
  return prefixes.map((prefix) => (prefix.endsWith('#') ? `${prefix}*` : prefix));
}

/** A request as the condition sees it: the caller's principal tags and the request's leading keys. */
export interface ConditionRequest {
  readonly principalTags: Readonly<Record<string, string>>;
  /** The partition key values the request names (for a Query on an index, the index's); empty for a Scan. */
  readonly leadingKeys: readonly string[];
}

/** The values of a context key in the request, or undefined when the key is absent. */
function contextValues(key: string, request: ConditionRequest): readonly string[] | undefined {
  if (key === LEADING_KEYS) return request.leadingKeys.length > 0 ? request.leadingKeys : undefined;
  const tagPrefix = 'aws:PrincipalTag/';
  if (key.startsWith(tagPrefix)) {
    const value = request.principalTags[key.slice(tagPrefix.length)];
    return value === undefined ? undefined : [value];
  }
  return undefined;
}

type PatternPiece = { literal: string } | { any: true } | { one: true };

/**
 * Splits a policy value into literal text and wildcards, substituting `${…}` policy variables.
 * Returns undefined when a variable has no value in the request: such a value matches nothing.
 * A variable's value is literal text (no wildcards); `${*}`, `${?}`, `${$}` are literal characters.
 */
function parsePattern(
  value: string,
  request: ConditionRequest,
  wildcards: boolean,
): PatternPiece[] | undefined {
  const pieces: PatternPiece[] = [];
  let index = 0;
  while (index < value.length) {
    const char = value[index];
    if (char === '$' && value[index + 1] === '{') {
      const end = value.indexOf('}', index + 2);
      if (end < 0) throw new Error(`Unterminated policy variable in ${JSON.stringify(value)}`);
      const name = value.slice(index + 2, end);
      if (name === '*' || name === '?' || name === '$') {
        pieces.push({ literal: name });
      } else {
        const resolved = contextValues(name, request);
        if (resolved === undefined || resolved.length !== 1) return undefined;
        pieces.push({ literal: resolved[0] as string });
      }
      index = end + 1;
    } else if (wildcards && char === '*') {
      pieces.push({ any: true });
      index += 1;
    } else if (wildcards && char === '?') {
      pieces.push({ one: true });
      index += 1;
    } else {
      pieces.push({ literal: char as string });
      index += 1;
    }
  }
  return pieces;
}

/** Case-sensitive match of `text` against pattern pieces (`*` any run, `?` one character). */
function matches(text: string, pieces: readonly PatternPiece[]): boolean {
  // Iterative glob match with backtracking to the last `*`: linear-ish, no regular expressions
  // built from policy text.
  const chars: ({ literal: string } | { any: true } | { one: true })[] = [];
  for (const piece of pieces) {
    if ('literal' in piece) for (const c of piece.literal) chars.push({ literal: c });
    else chars.push(piece);
  }
  const input = [...text];
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < input.length) {
    const piece = chars[p];
    if (piece && 'one' in piece) {
      p += 1;
      t += 1;
    } else if (piece && 'literal' in piece && piece.literal === input[t]) {
      p += 1;
      t += 1;
    } else if (piece && 'any' in piece) {
      starP = p;
      starT = t;
      p += 1;
    } else if (starP >= 0) {
      p = starP + 1;
      starT += 1;
      t = starT;
    } else {
      return false;
    }
  }
  while (p < chars.length && 'any' in (chars[p] as PatternPiece)) p += 1;
  return p === chars.length;
}

function stringMatches(
  operator: string,
  text: string,
  policyValues: readonly string[],
  request: ConditionRequest,
): boolean {
  const wildcards = operator === 'StringLike';
  return policyValues.some((policyValue) => {
    const pieces = parsePattern(policyValue, request, wildcards);
    return pieces !== undefined && matches(text, pieces);
  });
}

const STRING_OPERATORS = new Set(['StringLike', 'StringEquals']);

/**
 * Evaluates one statement's Condition block as IAM does: every operator must hold, every key of an
 * operator must hold, and a key holds if the request matches ANY of the policy's values for it.
 * Supported: StringLike (`*`, `?`, policy variables), StringEquals, each with the `ForAllValues:` /
 * `ForAnyValue:` qualifiers and `...IfExists`, and Null. Qualifiers, per IAM: `ForAllValues` holds
 * when every request value matches, and ALSO when the key is absent or empty (which is why the
 * deployed conditions pair it with `Null: false`); `ForAnyValue` holds when at least one value
 * matches, never for an absent key. Without a qualifier the key must be present with one value.
 * Any other operator throws: a policy this evaluator does not understand must not pass silently.
 */
export function conditionHolds(
  condition: PolicyStatementJson['Condition'],
  request: ConditionRequest,
): boolean {
  if (!condition) return true;
  return Object.entries(condition).every(([rawOperator, keys]) => {
    let operator = rawOperator;
    let qualifier: 'ForAllValues' | 'ForAnyValue' | undefined;
    const qualified = /^(ForAllValues|ForAnyValue):(.+)$/.exec(operator);
    if (qualified) {
      qualifier = qualified[1] as 'ForAllValues' | 'ForAnyValue';
      operator = qualified[2] as string;
    }
    const ifExists = operator.endsWith('IfExists');
    if (ifExists) operator = operator.slice(0, -'IfExists'.length);

    return Object.entries(keys).every(([key, rawValues]) => {
      const policyValues = Array.isArray(rawValues) ? rawValues : [rawValues];
      const values = contextValues(key, request);
      if (operator === 'Null') {
        if (qualifier || ifExists) throw new Error(`Unsupported condition operator ${rawOperator}`);
        // "true": the key must be absent; "false": present. An empty set counts as absent.
        return policyValues.some((wanted) => (wanted === 'true') === (values === undefined));
      }
      if (!STRING_OPERATORS.has(operator)) throw new Error(`Unsupported condition operator ${rawOperator}`);
      if (values === undefined) return ifExists || qualifier === 'ForAllValues';
      const holds = (value: string) => stringMatches(operator, value, policyValues, request);
      if (qualifier === 'ForAllValues') return values.every(holds);
      if (qualifier === 'ForAnyValue') return values.some(holds);
      return values.length === 1 && holds(values[0] as string);
    });
  });
}

/**
 * May a request naming `leadingKeys` be made with tenant `tenantId`'s credentials (the deployed
 * tenant-access condition, with the tenant as session tag), or, when `tenantId` is undefined, with
 * platform credentials (the union of every function's platform prefixes, plus local-only keys)?
 * An empty key set (a Scan) is never allowed.
 */
export function leadingKeysAllowed(tenantId: string | undefined, leadingKeys: readonly string[]): boolean {
  if (tenantId === undefined) return conditionHolds(platformCondition(), { principalTags: {}, leadingKeys });
  return conditionHolds(tenantItemsCondition(), {
    principalTags: { [TENANT_SESSION_TAG]: tenantId },
    leadingKeys,
  });
}

// Built on first use, not at module load: a bundle that imports only the constants above leaves
// the evaluator (and the local-only key names) out.
let tenantItems: PolicyStatementJson['Condition'];
let platform: PolicyStatementJson['Condition'];

function tenantItemsCondition(): PolicyStatementJson['Condition'] {
  // Placeholder resources: the conditions do not depend on them.
  tenantItems ??= tenantAccessStatements({
    tableArn: 'table',
    indexArn: 'index',
    secretArnPrefix: 'secret',
  }).find((statement) => statement.Sid === 'TenantItems')?.Condition;
  if (!tenantItems) throw new Error('The tenant-access statements lost their item condition');
  return tenantItems;
}

function platformCondition(): PolicyStatementJson['Condition'] {
  platform ??= leadingKeysCondition(
    platformKeyPatterns([
      ...new Set([...Object.values(PLATFORM_KEY_PREFIXES).flat(), ...LOCAL_ONLY_KEY_PREFIXES]),
    ]),
  );
  return platform;
}
