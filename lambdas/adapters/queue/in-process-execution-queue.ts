import type { ExecutionQueue } from '../../domain/runtime/executions';

/**
 * Local mode's queue: the job runs in this process right after the request that queued it has
 * answered, through the same use case the SQS worker runs. Failures are logged, as a
 * dead-lettered message would be.
 */
export class InProcessExecutionQueue implements ExecutionQueue {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly run: (message: { tenantId: string; executionId: string }) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  async enqueue(message: { tenantId: string; executionId: string }): Promise<void> {
    const job = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.run(message))
      .catch(this.onError)
      .finally(() => this.pending.delete(job));
    this.pending.add(job);
  }

  /** Resolves when every queued job has finished (tests and shutdown). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
