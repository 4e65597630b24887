import { Stack, type StackProps } from 'aws-cdk-lib';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENV } from '../../lambdas/composition/env-names';
import type { EnvironmentConfig } from '../config';
import type { AlarmNotifications } from '../constructs/alarm-notifications';
import type { ContactCenter } from '../constructs/contact-center';
import type { DataTableResources } from '../constructs/data-table';
import { EmailReceiving } from '../constructs/email-receiving';
import { ExecutionQueue } from '../constructs/execution-queue';
import { houseFunctionsIn } from '../constructs/house-function';
import { PlatformHttpApi } from '../constructs/http-api';
import { InboundQueue } from '../constructs/inbound-queue';
import { Observability } from '../constructs/observability';
import { ReservationHousekeeping } from '../constructs/reservation-housekeeping';
import type { TenantAccess } from '../constructs/tenant-access';
import { VoiceChannel } from '../constructs/voice-channel';
import { PlatformWebSocketApi } from '../constructs/websocket-api';
import type { WorkflowStack } from './workflow-stack';

export interface ApiStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** The stateful stack's table; the API stack only ever receives grants on it. */
  readonly data: DataTableResources;
  /** The stateful stack's tenant-access role, which every function serving a tenant assumes. */
  readonly tenantAccess: Pick<TenantAccess, 'grantAssume'>;
  readonly userPool: IUserPool;
  readonly userPoolClient: IUserPoolClient;
  /** JWT issuer of the user pool's tokens. */
  readonly issuerUrl: string;
  /** The stateful stack's domain event bus. */
  readonly eventBus: IEventBus;
  /** The stateful stack's alarm topic and the operator's topics. */
  readonly notifications: Pick<AlarmNotifications, 'notify'>;
  /** The workflow stack: its approvals, which the decision Lambdas start and resume, and the rows it adds to the dashboard. */
  readonly workflows: WorkflowStack;
  /** The stateful stack's Connect instance and human queue; given exactly when config has `voice`. */
  readonly contactCenter?: Pick<ContactCenter, 'instanceArn' | 'humanQueueArn'>;
}

/**
 * The compute side that may be destroyed and redeployed at any time: HTTP Lambdas and the HTTP
 * API in front of them, the async execution queue and its worker, housekeeping, the dashboard and
 * the alarms on them. Nothing here has a fixed name and a retain policy both, and no state machine
 * lives here (see the workflow stack).
 */
export class ApiStack extends Stack {
  /** The async execution queue, its dead-letter queue and the worker Lambda. */
  public readonly executions: ExecutionQueue;
  /** Customer messages from the channels' webhooks, and the worker that answers them. */
  public readonly inbound: InboundQueue;
  /** Email in through SES, when the environment's config has `email.receiving`. */
  public readonly emailReceiving?: EmailReceiving;
  /** Phone calls (the voice Lambda, the Lex bot, the shared flow), when the config has `voice`. */
  public readonly voice?: VoiceChannel;
  public readonly api: PlatformHttpApi;
  /** The real-time API: WebSocket connections, subscriptions and turns streamed over them. */
  public readonly realtime: PlatformWebSocketApi;
  /** The scheduled release of token reservations whose hold ran out. */
  public readonly housekeeping: ReservationHousekeeping;
  public readonly observability: Observability;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config, workflows } = props;
    const { approvals, billing } = workflows;

    this.executions = new ExecutionQueue(this, 'Executions', {
      config,
      data: props.data,
      eventBus: props.eventBus,
      tenantAccess: props.tenantAccess,
    });

    this.inbound = new InboundQueue(this, 'Inbound', {
      config,
      data: props.data,
      eventBus: props.eventBus,
      approvalWorkflow: approvals,
      tenantAccess: props.tenantAccess,
    });

    const receiving = config.email?.receiving;
    if (receiving) {
      this.emailReceiving = new EmailReceiving(this, 'EmailReceiving', {
        config,
        receiving,
        data: props.data,
        inboundQueue: this.inbound.queue,
      });
    }

    if (config.voice) {
      if (!props.contactCenter) throw new Error('config voice is set but no contact center was given');
      this.voice = new VoiceChannel(this, 'Voice', {
        config,
        voice: config.voice,
        contactCenter: props.contactCenter,
        data: props.data,
        tenantAccess: props.tenantAccess,
        eventBus: props.eventBus,
        approvalWorkflow: approvals,
      });
    }

    this.api = new PlatformHttpApi(this, 'Http', {
      config,
      data: props.data,
      userPool: props.userPool,
      userPoolClient: props.userPoolClient,
      issuerUrl: props.issuerUrl,
      executionQueue: this.executions.queue,
      inboundQueue: this.inbound.queue,
      eventBus: props.eventBus,
      approvalWorkflow: approvals,
      provisioningWorkflow: workflows.provisioning,
      tenantAccess: props.tenantAccess,
    });

    this.realtime = new PlatformWebSocketApi(this, 'Realtime', {
      config,
      data: props.data,
      tenantAccess: props.tenantAccess,
      userPool: props.userPool,
      userPoolClient: props.userPoolClient,
      executionQueue: this.executions.queue,
      eventBus: props.eventBus,
      approvalWorkflow: approvals,
      notifications: props.notifications,
    });
    // Turns and approvals outside the socket (HTTP chat, the queue, a decision) reach subscribers too.
    for (const fn of [
      this.api.functions.runtime,
      this.api.functions.actions,
      this.executions.worker,
      this.inbound.worker,
      // A call's turns show up live in the console like any other conversation's.
      ...(this.voice ? [this.voice.voiceFunction] : []),
    ]) {
      this.realtime.grantPostToConnections(fn);
    }
    // The approval workflow's step Lambda (the workflow stack is deployed before this one) publishes
    // approval_decided on expiry and close: it reads the callback URL from the parameter.
    this.realtime.grantPostToConnectionsByParameter('ApprovalStep', approvals.stepFunction.role);

    this.housekeeping = new ReservationHousekeeping(this, 'ReservationHousekeeping', {
      config,
      data: props.data,
      eventBus: props.eventBus,
      tenantAccess: props.tenantAccess,
    });

    // Every house Lambda of this stack and of the workflows, for the on-failure queue alarms.
    const failedInvocationQueues: Record<string, IQueue> = {};
    for (const fn of [...houseFunctionsIn(this), ...houseFunctionsIn(workflows)]) {
      if (fn.failedInvocations) failedInvocationQueues[fn.serviceName] = fn.failedInvocations;
    }

    this.observability = new Observability(this, 'Observability', {
      stageName: config.stageName,
      httpApi: this.api.httpApi,
      functions: {
        ...Object.fromEntries(Object.entries(this.api.functions).map(([name, fn]) => [name, fn.function])),
        'execution-worker': this.executions.worker.function,
        'inbound-worker': this.inbound.worker.function,
        ...(this.emailReceiving ? { 'email-intake': this.emailReceiving.intake.function } : {}),
        ...(this.voice ? { voice: this.voice.voiceFunction.function } : {}),
        'reservation-housekeeping': this.housekeeping.function.function,
        ...Object.fromEntries(
          Object.entries(this.realtime.functions()).map(([name, fn]) => [name, fn.function]),
        ),
        ...Object.fromEntries(
          Object.entries(workflows.stepFunctions()).map(([name, fn]) => [name, fn.function]),
        ),
      },
      functionsAlarmedElsewhere: Object.keys(workflows.stepFunctions()),
      executionQueue: this.executions,
      inboundQueue: this.inbound,
      failedInvocationQueues,
      table: props.data.table,
      indexNames: props.data.indexNames,
      notifications: props.notifications,
    });

    // Provisioning builds each agent's contact flow with the voice channel's Lambda, bot and queue:
    // the agents Lambda, which starts it, hands them over in the provisioning record (the workflow
    // stack cannot refer to this one).
    if (this.voice) {
      const agents = this.api.functions.agents.function;
      agents.addEnvironment(ENV.VOICE_FUNCTION_ARN, this.voice.voiceFunction.function.functionArn);
      agents.addEnvironment(ENV.VOICE_BOT_ALIAS_ARN, this.voice.botAliasArn);
      if (this.voice.humanQueueArn)
        agents.addEnvironment(ENV.VOICE_HUMAN_QUEUE_ARN, this.voice.humanQueueArn);
    }

    // The workflows' rows join the one dashboard (their alarms live, and notify, in their own stack).
    this.observability.dashboard.addWidgets(...billing.widgets());
    this.observability.dashboard.addWidgets(...approvals.widgets());
  }
}
