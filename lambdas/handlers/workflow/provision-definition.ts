/**
 * Where the provision-agent state machine is defined and which Lambda its Tasks invoke. The CDK
 * construct (lib/constructs/provisioning-workflow.ts) and local mode (local/provisioning-workflow.ts)
 * both build the machine from this.
 */
export const PROVISION_DEFINITION = 'statemachines/provision-agent.asl.json';

export const PROVISION_STEP_FUNCTION = {
  placeholder: 'ProvisionStepFunctionArn',
  name: 'provision-step',
  entry: 'lambdas/handlers/workflow/provision-step.ts',
} as const;

/** The Task states whose payload `step` is each use case (domain/provisioning/workflow.ts). */
export const PROVISION_STEPS = [
  'plan',
  'run',
  'begin-compensation',
  'undo',
  'record-undo-failure',
  'complete',
  'fail',
] as const;
export type ProvisionStep = (typeof PROVISION_STEPS)[number];
