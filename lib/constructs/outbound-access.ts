import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { Effect, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { ENV, type EnvironmentVariables } from '../../lambdas/composition/env-names';
import type { EnvironmentConfig } from '../config';

/**
 * What a Lambda that runs outbound actions live (lambdas/composition/outbound.ts, OUTBOUND_MODE=live)
 * is told and may do: send email through SES, start outbound calls on the shared Connect instance,
 * and read the tenants' provider secrets (Twilio, SES senders, ...). Used for every Lambda that
 * executes actions: the HTTP Lambdas whose HTTP_LAMBDAS entry sets `outbound`, and the approval
 * workflow's step Lambda.
 */

/** Where the tenants' provider secrets live: `agent-platform/<stage>/tenants/<tenantId>/<provider>`. */
export function tenantSecretsPrefix(stageName: string): string {
  return `agent-platform/${stageName}`;
}

/** The outbound adapters' variables (lambdas/composition/outbound.ts reads them). */
export function outboundEnvironment(config: EnvironmentConfig): EnvironmentVariables {
  const outbound = config.outbound ?? {};
  return {
    [ENV.OUTBOUND_MODE]: 'live',
    [ENV.TENANT_SECRETS_PREFIX]: tenantSecretsPrefix(config.stageName),
    ...(outbound.sesFromAddress ? { [ENV.SES_FROM_ADDRESS]: outbound.sesFromAddress } : {}),
    ...(outbound.connectInstanceId ? { [ENV.CONNECT_INSTANCE_ID]: outbound.connectInstanceId } : {}),
    ...(outbound.connectContactFlowId
      ? { [ENV.CONNECT_CONTACT_FLOW_ID]: outbound.connectContactFlowId }
      : {}),
    ...(outbound.connectSourcePhoneNumber
      ? { [ENV.CONNECT_SOURCE_PHONE_NUMBER]: outbound.connectSourcePhoneNumber }
      : {}),
  };
}

/** The ARN patterns of the outbound statements; the infra tests and the acknowledgements use them. */
export interface OutboundResources {
  /** SES identities (addresses and domains) of the account, in the stack's region. */
  readonly sesIdentities: string;
  /** The tenants' provider secrets of this stage (Secrets Manager appends a random suffix to each name). */
  readonly tenantSecrets: string;
  /** Contacts of the configured Connect instance; absent without one (calls are then refused). */
  readonly connectContacts?: string;
}

export function outboundResources(scope: IConstruct, config: EnvironmentConfig): OutboundResources {
  const stack = Stack.of(scope);
  const instanceId = config.outbound?.connectInstanceId;
  return {
    sesIdentities: stack.formatArn({
      service: 'ses',
      resource: 'identity',
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    }),
    tenantSecrets: stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${tenantSecretsPrefix(config.stageName)}/tenants/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
    ...(instanceId
      ? {
          connectContacts: stack.formatArn({
            service: 'connect',
            resource: 'instance',
            resourceName: `${instanceId}/contact/*`,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        }
      : {}),
  };
}

/**
 * Adds the outbound statements to a role and acknowledges cdk-nag's IAM5 for exactly their
 * wildcard resources (one acknowledgement per ARN pattern, so any other wildcard is still reported).
 */
export function grantOutbound(role: IRole, config: EnvironmentConfig): void {
  const arns = outboundResources(role, config);
  role.addToPrincipalPolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['ses:SendEmail'],
      resources: [arns.sesIdentities],
    }),
  );
  role.addToPrincipalPolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['secretsmanager:GetSecretValue'],
      resources: [arns.tenantSecrets],
    }),
  );
  if (arns.connectContacts) {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['connect:StartOutboundVoiceContact'],
        resources: [arns.connectContacts],
      }),
    );
  }
  const reasons: Record<keyof OutboundResources, string> = {
    sesIdentities:
      'Email actions send from the platform sender or from a tenant’s own verified identity, chosen at runtime, so ses:SendEmail covers the account’s SES identities in the stack region; the action is SendEmail only.',
    tenantSecrets:
      'Each tenant’s provider credentials are a secret named agent-platform/<stage>/tenants/<tenantId>/<provider>, created when the tenant connects a provider; GetSecretValue is limited to this stage’s tenant secrets (the wildcard also covers the random suffix Secrets Manager appends).',
    connectContacts:
      'StartOutboundVoiceContact authorizes on the contact it creates, whose id does not exist before the call; the statement is limited to contacts of the configured Connect instance.',
  };
  for (const key of Object.keys(reasons) as (keyof OutboundResources)[]) {
    const arn = arns[key];
    if (!arn) continue;
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagFinding(role, arn)}]`,
      reason: reasons[key],
    });
  }
}

/**
 * The ARN as cdk-nag names it in a finding (as in bedrock-access.ts): the resolved value flattened
 * to one string, `<AWS::Partition>` for `{ Ref: 'AWS::Partition' }`. Anything else throws rather
 * than acknowledging a finding that does not exist.
 */
function nagFinding(scope: IConstruct, arn: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') return node;
    if (typeof node === 'object' && node !== null) {
      if ('Fn::Join' in node) {
        const [delimiter, items] = (node as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
        return items.map(visit).join(delimiter);
      }
      if ('Ref' in node) return `<${String((node as { Ref: unknown }).Ref)}>`;
    }
    throw new Error(`Cannot name the cdk-nag finding for ${JSON.stringify(node)}`);
  };
  return visit(Stack.of(scope).resolve(arn));
}

/**
 * Read access to the agents' channel credentials only (`<prefix>/tenants/<tenantId>/channels/...`):
 * the webhooks Lambda checks providers' signatures with them. Acknowledges cdk-nag's IAM5 for
 * exactly that pattern.
 */
export function grantChannelSecrets(
  role: IRole,
  config: EnvironmentConfig,
  options: { readonly write?: boolean } = {},
): void {
  const arn = Stack.of(role).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${tenantSecretsPrefix(config.stageName)}/tenants/*/channels/*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  role.addToPrincipalPolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      // Channel settings create, change, restore and delete them; everyone else only reads.
      actions: options.write
        ? [
            'secretsmanager:GetSecretValue',
            'secretsmanager:CreateSecret',
            'secretsmanager:PutSecretValue',
            'secretsmanager:DescribeSecret',
            'secretsmanager:DeleteSecret',
            'secretsmanager:RestoreSecret',
            'secretsmanager:TagResource',
          ]
        : ['secretsmanager:GetSecretValue'],
      resources: [arn],
    }),
  );
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagFinding(role, arn)}]`,
    reason:
      'Each agent’s channel credentials are a secret named agent-platform/<stage>/tenants/<tenantId>/channels/<agentId>/<channel>, created when the channel is configured; the webhooks read them (GetSecretValue only) to check a provider’s signature before the tenant is otherwise known.',
  });
}
