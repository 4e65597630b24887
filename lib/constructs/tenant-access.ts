import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import {
  AccountRootPrincipal,
  Effect,
  type IRole,
  PolicyDocument,
  PolicyStatement,
  Role,
} from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { GSI1 } from '../../lambdas/adapters/dynamodb/table-definition';
import { ENV } from '../../lambdas/composition/env-names';
import { TENANT_SESSION_TAG, tenantAccessStatements } from '../../lambdas/composition/tenant-access-policy';
import type { DataTableResources } from './data-table';
import type { HouseFunction } from './house-function';
import { nagFinding, tenantSecretsPrefix } from './outbound-access';

/** The actions a function needs on the tenant-access role, and nothing else of it. */
export const ASSUME_TENANT_ACTIONS = ['sts:AssumeRole', 'sts:TagSession'] as const;

/** The only form a session's tenant tag may take (composition/tenant-scope.ts `isTenantId`). */
export const TENANT_TAG_PATTERN = 'ten_?*';

export interface TenantAccessProps {
  /** The environment's stage: names the tenants' secret path (`agent-platform/<stage>/tenants/…`). */
  readonly stageName: string;
  /** The table, its index and its key: what a tenant's session may reach, within its own partitions. */
  readonly data: DataTableResources;
  /**
   * How long a tenant session may last. The runtime asks for 15 minutes and renews 5 minutes before
   * expiry; the role's maximum only caps what a caller may ask for.
   * @default Duration.hours(1)
   */
  readonly maxSessionDuration?: Duration;
}

/**
 * The environment's one tenant-access role. A function serving a tenant assumes it with the tenant
 * as session tag (`tenant=<tenantId>`), and the session may then touch only that tenant's items
 * (`dynamodb:LeadingKeys` `T#<tenant>` / `T#<tenant>#*`, table and index) and secrets
 * (`<prefix>/tenants/<tenant>/*`): the policy is lambdas/composition/tenant-access-policy.ts, the
 * very document local mode enforces. Trusted by the account, so a principal may assume it only if
 * its own policy allows it (`grantAssume`): no function's role has to be named here, and no stack
 * depends on the stacks of the functions.
 */
export class TenantAccess extends Construct {
  /** The tenant-access role. */
  public readonly role: Role;
  /** Its ARN, as the functions receive it in TENANT_ACCESS_ROLE_ARN. */
  public readonly roleArn: string;
  /** The ARN pattern of the tenants' secrets as the policy names them (with the session tag variable). */
  public readonly tenantSecretsArn: string;

  constructor(scope: Construct, id: string, props: TenantAccessProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { table, encryptionKey } = props.data;
    const secretArnPrefix = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: tenantSecretsPrefix(props.stageName),
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const statements = tenantAccessStatements({
      tableArn: table.tableArn,
      indexArn: `${table.tableArn}/index/${GSI1}`,
      secretArnPrefix,
      tableKeyArn: encryptionKey.keyArn,
    });
    this.tenantSecretsArn = statements.find((s) => s.Sid === 'TenantSecrets')?.Resource[0] as string;

    this.role = new Role(this, 'Role', {
      description: `Tenant-scoped access (${props.stageName}): assumed with the tenant as session tag, reaches only that tenant's items and secrets`,
      // A session without a well-formed tenant tag is refused at the door (it could reach nothing anyway).
      assumedBy: new AccountRootPrincipal()
        .withConditions({ StringLike: { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: TENANT_TAG_PATTERN } })
        .withSessionTags(),
      maxSessionDuration: props.maxSessionDuration ?? Duration.hours(1),
      inlinePolicies: {
        TenantAccess: new PolicyDocument({
          statements: statements.map((statement) => PolicyStatement.fromJson(statement)),
        }),
      },
    });
    this.roleArn = this.role.roleArn;

    Validations.of(this.role).acknowledge({
      // cdk-nag writes a policy variable `${name}` as `<name>`, as it does CloudFormation references.
      id: `AwsSolutions-IAM5[Resource::${nagFinding(this, this.tenantSecretsArn).replace(/\$\{([^}]+)\}/g, '<$1>')}]`,
      reason:
        'The session tenant’s own secrets only: the path is fixed up to the tenant tag (a policy variable) and the trailing wildcard covers the secret names under it and the random suffix Secrets Manager appends to each.',
    });
  }

  /**
   * Lets a function serve tenants: TENANT_ACCESS_ROLE_ARN, and `sts:AssumeRole` + `sts:TagSession`
   * on this role alone, the session tag required to be a tenant id.
   */
  public grantAssume(fn: Pick<HouseFunction, 'function' | 'role'>): void {
    fn.function.addEnvironment(ENV.TENANT_ACCESS_ROLE_ARN, this.roleArn);
    assumeTenantRole(fn.role, this.roleArn);
  }
}

function assumeTenantRole(role: IRole, roleArn: string): void {
  role.addToPrincipalPolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: [...ASSUME_TENANT_ACTIONS],
      resources: [roleArn],
      conditions: { StringLike: { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: TENANT_TAG_PATTERN } },
    }),
  );
}
