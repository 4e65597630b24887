import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { Effect, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { TITAN_EMBEDDING_MODEL_ID } from '../../lambdas/composition/embedders';

/** Converse (and Titan embeddings) authorize as `bedrock:InvokeModel`. */
export const MODEL_INVOKE_ACTION = 'bedrock:InvokeModel';
/** ConverseStream (a chat turn streaming its reply to watchers) authorizes as this. */
export const MODEL_STREAM_ACTION = 'bedrock:InvokeModelWithResponseStream';
/** What a chat-model call may be: whole or streamed. */
const CHAT_MODEL_ACTIONS = [MODEL_INVOKE_ACTION, MODEL_STREAM_ACTION];
/** Converse with a `guardrailConfig` also authorizes the guardrail under this action. */
export const APPLY_GUARDRAIL_ACTION = 'bedrock:ApplyGuardrail';

/** The Titan embedding model in the stack's region (foundation models have no account in their ARN). */
export function titanEmbeddingModelArn(scope: IConstruct): string {
  return bedrockArn(scope, {
    account: '',
    resource: 'foundation-model',
    resourceName: TITAN_EMBEDDING_MODEL_ID,
  });
}

/**
 * What a Lambda that embeds text with Titan may call: that one model, in the stack's region. Its
 * environment must also say EMBEDDER=titan; that is the caller's, since the role has no function.
 */
export function grantTitanEmbeddings(role: IRole): void {
  role.addToPrincipalPolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: [MODEL_INVOKE_ACTION],
      resources: [titanEmbeddingModelArn(role)],
    }),
  );
}

/** The ARN patterns of the chat-model statements; the infra tests and the acknowledgement use them. */
export interface ChatModelResources {
  /** Foundation models invoked by model id (`anthropic.claude-…`), in the stack's region. */
  readonly foundationModels: string;
  /** System-defined (cross-region) inference profiles (`eu.…`, `us.…`, `global.…`) of this account. */
  readonly inferenceProfiles: string;
  /** Foundation models in whatever region an inference profile routes a request to. */
  readonly destinationFoundationModels: string;
  /** Guardrails of this account, in the stack's region. */
  readonly guardrails: string;
}

export function chatModelResources(scope: IConstruct): ChatModelResources {
  return {
    foundationModels: bedrockArn(scope, { account: '', resource: 'foundation-model', resourceName: '*' }),
    inferenceProfiles: bedrockArn(scope, { resource: 'inference-profile', resourceName: '*' }),
    destinationFoundationModels: bedrockArn(scope, {
      region: '*',
      account: '',
      resource: 'foundation-model',
      resourceName: '*',
    }),
    guardrails: bedrockArn(scope, { resource: 'guardrail', resourceName: '*' }),
  };
}

/**
 * What a Lambda that calls chat models through Bedrock Converse may do. The model is chosen per
 * agent at runtime (agents store a model id or an inference profile id), so the resources are
 * wildcards over the *kind* of resource, never over the service or the action.
 *
 * Bedrock is called in the stack's region: the Lambdas leave BEDROCK_REGION unset. A deployment
 * that set it would have to build these statements for that region instead.
 *
 * Cross-region inference: Bedrock authorizes a request made through an inference profile twice,
 * on the profile in the source region and on the foundation model in the destination region it
 * routes to (any region of the profile's geography, or any commercial region for `global.`
 * profiles, whose model ARN has an empty region). Many current models are offered in a region
 * only through such profiles, so without `arn:…:bedrock:*::foundation-model/*` those agents would
 * fail with AccessDenied whenever the request lands outside the stack's region. That statement is
 * limited by `bedrock:InferenceProfileArn` to requests made through one of this account's
 * inference profiles in the stack's region: the role can reach another region's models only the
 * way a profile routes to them, never by calling that region directly.
 */
export function chatModelStatements(scope: IConstruct): PolicyStatement[] {
  const arns = chatModelResources(scope);
  return [
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: CHAT_MODEL_ACTIONS,
      resources: [arns.foundationModels, arns.inferenceProfiles],
    }),
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: CHAT_MODEL_ACTIONS,
      resources: [arns.destinationFoundationModels],
      conditions: { StringLike: { 'bedrock:InferenceProfileArn': arns.inferenceProfiles } },
    }),
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: [APPLY_GUARDRAIL_ACTION],
      resources: [arns.guardrails],
    }),
  ];
}

/**
 * Adds the chat-model statements to a role and acknowledges cdk-nag's IAM5 for exactly their
 * wildcard resources (one acknowledgement per ARN pattern, so any other wildcard is still reported).
 */
export function grantChatModels(role: IRole): void {
  for (const statement of chatModelStatements(role)) {
    role.addToPrincipalPolicy(statement);
  }
  const arns = chatModelResources(role);
  const reasons: Record<keyof ChatModelResources, string> = {
    foundationModels:
      'Agents choose their chat model per agent at runtime (stored agent configuration, not deploy-time input), so bedrock:InvokeModel (and InvokeModelWithResponseStream, for streamed replies) covers every foundation model of the stack region; those are the only actions.',
    inferenceProfiles:
      'Agents may name a cross-region inference profile (eu./us./global.) as their model at runtime, so bedrock:InvokeModel (and InvokeModelWithResponseStream) covers this account’s inference profiles in the stack region; those are the only actions.',
    destinationFoundationModels:
      'Cross-region inference profiles route to the foundation model in another region, which IAM authorizes separately; the statement only applies through this account’s profiles (bedrock:InferenceProfileArn condition).',
    guardrails:
      'Converse with a guardrailConfig authorizes bedrock:ApplyGuardrail on the guardrail the agent names at runtime; the statement covers this account’s guardrails in the stack region and nothing else.',
  };
  for (const key of Object.keys(reasons) as (keyof ChatModelResources)[]) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagFinding(role, arns[key])}]`,
      reason: reasons[key],
    });
  }
}

function bedrockArn(
  scope: IConstruct,
  parts: { region?: string; account?: string; resource: string; resourceName: string },
): string {
  return Stack.of(scope).formatArn({
    service: 'bedrock',
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    ...parts,
  });
}

/**
 * The ARN as cdk-nag names it in a finding: the resolved value flattened to one string, with
 * `<AWS::Partition>` for `{ Ref: 'AWS::Partition' }`. Only what formatArn produces is handled;
 * anything else throws rather than acknowledging a finding that does not exist.
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
