/**
 * Where the approval state machine is defined and which Lambda its Tasks invoke. The CDK construct
 * (lib/constructs/approval-workflow.ts) and local mode (local/approval-workflow.ts) both build the
 * machine from this, so they cannot disagree.
 */

/** The definition, relative to the repository root; the CDK construct and local mode both read it. */
export const APPROVAL_DEFINITION = 'statemachines/approval.asl.json';

/**
 * The ASL's one DefinitionSubstitutions placeholder: every Task invokes the same step Lambda
 * (`lambda:invoke`, the function as `FunctionName`) with a `step` in its payload.
 */
export const APPROVAL_STEP_FUNCTION = {
  placeholder: 'ApprovalStepFunctionArn',
  name: 'approval-step',
  entry: 'lambdas/handlers/workflow/approval-step.ts',
} as const;

/** The Task that waits for the coordinators' decision (`.waitForTaskToken`). */
export const WAIT_FOR_DECISION_STATE = 'WaitForDecision';

/** The steps the Lambda serves, as the ASL names them in each payload's `step`. */
export const APPROVAL_STEPS = ['record', 'notify', 'wait', 'check', 'execute', 'close'] as const;
export type ApprovalStep = (typeof APPROVAL_STEPS)[number];
