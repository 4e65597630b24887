import {
  ExecutionAlreadyExists,
  InvalidToken,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type {
  ApprovalOutcome,
  ApprovalWorkflowInput,
  ApprovalWorkflowPort,
} from '../../domain/approvals/model';

/**
 * The approval workflow on Step Functions: StartExecution of statemachines/approval.asl.json,
 * SendTaskSuccess to hand it the decision, SendTaskHeartbeat to keep its wait alive.
 *
 * The execution is named after the approval, so a retried start (the caller's, or the SDK's after
 * a lost response) cannot start a second workflow for it: ExecutionAlreadyExists means started.
 * A token that is no longer waited on — the wait timed out or checked in and took a new token, the
 * execution ended, or the token is malformed — is `false`, not an error: whoever decided has
 * nothing to resume, and the workflow's own check-in or expiry closes the action.
 */
export interface SfnApprovalWorkflowOptions {
  readonly region: string;
  /** The client; built on first use otherwise (a Lambda that never resumes pays nothing for it). */
  readonly client?: SFNClient;
  /** SDK attempts per call, throttling and 5xx included: enough to ride out a blip, not an outage. */
  readonly maxAttempts?: number;
}

const DEFAULT_MAX_ATTEMPTS = 4;

export class SfnApprovalWorkflow implements ApprovalWorkflowPort {
  private client: SFNClient | undefined;

  constructor(
    private readonly stateMachineArn: string,
    private readonly options: SfnApprovalWorkflowOptions,
  ) {
    this.client = options.client;
  }

  private sfn(): SFNClient {
    this.client ??= new SFNClient({
      region: this.options.region,
      maxAttempts: this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    });
    return this.client;
  }

  async start(input: ApprovalWorkflowInput): Promise<{ readonly executionId: string }> {
    const name = input.approvalId;
    try {
      const started = await this.sfn().send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          // Unique per approval, and a valid execution name (ULID-based ids: [a-z0-9_], ≤ 80 chars).
          name,
          input: JSON.stringify({
            tenantId: input.tenantId,
            approvalId: input.approvalId,
            actionId: input.actionId,
          }),
        }),
      );
      if (!started.executionArn) throw new Error('StartExecution returned no execution ARN');
      return { executionId: started.executionArn };
    } catch (error) {
      // Same name, same input: this approval's workflow is already running (or has run).
      if (error instanceof ExecutionAlreadyExists) return { executionId: this.executionArn(name) };
      throw error;
    }
  }

  async resume(taskToken: string, outcome: ApprovalOutcome): Promise<boolean> {
    return this.unlessGone(() =>
      this.sfn().send(
        new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ outcome: outcome.outcome }) }),
      ),
    );
  }

  async heartbeat(taskToken: string): Promise<boolean> {
    return this.unlessGone(() => this.sfn().send(new SendTaskHeartbeatCommand({ taskToken })));
  }

  private async unlessGone(call: () => Promise<unknown>): Promise<boolean> {
    try {
      await call();
      return true;
    } catch (error) {
      if (
        error instanceof TaskTimedOut ||
        error instanceof TaskDoesNotExist ||
        error instanceof InvalidToken
      ) {
        return false;
      }
      throw error;
    }
  }

  /** `arn:…:stateMachine:<machine>` → `arn:…:execution:<machine>:<name>`. */
  private executionArn(name: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }
}
