import { CustomResource, Fn, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { CfnContactFlow, CfnPhoneNumber } from 'aws-cdk-lib/aws-connect';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/composition/env-names';
import { contactFlow } from '../../lambdas/domain/voice/contact-flow';
import type { DeclaredAgentConfig, DeclaredTenantConfig, EnvironmentConfig } from '../config';
import type { DataTableResources } from '../constructs/data-table';
import { HouseFunction } from '../constructs/house-function';
import type { TenantAccess } from '../constructs/tenant-access';

export const DECLARED_RECORDS_ENTRY = 'lambdas/handlers/cfn/declared-agent-records.ts';
export const DECLARED_RECORDS_SERVICE = 'declared-agents';
export const DECLARED_RECORDS_RESOURCE_TYPE = 'Custom::DeclaredAgentRecords';
export const DECLARED_TENANT_RESOURCE_TYPE = 'Custom::DeclaredTenantRecords';

/** What a declared agent's flow names: the voice channel's Lambda, bot and queue, on its instance. */
export interface DeclaredVoice {
  readonly instanceArn: string;
  /** The instance's id (its ARN's last segment), which the association calls take. */
  readonly instanceId: string;
  readonly voiceLambdaArn: string;
  readonly botAliasArn: string;
  readonly humanQueueArn?: string;
}

export interface DeclaredTenantStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly tenant: DeclaredTenantConfig;
  readonly data: DataTableResources;
  readonly tenantAccess: Pick<TenantAccess, 'grantAssume' | 'role'>;
  /** The API stack's voice channel (and the stateful stack's instance); required for voice channels. */
  readonly voice?: DeclaredVoice;
}

export function declaredTenantStackName(stageName: string, slug: string): string {
  return `AgentPlatform-${stageName}-Tenant-${slug}`;
}

/**
 * One declared tenant (config `declaredTenants`, README "Declared agents"): the tenant's record (a
 * custom resource, before any agent's), and per agent its records
 * (a custom resource served by this stack's records function, through the same domain code as the
 * API) and, for a voice channel, its contact flow from `contactFlow()`, a claimed phone number, and
 * a custom resource associating the two (Connect has no CloudFormation resource for that).
 * An agent removed from the config has its resources deleted on the next deploy: the association
 * first, then the records (soft-deleted, route released), the number (released) and the flow.
 *
 * The voice ARNs are cross-stack references to the API and stateful stacks (the app's references
 * read the other stack's outputs, `Fn::GetStackOutput`, without export locks) rather than SSM
 * parameters: the values are checked at synth (contactFlow() sees them as the same tokens the voice
 * channel's own flow uses), the stack depends on the API stack so CloudFormation deploys the voice
 * channel before any flow that names it (Connect checks at creation that the flow's Lambda and bot
 * are associated), and a change of an ARN reaches the flows on the same deploy. SSM would add a
 * parameter to keep in step and a read whose staleness the deploy cannot see.
 */
export class DeclaredTenantStack extends Stack {
  public readonly recordsFunction: HouseFunction;
  /** The tenant's record (created or renamed before any agent's, which run in parallel). */
  public readonly tenantRecords: CustomResource;
  /** Per declared agent id, what was made for it. */
  public readonly agents: ReadonlyMap<string, DeclaredAgentResources>;

  constructor(scope: Construct, id: string, props: DeclaredTenantStackProps) {
    // Unindented: the flows make most of the template, which CloudFormation caps at 1 MB.
    super(scope, id, { suppressTemplateIndentation: true, ...props });
    const { config, tenant } = props;
    this.recordsFunction = new HouseFunction(this, 'RecordsFunction', {
      entry: DECLARED_RECORDS_ENTRY,
      description: `Declared agents of tenant ${tenant.slug}: creates, updates and soft-deletes their records (${config.stageName})`,
      serviceName: DECLARED_RECORDS_SERVICE,
      config,
      environment: { [ENV.DECLARED_TENANT_ID]: tenant.id },
      table: { resources: props.data, access: 'readWrite' },
      tenantAccess: props.tenantAccess,
      // CloudFormation invokes it asynchronously; a lost answer is retried (the writes are idempotent).
      asyncInvocation: {},
    });
    // Its scope is this tenant alone, in IAM as well as in code: the tenant-access role may be
    // assumed with no other tenant's session tag.
    this.recordsFunction.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ThisTenantOnly',
        effect: Effect.DENY,
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: [props.tenantAccess.role.roleArn],
        conditions: { StringNotEquals: { 'aws:RequestTag/tenant': tenant.id } },
      }),
    );
    this.tenantRecords = new CustomResource(this, 'TenantRecords', {
      serviceToken: this.recordsFunction.function.functionArn,
      resourceType: DECLARED_TENANT_RESOURCE_TYPE,
      properties: {
        Kind: 'tenant',
        TenantId: tenant.id,
        TenantName: tenant.name,
        TenantSlug: tenant.slug,
        OwnerEmail: tenant.owner.email,
        OwnerName: tenant.owner.name,
      },
    });
    const agents = new Map<string, DeclaredAgentResources>();
    for (const agent of tenant.agents) {
      const resources = new DeclaredAgentResources(this, `Agent${agent.id.slice(4)}`, {
        config,
        tenant,
        agent,
        recordsServiceToken: this.recordsFunction.function.functionArn,
        ...(props.voice ? { voice: props.voice } : {}),
      });
      resources.records.node.addDependency(this.tenantRecords);
      agents.set(agent.id, resources);
    }
    this.agents = agents;
    // AwsCustomResource's one provider Lambda per stack (the associations' SDK calls): its role
    // carries the basic execution policy, which CDK attaches and the construct does not let us swap.
    const provider = this.node.tryFindChild(
      `AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
    );
    const providerRole = provider?.node.tryFindChild('ServiceRole');
    if (providerRole) {
      Validations.of(providerRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'The CDK AwsCustomResource provider (associating each declared number with its flow) is built with the AWS managed basic execution policy: CloudWatch Logs only; its Connect permissions are per association and name the one number and flow.',
      });
    }
  }
}

export interface DeclaredAgentResourcesProps {
  readonly config: EnvironmentConfig;
  readonly tenant: DeclaredTenantConfig;
  readonly agent: DeclaredAgentConfig;
  readonly recordsServiceToken: string;
  readonly voice?: DeclaredVoice;
}

export class DeclaredAgentResources extends Construct {
  public readonly records: CustomResource;
  public readonly contactFlow?: CfnContactFlow;
  public readonly phoneNumber?: CfnPhoneNumber;
  public readonly association?: AwsCustomResource;

  constructor(scope: Construct, id: string, props: DeclaredAgentResourcesProps) {
    super(scope, id);
    const { config, tenant, agent, voice } = props;
    const voiceChannel = agent.channels.find((c) => c.type === 'voice');
    const agentName = String(agent.config.name ?? agent.id);
    if (voiceChannel) {
      if (!voice)
        throw new Error(`declared agent ${agent.id} has a voice channel but the environment has no voice`);
      this.contactFlow = new CfnContactFlow(this, 'Flow', {
        instanceArn: voice.instanceArn,
        name: `agent-platform-${config.stageName}-${tenant.slug}-${agent.id}`,
        description: `Declared agent ${agentName} of ${tenant.name}`.slice(0, 500),
        type: 'CONTACT_FLOW',
        state: 'ACTIVE',
        content: JSON.stringify(
          contactFlow({
            voiceLambdaArn: voice.voiceLambdaArn,
            botAliasArn: voice.botAliasArn,
            ...(voice.humanQueueArn ? { humanQueueArn: voice.humanQueueArn } : {}),
          }),
        ),
      });
      this.phoneNumber = new CfnPhoneNumber(this, 'PhoneNumber', {
        targetArn: voice.instanceArn,
        countryCode: voiceChannel.phoneNumber.countryCode,
        type: voiceChannel.phoneNumber.type,
        description: `Declared agent ${agentName} of ${tenant.name}`.slice(0, 500),
      });
      const numberArn = this.phoneNumber.attrPhoneNumberArn;
      const flowArn = this.contactFlow.attrContactFlowArn;
      // arn:…:instance/<instance id>/contact-flow/<flow id>
      const flowId = Fn.select(3, Fn.split('/', flowArn));
      // The ids the API documents, as the provisioning adapter passes them (arn:…:phone-number/<id>).
      const target = {
        PhoneNumberId: Fn.select(1, Fn.split('/', numberArn)),
        InstanceId: voice.instanceId,
      };
      this.association = new AwsCustomResource(this, 'NumberFlowAssociation', {
        resourceType: 'Custom::PhoneNumberContactFlow',
        installLatestAwsSdk: false,
        onCreate: {
          service: 'Connect',
          action: 'AssociatePhoneNumberContactFlow',
          parameters: { ...target, ContactFlowId: flowId },
          physicalResourceId: PhysicalResourceId.of(numberArn),
        },
        onUpdate: {
          service: 'Connect',
          action: 'AssociatePhoneNumberContactFlow',
          parameters: { ...target, ContactFlowId: flowId },
          physicalResourceId: PhysicalResourceId.of(numberArn),
        },
        onDelete: {
          service: 'Connect',
          action: 'DisassociatePhoneNumberContactFlow',
          parameters: target,
          // A number already released has nothing to disassociate.
          ignoreErrorCodesMatching: 'ResourceNotFoundException',
        },
        // Exactly this number and this flow: no wildcard.
        policy: AwsCustomResourcePolicy.fromStatements([
          new PolicyStatement({
            effect: Effect.ALLOW,
            actions: [
              'connect:AssociatePhoneNumberContactFlow',
              'connect:DisassociatePhoneNumberContactFlow',
            ],
            resources: [numberArn, flowArn],
          }),
        ]),
      });
    }
    const { channels: _ignored, ...agentConfig } = agent.config;
    this.records = new CustomResource(this, 'Records', {
      serviceToken: props.recordsServiceToken,
      resourceType: DECLARED_RECORDS_RESOURCE_TYPE,
      properties: {
        Kind: 'agent',
        TenantId: tenant.id,
        AgentId: agent.id,
        AgentConfig: JSON.stringify(agentConfig),
        ...(this.phoneNumber ? { VoiceNumber: this.phoneNumber.attrAddress } : {}),
      },
    });
    // The agent answers on its number once the number reaches its flow.
    if (this.association) this.records.node.addDependency(this.association);
  }
}
