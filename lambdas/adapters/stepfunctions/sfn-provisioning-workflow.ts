import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { ProvisioningWorkflowPort } from '../../domain/provisioning/ports';

/**
 * The provision-agent workflow on Step Functions. The execution is named after the provisioning:
 * a second start (a retried request, the same Idempotency-Key) is the first execution
 * (ExecutionAlreadyExists), never a second run.
 */
export class SfnProvisioningWorkflow implements ProvisioningWorkflowPort {
  private client: SFNClient | undefined;

  constructor(
    private readonly stateMachineArn: string,
    private readonly options: { readonly region: string; readonly client?: SFNClient },
  ) {
    this.client = options.client;
  }

  async start(input: { readonly tenantId: string; readonly provisioningId: string }) {
    this.client ??= new SFNClient({ region: this.options.region, maxAttempts: 4 });
    const name = input.provisioningId;
    try {
      const started = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify({ tenantId: input.tenantId, provisioningId: input.provisioningId }),
        }),
      );
      if (!started.executionArn) throw new Error('StartExecution returned no execution ARN');
      return { executionId: started.executionArn };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) {
        return { executionId: `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}` };
      }
      throw error;
    }
  }
}
