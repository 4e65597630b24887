import { ArnFormat, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Effect, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV, type EnvironmentVariables } from '../../lambdas/composition/env-names';
import {
  PROVISION_DEFINITION,
  PROVISION_STEP_FUNCTION,
} from '../../lambdas/handlers/workflow/provision-definition';
import type { EnvironmentConfig } from '../config';
import type { DataTableResources } from './data-table';
import { HouseFunction } from './house-function';
import { nagFinding, tenantSecretsPrefix } from './outbound-access';
import type { TenantAccess } from './tenant-access';
import { executionAlarms, workflowStateMachine } from './workflow-state-machine';

/** Below every Task's TimeoutSeconds (60 s): Lambda ends a hung step before Step Functions gives up. */
export const PROVISION_STEP_TIMEOUT = Duration.seconds(50);

export function provisioningStateMachineName(stageName: string): string {
  return `agent-platform-${stageName}-provision-agent`;
}

/** Connect actions provisioning takes, all on the one shared instance and its numbers and flows. */
export const CONNECT_PROVISIONING_ACTIONS = [
  'connect:SearchAvailablePhoneNumbers',
  'connect:ClaimPhoneNumber',
  'connect:ReleasePhoneNumber',
  'connect:CreateContactFlow',
  'connect:DeleteContactFlow',
  'connect:AssociatePhoneNumberContactFlow',
  'connect:DisassociatePhoneNumberContactFlow',
] as const;

export const SES_PROVISIONING_ACTIONS = [
  'ses:GetEmailIdentity',
  'ses:CreateEmailIdentity',
  'ses:DeleteEmailIdentity',
] as const;

export interface ProvisioningWorkflowProps {
  readonly config: EnvironmentConfig;
  readonly data: DataTableResources;
  /** Every step runs in the provisioning's tenant scope (its credentials, its secrets). */
  readonly tenantAccess: Pick<TenantAccess, 'grantAssume'>;
  /**
   * The voice channel's Connect instance (the stateful stack's ContactCenter), when the environment
   * has one: numbers are claimed into it. Without it, `outbound.connectInstanceId` (if any). The flow's
   * Lambda, bot and queue come with each provisioning, from the agents Lambda that starts it.
   */
  readonly connectInstanceArn?: string;
}

/**
 * Agent provisioning (DESIGN §3.9): the Standard state machine of
 * statemachines/provision-agent.asl.json — the file local mode runs too — and its one step Lambda.
 * The agents HTTP Lambda starts it (`grantStart`, PROVISIONING_STATE_MACHINE_ARN).
 */
export class ProvisioningWorkflow extends Construct {
  /**
   * What deprovisioning needs in the Lambda that deletes agents (it releases what provisioning
   * made, through the same undos, before the agent goes): the providers' settings.
   */
  public readonly releaseEnvironment: EnvironmentVariables;
  private readonly instanceArn: string | undefined;
  /** What the Connect statements name: the instance and what is under it. */
  private readonly connectResources: readonly string[] = [];
  private readonly sesIdentities: string;
  public readonly stateMachine: StateMachine;
  public readonly logGroup: LogGroup;
  public readonly stepFunction: HouseFunction;
  public readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: ProvisioningWorkflowProps) {
    super(scope, id);
    const { config, data } = props;
    const stack = Stack.of(this);
    const outboundInstance = config.outbound?.connectInstanceId;
    const instanceArn = props.connectInstanceArn
      ? props.connectInstanceArn
      : outboundInstance
        ? stack.formatArn({
            service: 'connect',
            resource: 'instance',
            resourceName: outboundInstance,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          })
        : undefined;
    // Connect's APIs take the instance id; the composition reads it from the ARN's last segment.
    const instanceId = props.connectInstanceArn ? undefined : outboundInstance;

    this.instanceArn = instanceArn;
    if (instanceArn) {
      // A created instance's ARN exists only at deploy time (a token cdk-nag cannot name): then
      // the instances of this account and region, of which the environment has the one.
      const deployTime =
        props.connectInstanceArn !== undefined && Token.isUnresolved(props.connectInstanceArn);
      const scoped = deployTime
        ? stack.formatArn({
            service: 'connect',
            resource: 'instance',
            resourceName: '*',
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          })
        : instanceArn;
      this.connectResources = deployTime ? [scoped] : [instanceArn, `${instanceArn}/*`];
    }
    this.releaseEnvironment = {
      [ENV.OUTBOUND_MODE]: 'live',
      ...(instanceArn ? { [ENV.CONNECT_INSTANCE_ARN]: instanceArn } : {}),
      ...(instanceId ? { [ENV.CONNECT_INSTANCE_ID]: instanceId } : {}),
    };
    this.stepFunction = new HouseFunction(this, 'StepFunction', {
      entry: PROVISION_STEP_FUNCTION.entry,
      description: `Agent provisioning steps and their compensations (${config.stageName})`,
      serviceName: PROVISION_STEP_FUNCTION.name,
      config,
      timeout: PROVISION_STEP_TIMEOUT,
      environment: {
        [ENV.OUTBOUND_MODE]: 'live',
        [ENV.TENANT_SECRETS_PREFIX]: tenantSecretsPrefix(config.stageName),
        ...(config.publicBaseUrl ? { [ENV.PUBLIC_BASE_URL]: config.publicBaseUrl } : {}),
        ...(instanceArn ? { [ENV.CONNECT_INSTANCE_ARN]: instanceArn } : {}),
        ...(instanceId ? { [ENV.CONNECT_INSTANCE_ID]: instanceId } : {}),
        ...(config.email?.receiving ? { [ENV.EMAIL_RECEIVING_DOMAIN]: config.email.receiving.domain } : {}),
      },
      table: { resources: data, access: 'readWrite' },
      tenantAccess: props.tenantAccess,
    });
    const role = this.stepFunction.role;
    const sesIdentities = stack.formatArn({
      service: 'ses',
      resource: 'identity',
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    this.sesIdentities = sesIdentities;
    role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: [...SES_PROVISIONING_ACTIONS],
        resources: [sesIdentities],
      }),
    );
    const wildcards: [string, string][] = [
      [
        sesIdentities,
        'Email channels create or check the SES identity of the mailbox’s domain, which the tenant names at runtime; the actions are Get/Create/DeleteEmailIdentity only.',
      ],
    ];
    if (instanceArn) {
      const instanceResources = this.connectResources[this.connectResources.length - 1] as string;
      const numbers = stack.formatArn({
        service: 'connect',
        resource: 'phone-number',
        resourceName: '*',
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
      role.addToPrincipalPolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: [...CONNECT_PROVISIONING_ACTIONS],
          resources: [...this.connectResources, numbers],
        }),
      );
      wildcards.push(
        [
          instanceResources,
          'Contact flows are created per agent at runtime (their ids do not exist before); limited to the one shared Connect instance.',
        ],
        [
          numbers,
          'Phone numbers are claimed at runtime (their ids do not exist before the claim); the actions are limited to claiming, releasing and associating numbers with flows.',
        ],
      );
    }
    for (const [arn, reason] of wildcards) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagFinding(role, arn)}]`,
        reason,
      });
    }

    const workflow = workflowStateMachine(this, {
      config,
      stateMachineName: provisioningStateMachineName(config.stageName),
      definitionFile: PROVISION_DEFINITION,
      steps: { [PROVISION_STEP_FUNCTION.placeholder]: this.stepFunction },
      stepsDescription: 'the provision step function',
    });
    this.stateMachine = workflow.stateMachine;
    this.logGroup = workflow.logGroup;
    this.alarms = executionAlarms(this, this.stateMachine, {
      failed: `An agent provisioning failed; it was compensated (see its provisioning record, leftBehind lists what an undo could not release) (${config.stageName})`,
      timedOut: `An agent provisioning hit its TimeoutSeconds; what it made may be left behind (${config.stageName})`,
    });
  }

  /**
   * The undos deprovisioning runs (release numbers, delete flows and identities this platform
   * created, disassociate): for the Lambda that deletes agents. Never claim or create.
   */
  public grantRelease(role: IRole): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['ses:DeleteEmailIdentity'],
        resources: [this.sesIdentities],
      }),
    );
    const wildcards = [this.sesIdentities];
    if (this.instanceArn) {
      const stack = Stack.of(this);
      const numbers = stack.formatArn({
        service: 'connect',
        resource: 'phone-number',
        resourceName: '*',
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
      role.addToPrincipalPolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: [
            'connect:ReleasePhoneNumber',
            'connect:DeleteContactFlow',
            'connect:DisassociatePhoneNumberContactFlow',
          ],
          resources: [...this.connectResources, numbers],
        }),
      );
      wildcards.push(this.connectResources[this.connectResources.length - 1] as string, numbers);
    }
    for (const arn of wildcards) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagFinding(role, arn)}]`,
        reason:
          'Deleting an agent releases the numbers, flows and identities its provisioning made, whose ids exist only at runtime; release and delete actions only, on the one Connect instance and the account’s SES identities.',
      });
    }
  }

  /** StartExecution on this machine: for the agents Lambda. */
  public grantStart(role: IRole): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['states:StartExecution'],
        resources: [this.stateMachine.stateMachineArn],
      }),
    );
  }
}
