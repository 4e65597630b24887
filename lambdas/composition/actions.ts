import { DynamoActionRepository } from '../adapters/dynamodb/action-repository';
import { DynamoAgentRepository } from '../adapters/dynamodb/agent-repository';
import { DynamoApprovalRepository } from '../adapters/dynamodb/approval-repository';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-repository';
import { DynamoBookingRepository } from '../adapters/dynamodb/booking-repository';
import { DynamoChannelConversationStore } from '../adapters/dynamodb/channel-conversation-store';
import { DynamoConversationRepository } from '../adapters/dynamodb/conversation-repository';
import type { TableClient } from '../adapters/dynamodb/document-client';
import { DynamoEmergencyStopRepository } from '../adapters/dynamodb/emergency-stop-repository';
import { DynamoPolicyRepository } from '../adapters/dynamodb/policy-repository';
import { DynamoResourceRepository } from '../adapters/dynamodb/resource-repository';
import { DynamoUserRepository } from '../adapters/dynamodb/user-repository';
import { SfnApprovalWorkflow } from '../adapters/stepfunctions/sfn-approval-workflow';
import { createCoordinatorNotifier } from '../domain/actions/coordinators';
import type { ActionPorts } from '../domain/actions/definition';
import type { ActionDeps } from '../domain/actions/deps';
import type { ApprovalWorkflowPort } from '../domain/approvals/model';
import { logger } from '../observability';
import { billingDeps } from './billing';
import { ENV } from './env-names';
import { environmentSlice, loadRuntimeConfig, parseEnvironment } from './environment';
import { outboundAdapters } from './outbound';
import { localStandIns } from './stand-ins';
import { tableClient } from './table';
import { turnEvents } from './turn-events';

/**
 * The decision engine's dependencies, built once per process on first use, for every entry point
 * that decides, runs or closes actions: the runtime Lambda (chat, process), the actions Lambda
 * (suggestions, approvals, emergency stop) and the approval workflow's step Lambda.
 *   APPROVAL_STATE_MACHINE_ARN  set (AWS): approvals run on Step Functions; unset (local mode,
 *                               tests): the same ASL file runs in this process.
 *   OUTBOUND_MODE               `live` (AWS): Twilio, SES, Connect with the tenants' secrets;
 *                               `outbox` (local default): everything lands in the local outbox.
 */
let deps: ActionDeps | undefined;

export function actionDeps(client?: TableClient): ActionDeps {
  deps ??= build(client);
  return deps;
}

function approvalWorkflow(region: string): ApprovalWorkflowPort {
  const arn = parseEnvironment(
    environmentSlice(ENV.APPROVAL_STATE_MACHINE_ARN),
    'approval workflow',
  ).APPROVAL_STATE_MACHINE_ARN?.trim();
  if (arn) return new SfnApprovalWorkflow(arn, { region });
  // Local mode and tests: the same ASL file run in this process, given by local mode
  // (composition/stand-ins.ts); a Lambda has no stand-ins, so there the ARN is required.
  const local = localStandIns();
  if (local) return local.approvalWorkflow();
  throw new Error('APPROVAL_STATE_MACHINE_ARN is required in Lambda');
}

function build(shared: TableClient | undefined): ActionDeps {
  const config = loadRuntimeConfig();
  const billing = billingDeps(shared);
  const client = shared ?? tableClient(config);
  const table = config.TABLE_NAME;
  const users = new DynamoUserRepository(client, table);
  const outbound = outboundAdapters();
  const now = () => new Date();
  const ports: ActionPorts = {
    messaging: outbound.messaging,
    email: outbound.email,
    voice: outbound.voice,
    payments: outbound.payments,
    resources: new DynamoResourceRepository(client, table),
    bookings: new DynamoBookingRepository(client, table),
    conversations: new DynamoConversationRepository(client, table),
    coordinators: createCoordinatorNotifier({ users, email: outbound.email, events: billing.events, now }),
    events: billing.events,
    turnEvents,
    optOuts: new DynamoChannelConversationStore(client, table),
  };
  let workflow: ApprovalWorkflowPort | undefined;
  return {
    actions: new DynamoActionRepository(client, table),
    approvals: new DynamoApprovalRepository(client, table),
    policies: new DynamoPolicyRepository(client, table),
    stops: new DynamoEmergencyStopRepository(client, table),
    audit: new DynamoAuditLog(client, table),
    agents: new DynamoAgentRepository(client, table),
    users,
    billing,
    ports,
    // Built on first use: most requests never start or resume an approval.
    get workflow() {
      workflow ??= approvalWorkflow(config.AWS_REGION);
      return workflow;
    },
    now,
    turnEvents,
    log: { error: (message, extra) => logger.error(message, extra) },
  };
}
