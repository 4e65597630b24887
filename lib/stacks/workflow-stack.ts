import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config';
import type { AlarmNotifications } from '../constructs/alarm-notifications';
import { ApprovalWorkflow } from '../constructs/approval-workflow';
import { BillingWorkflow } from '../constructs/billing-workflow';
import type { ContactCenter } from '../constructs/contact-center';
import type { DataTableResources } from '../constructs/data-table';
import type { HouseFunction } from '../constructs/house-function';
import { functionErrorsAlarm } from '../constructs/observability';
import { ProvisioningWorkflow } from '../constructs/provisioning-workflow';
import type { TenantAccess } from '../constructs/tenant-access';

export interface WorkflowStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly data: DataTableResources;
  /** The stateful stack's tenant-access role, which the steps serving a tenant assume. */
  readonly tenantAccess: Pick<TenantAccess, 'grantAssume'>;
  /** The stateful stack's domain event bus. */
  readonly eventBus: IEventBus;
  /** The stateful stack's alarm topic and the operator's topics. */
  readonly notifications: Pick<AlarmNotifications, 'notify'>;
  /** The stateful stack's Connect instance, when config has `voice`: provisioning claims numbers into it. */
  readonly contactCenter?: Pick<ContactCenter, 'instanceArn'>;
}

/**
 * The state machines and what they own: the approval workflow (whose executions wait up to 23 h
 * for a decision) and the monthly billing run, with their step Lambdas, their named and retained
 * log groups, the billing schedule and the workflows' own alarms. Kept out of the API stack so that
 * destroying and redeploying the HTTP side neither kills a waiting approval nor collides with a
 * retained log group; the API stack references these machines, never the other way round.
 */
export class WorkflowStack extends Stack {
  /** Action approvals: state machine, its log group and its step Lambda. */
  public readonly approvals: ApprovalWorkflow;
  /** The monthly fee run: state machine, step Lambdas, schedule. */
  public readonly billing: BillingWorkflow;
  /** Agent provisioning: state machine, its log group and its step Lambda. */
  public readonly provisioning: ProvisioningWorkflow;
  /** The workflows' alarms: executions failed or timed out, the schedule dropped, step Lambda errors. */
  public readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: WorkflowStackProps) {
    // Deleting this stack ends every waiting approval: protected wherever the data is.
    super(scope, id, { ...props, terminationProtection: props.config.deletionProtection });
    const { config, data, eventBus, tenantAccess } = props;

    this.approvals = new ApprovalWorkflow(this, 'Approvals', { config, data, eventBus, tenantAccess });
    this.billing = new BillingWorkflow(this, 'MonthlyBilling', { config, data, eventBus, tenantAccess });
    this.provisioning = new ProvisioningWorkflow(this, 'Provisioning', {
      config,
      data,
      tenantAccess,
      ...(props.contactCenter ? { connectInstanceArn: props.contactCenter.instanceArn } : {}),
    });
    // The step Lambdas' error alarms live beside them, so the workflows stay watched while the
    // API stack (whose dashboard still shows them) is away.
    const stepErrors = Object.entries(this.stepFunctions()).map(([name, fn]) =>
      functionErrorsAlarm(this, name, fn.function, config.stageName),
    );
    this.alarms = [
      ...this.billing.alarms,
      ...this.approvals.alarms,
      ...this.provisioning.alarms,
      ...stepErrors,
    ];
    props.notifications.notify(this.alarms);
  }

  /** The step Lambdas by display name (`approval-step`, `billing-<step>`), as the dashboard shows them. */
  public stepFunctions(): Record<string, HouseFunction> {
    return {
      'approval-step': this.approvals.stepFunction,
      'provision-step': this.provisioning.stepFunction,
      ...Object.fromEntries(
        Object.entries(this.billing.functions).map(([name, fn]) => [`billing-${name}`, fn]),
      ),
    };
  }
}
