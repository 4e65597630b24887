import { DynamoAgentRepository } from '../adapters/dynamodb/agent-repository';
import { DynamoChannelSettingsRepository } from '../adapters/dynamodb/channel-settings-repository';
import { DynamoLocationRepository } from '../adapters/dynamodb/location-repository';
import {
  DynamoAgentContextStore,
  DynamoProvisioningRepository,
} from '../adapters/dynamodb/provisioning-repository';
import type {
  ProvisioningDeps,
  ProvisioningProviders,
  ProvisioningWorkflowPort,
  VoiceFlowSettings,
} from '../domain/provisioning/ports';
import type { StartDeps } from '../domain/provisioning/start';
import { logger } from '../observability';
import { channelStores } from './channels';
import { ENV } from './env-names';
import { environmentSlice, loadRuntimeConfig, parseEnvironment } from './environment';
import { localStandIns, requireLocalStandIn } from './stand-ins';
import type { TableClient } from './table';
import { tableClient } from './table';
import { LOCAL_PUBLIC_BASE_URL, telegramWebhooks } from './telegram-webhooks';

/**
 * Provisioning's dependencies (the agents HTTP Lambda starts it, the provision step Lambda runs it):
 *   PROVISIONING_STATE_MACHINE_ARN  set (AWS): Step Functions; unset (local mode, tests): the same
 *                                   ASL file in this process (a stand-in).
 *   OUTBOUND_MODE                   `live`: Connect, Twilio, Slack, Meta and SES for real;
 *                                   `outbox` (local default): local stand-ins that record each call.
 *   CONNECT_INSTANCE_ARN, VOICE_BOT_ALIAS_ARN, VOICE_HUMAN_QUEUE_ARN
 *                                   the voice channel (unset: voice provisioning fails with the reason).
 *   STAGE=local                     a request's `simulate` failures are honoured (nowhere else).
 */

/** Deploy-time ARNs the flow template checks; in local mode, well-formed stand-ins. */
const LOCAL_VOICE_FLOW: VoiceFlowSettings = {
  voiceLambdaArn: 'arn:aws:lambda:us-east-1:000000000000:function:local-voice',
  botAliasArn: 'arn:aws:lex:us-east-1:000000000000:bot-alias/LOCALBOT00/LOCALALIAS',
  humanQueueArn:
    'arn:aws:connect:us-east-1:000000000000:instance/00000000-0000-0000-0000-000000000000/queue/00000000-0000-0000-0000-000000000001',
};

const envSchema = () =>
  environmentSlice(
    ENV.STAGE,
    ENV.AWS_REGION,
    ENV.OUTBOUND_MODE,
    ENV.PUBLIC_BASE_URL,
    ENV.PROVISIONING_STATE_MACHINE_ARN,
    ENV.CONNECT_INSTANCE_ID,
    ENV.CONNECT_INSTANCE_ARN,
    ENV.VOICE_BOT_ALIAS_ARN,
    ENV.VOICE_HUMAN_QUEUE_ARN,
    ENV.VOICE_FUNCTION_ARN,
    ENV.EMAIL_RECEIVING_DOMAIN,
  );

function liveProviders(env: ReturnType<typeof readEnv>): ProvisioningProviders {
  const { ConnectClient } = require('@aws-sdk/client-connect') as typeof import('@aws-sdk/client-connect');
  const { SESv2Client } = require('@aws-sdk/client-sesv2') as typeof import('@aws-sdk/client-sesv2');
  const { ConnectProvisioner } =
    require('../adapters/provisioning/connect-provisioner') as typeof import('../adapters/provisioning/connect-provisioner');
  const { SesProvisioner } =
    require('../adapters/provisioning/ses-provisioner') as typeof import('../adapters/provisioning/ses-provisioner');
  const http =
    require('../adapters/provisioning/http-provisioners') as typeof import('../adapters/provisioning/http-provisioners');
  const instanceArn = env.CONNECT_INSTANCE_ARN ?? '';
  return {
    // One attempt per call: the workflow's Retry backs off (Connect: ~2 calls a second per account).
    voice: new ConnectProvisioner(new ConnectClient({ region: env.AWS_REGION, maxAttempts: 1 }), {
      arn: instanceArn,
      id: env.CONNECT_INSTANCE_ID ?? instanceArn.split('/').pop() ?? '',
    }),
    twilio: new http.TwilioRestProvisioner(),
    slack: new http.SlackApiProvisioner(),
    meta: new http.MetaGraphProvisioner(),
    email: new SesProvisioner(
      new SESv2Client({ region: env.AWS_REGION, maxAttempts: 1 }),
      env.EMAIL_RECEIVING_DOMAIN
        ? { ruleName: 'agent-platform-inbound', recipients: [env.EMAIL_RECEIVING_DOMAIN] }
        : undefined,
    ),
  };
}

const readEnv = (env: NodeJS.ProcessEnv) =>
  parseEnvironment(envSchema(), 'provisioning', env, { emptyIsUnset: true });

export function buildProvisioningDeps(
  options: { client?: TableClient; env?: NodeJS.ProcessEnv } = {},
): ProvisioningDeps {
  const env = readEnv(options.env ?? process.env);
  const config = loadRuntimeConfig();
  const client = options.client ?? tableClient(config);
  const table = config.TABLE_NAME;
  const agents = new DynamoAgentRepository(client, table);
  const stores = channelStores(client, table, options.env ?? process.env);
  const local = env.STAGE === 'local';
  const mode = env.OUTBOUND_MODE ?? (local ? 'outbox' : 'live');
  const providers =
    mode === 'outbox'
      ? requireLocalStandIn('provisioningProviders', 'OUTBOUND_MODE=outbox')()
      : liveProviders(env);
  const voiceFlow: VoiceFlowSettings | undefined =
    env.VOICE_BOT_ALIAS_ARN && env.VOICE_FUNCTION_ARN && env.CONNECT_INSTANCE_ARN
      ? {
          voiceLambdaArn: env.VOICE_FUNCTION_ARN,
          botAliasArn: env.VOICE_BOT_ALIAS_ARN,
          ...(env.VOICE_HUMAN_QUEUE_ARN ? { humanQueueArn: env.VOICE_HUMAN_QUEUE_ARN } : {}),
        }
      : mode === 'outbox'
        ? LOCAL_VOICE_FLOW
        : undefined;
  return {
    agents,
    locations: new DynamoLocationRepository(client, table),
    records: new DynamoProvisioningRepository(client, table),
    channels: {
      agents,
      settings: new DynamoChannelSettingsRepository(agents, client, table),
      directory: stores.directory,
      secrets: stores.secrets,
      telegramWebhooks: telegramWebhooks({ ...(options.env ? { env: options.env } : {}) }),
      log: logger,
    },
    providers,
    context: new DynamoAgentContextStore(client, table),
    publicBaseUrl: env.PUBLIC_BASE_URL ?? (mode === 'outbox' ? LOCAL_PUBLIC_BASE_URL : undefined),
    voiceFlow,
    allowSimulatedFailures: local,
    log: logger,
  };
}

function workflowPort(env: ReturnType<typeof readEnv>): ProvisioningWorkflowPort {
  const arn = env.PROVISIONING_STATE_MACHINE_ARN?.trim();
  if (arn) {
    const { SfnProvisioningWorkflow } =
      require('../adapters/stepfunctions/sfn-provisioning-workflow') as typeof import('../adapters/stepfunctions/sfn-provisioning-workflow');
    return new SfnProvisioningWorkflow(arn, { region: env.AWS_REGION });
  }
  const local = localStandIns();
  if (local) return local.provisioningWorkflow();
  throw new Error('PROVISIONING_STATE_MACHINE_ARN is required in Lambda');
}

let deps: ProvisioningDeps | undefined;
let startDeps: StartDeps | undefined;

/** The step Lambda's dependencies, built on first use. */
export function provisioningDeps(): ProvisioningDeps {
  deps ??= buildProvisioningDeps();
  return deps;
}

/** The HTTP side's: the same, plus the workflow it starts. */
export function provisioningStartDeps(): StartDeps {
  if (!startDeps) {
    const base = provisioningDeps();
    let workflow: ProvisioningWorkflowPort | undefined;
    startDeps = {
      ...base,
      get workflow() {
        workflow ??= workflowPort(readEnv(process.env));
        return workflow;
      },
    };
  }
  return startDeps;
}
