import { createHash } from 'node:crypto';
import { ArnFormat, CfnOutput, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import { CfnContactFlow, CfnIntegrationAssociation } from 'aws-cdk-lib/aws-connect';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Effect, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnBot, CfnBotAlias, CfnBotVersion } from 'aws-cdk-lib/aws-lex';
import { Construct } from 'constructs';
import { ENV, type EnvironmentVariables } from '../../lambdas/composition/env-names';
import {
  contactFlow,
  DEFAULT_GOODBYE_INTENT,
  DEFAULT_TRANSFER_INTENT,
} from '../../lambdas/domain/voice/contact-flow';
import type { EnvironmentConfig, VoiceConfig, VoiceLanguage } from '../config';
import type { ApprovalWorkflow } from './approval-workflow';
import { grantChatModels, grantTitanEmbeddings } from './bedrock-access';
import type { DataTableResources } from './data-table';
import { HouseFunction } from './house-function';
import { grantOutbound, outboundEnvironment } from './outbound-access';
import type { TenantAccess } from './tenant-access';

export const VOICE_ENTRY = 'lambdas/handlers/voice/voice.ts';
export const VOICE_SERVICE = 'voice';
/** The alias Connect talks to; the flows name its ARN. */
export const VOICE_BOT_ALIAS_NAME = 'live';
/**
 * The voice Lambda serves three kinds of invocation: the flow's synchronous blocks (≤ 8 s), the Lex
 * code hook (answers within its ~1.8 s budget) and its own asynchronous continuation of a slow
 * turn, which runs under the turn's deadline. The timeout is the continuation's ceiling.
 */
export const VOICE_FUNCTION_TIMEOUT = Duration.seconds(60);

/** The fixed name of the voice Lambda, from which its own ARN is built (see {@link HouseFunction}'s `functionName`). */
export function voiceFunctionName(stageName: string): string {
  return `agent-platform-${stageName}-voice`;
}

/**
 * What a caller says to reach a person or to hang up, by language (the locale's first two letters).
 * DTMF 0 reaches Lex as the text "0". A language without its own words gets the English ones
 * beside the digit.
 */
export const INTENT_UTTERANCES: Readonly<
  Record<string, { readonly transfer: readonly string[]; readonly goodbye: readonly string[] }>
> = {
  en: {
    transfer: [
      '0',
      'zero',
      'a person',
      'human',
      'agent',
      'representative',
      'speak to someone',
      'talk to a person',
      'I want to speak to a human',
      'operator',
    ],
    goodbye: ['bye', 'goodbye', "that's all", 'that is all', 'nothing else', 'hang up', 'bye bye'],
  },
  es: {
    transfer: [
      '0',
      'cero',
      'una persona',
      'humano',
      'agente',
      'representante',
      'hablar con alguien',
      'operador',
    ],
    goodbye: ['adiós', 'chao', 'eso es todo', 'nada más', 'hasta luego'],
  },
  fr: {
    transfer: [
      '0',
      'zéro',
      'une personne',
      'humain',
      'agent',
      'conseiller',
      'parler à quelqu’un',
      'opérateur',
    ],
    goodbye: ['au revoir', 'c’est tout', 'rien d’autre', 'bonne journée'],
  },
  de: {
    transfer: ['0', 'null', 'eine Person', 'Mensch', 'Mitarbeiter', 'mit jemandem sprechen', 'Vermittlung'],
    goodbye: ['tschüss', 'auf Wiederhören', 'das ist alles', 'nichts weiter'],
  },
  it: {
    transfer: ['0', 'zero', 'una persona', 'operatore', 'parlare con qualcuno'],
    goodbye: ['arrivederci', 'ciao', 'è tutto'],
  },
  pt: {
    transfer: ['0', 'zero', 'uma pessoa', 'atendente', 'falar com alguém'],
    goodbye: ['tchau', 'adeus', 'é só isso'],
  },
};

/** One bot locale: the transfer and goodbye intents (closed by Lex, seen by the flow) and the fallback (the code hook). */
export function botLocale(language: VoiceLanguage): CfnBot.BotLocaleProperty {
  const words = INTENT_UTTERANCES[language.localeId.slice(0, 2)] ?? INTENT_UTTERANCES.en;
  const utterances = (list: readonly string[] | undefined) =>
    (list ?? []).map((utterance) => ({ utterance }));
  return {
    localeId: language.localeId,
    // Below this, an utterance goes to the FallbackIntent: the agent, which understands far more.
    nluConfidenceThreshold: 0.6,
    voiceSettings: { voiceId: language.voiceId },
    intents: [
      {
        name: DEFAULT_TRANSFER_INTENT,
        description: 'The caller asks for a person (or presses 0): the flow transfers to the human queue',
        sampleUtterances: utterances(words?.transfer),
      },
      {
        name: DEFAULT_GOODBYE_INTENT,
        description: 'The caller is done: the flow says goodbye and hangs up',
        sampleUtterances: utterances(words?.goodbye),
      },
      {
        name: 'FallbackIntent',
        description: 'Everything else: the agent answers through the voice Lambda (fulfillment code hook)',
        parentIntentSignature: 'AMAZON.FallbackIntent',
        fulfillmentCodeHook: { enabled: true },
      },
    ],
  };
}

export interface VoiceChannelProps {
  /** Stage, Lambda defaults, token costs and turn limits (the voice turn is a runtime turn). */
  readonly config: EnvironmentConfig;
  /** The environment's `voice` block: the bot's languages. */
  readonly voice: VoiceConfig;
  /** The contact center (lib/constructs/contact-center.ts, stateful stack): its instance and human queue. */
  readonly contactCenter: { readonly instanceArn: string; readonly humanQueueArn?: string };
  /** The data table: the voice Lambda's own role reaches its platform keys (`CHADDR#`) only. */
  readonly data: DataTableResources;
  /** The tenant-access role: each call runs with its tenant's credentials. */
  readonly tenantAccess: Pick<TenantAccess, 'grantAssume'>;
  /** Where the voice Lambda publishes the billing events of calls and turns. */
  readonly eventBus: IEventBus;
  /** The decision engine starts approvals for actions an agent proposes during a call. */
  readonly approvalWorkflow: Pick<ApprovalWorkflow, 'stateMachine' | 'grantStart'>;
}

/**
 * Phone calls for every agent of the environment, with ONE of each (Connect allows 50 Lambdas per
 * instance and about 2 API calls per second): the voice Lambda, a Lex V2 bot (a locale per
 * configured language: a transfer intent, a goodbye intent, and the FallbackIntent whose fulfillment
 * code hook is the voice Lambda), its version and alias, the instance's integration associations for
 * both, the invoke permissions for Lex (this bot alias) and Connect (this instance), and the shared
 * contact flow built by `contactFlow()` (lambdas/domain/voice/contact-flow.ts).
 *
 * Why the code hook AND a flow Lambda block: README, "Voice".
 */
export class VoiceChannel extends Construct {
  public readonly instanceArn: string;
  /** The Lex bot alias Connect talks to (`VOICE_BOT_ALIAS_ARN` of the functions that build flows). */
  public readonly botAliasArn: string;
  /** Where escalated callers go; undefined without a human queue. */
  public readonly humanQueueArn?: string;
  public readonly voiceFunction: HouseFunction;
  /** The shared flow's id (the last segment of its ARN): numbers claimed by hand can be pointed at it. */
  public readonly sharedContactFlowId: string;
  public readonly sharedContactFlowArn: string;
  public readonly bot: CfnBot;
  public readonly botAlias: CfnBotAlias;
  public readonly sharedContactFlow: CfnContactFlow;

  constructor(scope: Construct, id: string, props: VoiceChannelProps) {
    super(scope, id);
    const { config, voice } = props;
    const stack = Stack.of(this);
    this.instanceArn = props.contactCenter.instanceArn;
    this.humanQueueArn = props.contactCenter.humanQueueArn;

    const functionName = voiceFunctionName(config.stageName);
    // Built from the fixed name: the function's own ARN attribute in its environment (or its own
    // policy) would make the function depend on itself.
    const ownArn = stack.formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: functionName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const environment: EnvironmentVariables = {
      [ENV.VOICE_FUNCTION_ARN]: ownArn,
      [ENV.CONNECT_INSTANCE_ARN]: this.instanceArn,
      ...(this.humanQueueArn ? { [ENV.VOICE_HUMAN_QUEUE_ARN]: this.humanQueueArn } : {}),
      // The same runtime as every other channel's turn.
      [ENV.EMBEDDER]: 'titan',
      [ENV.TOKEN_COSTS]: JSON.stringify(config.tokenCosts),
      [ENV.TURN_RATE_LIMITS]: JSON.stringify(config.turnRateLimits),
      [ENV.EVENT_BUS_NAME]: props.eventBus.eventBusName,
      [ENV.APPROVAL_STATE_MACHINE_ARN]: props.approvalWorkflow.stateMachine.stateMachineArn,
      ...outboundEnvironment(config),
      ...(config.publicBaseUrl ? { [ENV.PUBLIC_BASE_URL]: config.publicBaseUrl } : {}),
    };
    this.voiceFunction = new HouseFunction(this, 'Function', {
      entry: VOICE_ENTRY,
      description: `Phone calls: starts calls, answers the Lex code hook, runs slow turns asynchronously (${config.stageName})`,
      serviceName: VOICE_SERVICE,
      functionName,
      config,
      timeout: VOICE_FUNCTION_TIMEOUT,
      environment,
      table: { resources: props.data, access: 'readWrite' },
      tenantAccess: props.tenantAccess,
      // The slow turn's continuation: a retry would come after the caller's wait is over, and the
      // turn records its own failure; what fails anyway lands in the alarmed queue.
      asyncInvocation: { retryAttempts: 0, maxEventAge: Duration.minutes(1) },
    });
    const fn = this.voiceFunction.function;
    grantTitanEmbeddings(this.voiceFunction.role);
    grantChatModels(this.voiceFunction.role);
    props.eventBus.grantPutEventsTo(this.voiceFunction.role);
    grantOutbound(this.voiceFunction.role, config);
    props.approvalWorkflow.grantStart(this.voiceFunction.role);
    this.voiceFunction.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ContinueSlowTurn',
        effect: Effect.ALLOW,
        actions: ['lambda:InvokeFunction'],
        resources: [ownArn],
      }),
    );

    // The bot: Lex needs a role for Polly (its locales' voices); everything else it does is its own.
    const botRole = new Role(this, 'BotRole', {
      assumedBy: new ServicePrincipal('lexv2.amazonaws.com'),
      description: `Runtime role of the voice agents' Lex bot (${config.stageName})`,
      inlinePolicies: {
        Speech: new PolicyDocument({
          statements: [
            new PolicyStatement({
              effect: Effect.ALLOW,
              actions: ['polly:SynthesizeSpeech'],
              resources: ['*'],
            }),
          ],
        }),
      },
    });
    const locales = voice.languages.map(botLocale);
    this.bot = new CfnBot(this, 'Bot', {
      name: `agent-platform-${config.stageName}-voice`,
      description: 'The voice agents’ shared bot: speech recognition, barge-in and DTMF for every call',
      roleArn: botRole.roleArn,
      // The callers are a business's customers, not a service directed at children (COPPA).
      dataPrivacy: { ChildDirected: false },
      idleSessionTtlInSeconds: 600,
      autoBuildBotLocales: true,
      botLocales: locales,
    });
    // A version is a snapshot of the draft: a changed definition needs a new one, so the definition's
    // hash is in its id (CloudFormation creates the new version, moves the alias, deletes the old).
    const definitionHash = createHash('sha256').update(JSON.stringify(locales)).digest('hex').slice(0, 12);
    const version = new CfnBotVersion(this, `BotVersion${definitionHash}`, {
      botId: this.bot.attrId,
      description: `Definition ${definitionHash}`,
      botVersionLocaleSpecification: voice.languages.map((language) => ({
        localeId: language.localeId,
        botVersionLocaleDetails: { sourceBotVersion: 'DRAFT' },
      })),
    });
    this.botAlias = new CfnBotAlias(this, 'BotAlias', {
      botId: this.bot.attrId,
      botAliasName: VOICE_BOT_ALIAS_NAME,
      botVersion: version.attrBotVersion,
      description: 'What Connect talks to: the current version, its code hook the voice Lambda',
      botAliasLocaleSettings: voice.languages.map((language) => ({
        localeId: language.localeId,
        botAliasLocaleSetting: {
          enabled: true,
          codeHookSpecification: {
            lambdaCodeHook: { codeHookInterfaceVersion: '1.0', lambdaArn: fn.functionArn },
          },
        },
      })),
    });
    this.botAliasArn = this.botAlias.attrArn;

    // Who may invoke the voice Lambda: this bot alias (the code hook), and this instance (the flows).
    fn.addPermission('InvokeByLexBotAlias', {
      principal: new ServicePrincipal('lexv2.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceAccount: stack.account,
      sourceArn: this.botAliasArn,
    });
    fn.addPermission('InvokeByConnectInstance', {
      principal: new ServicePrincipal('connect.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      sourceAccount: stack.account,
      sourceArn: this.instanceArn,
    });

    // The instance may use both (the flows name them); associating the bot also lets Connect call it.
    const botAssociation = new CfnIntegrationAssociation(this, 'BotAssociation', {
      instanceId: this.instanceArn,
      integrationType: 'LEX_BOT',
      integrationArn: this.botAliasArn,
    });
    const functionAssociation = new CfnIntegrationAssociation(this, 'FunctionAssociation', {
      instanceId: this.instanceArn,
      integrationType: 'LAMBDA_FUNCTION',
      integrationArn: fn.functionArn,
    });

    this.sharedContactFlow = new CfnContactFlow(this, 'SharedFlow', {
      instanceArn: this.instanceArn,
      name: `agent-platform-${config.stageName}-voice-agent`,
      description:
        'The voice agents’ flow: start-call, the bot turn loop, pending answers, transfer, goodbye',
      type: 'CONTACT_FLOW',
      state: 'ACTIVE',
      content: JSON.stringify(
        contactFlow({
          voiceLambdaArn: fn.functionArn,
          botAliasArn: this.botAliasArn,
          ...(this.humanQueueArn ? { humanQueueArn: this.humanQueueArn } : {}),
        }),
      ),
    });
    // Connect checks at creation that the flow's bot and Lambda are associated with the instance.
    this.sharedContactFlow.addResourceDependency(botAssociation);
    this.sharedContactFlow.addResourceDependency(functionAssociation);
    this.sharedContactFlowArn = this.sharedContactFlow.attrContactFlowArn;
    // arn:…:instance/<instance id>/contact-flow/<flow id>
    this.sharedContactFlowId = Fn.select(3, Fn.split('/', this.sharedContactFlowArn));

    new CfnOutput(this, 'BotAliasArn', {
      description: 'The voice bot alias (contact flows name it)',
      value: this.botAliasArn,
    });
    new CfnOutput(this, 'SharedContactFlowId', {
      description: 'The shared voice-agent flow: point a claimed number at it, or at a provisioned one',
      value: this.sharedContactFlowId,
    });

    Validations.of(botRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'polly:SynthesizeSpeech is the bot role’s only action, and speech synthesis without a lexicon has no resource to name (Polly’s only resource type is a lexicon).',
    });
  }
}
