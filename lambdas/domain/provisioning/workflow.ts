import { NotFoundError } from '../shared/errors';
import type { Principal } from '../shared/principal';
import type { ProvisioningRecord, ProvisioningStep } from './model';
import type { ProvisioningDeps } from './ports';
import { doStep, hasUndo, isRetryable, StepRefusedError, undoStep } from './steps';

/**
 * The provision-agent workflow's use cases, one per kind of Task in
 * statemachines/provision-agent.asl.json. Each loads the record, does its part and writes the
 * record back (conditionally on the version it read): the record, not the execution's state, is
 * what the steps share and what `GET /v1/provisioning/{id}` shows.
 */

export interface StepRef {
  readonly tenantId: string;
  readonly provisioningId: string;
}

/** A step the caller's request makes fail (local mode only). */
export class SimulatedFailureError extends Error {
  override readonly name = 'SimulatedFailureError';
}

const now = (deps: ProvisioningDeps) => (deps.now?.() ?? new Date()).toISOString();

export function actorOf(record: ProvisioningRecord): Principal {
  // The workflow acts for the user who asked; their role was checked when they asked.
  return { tenantId: record.tenantId, userId: record.createdBy, role: 'admin' };
}

async function load(deps: ProvisioningDeps, ref: StepRef): Promise<ProvisioningRecord> {
  const record = await deps.records.get(ref.tenantId, ref.provisioningId);
  if (!record) throw new NotFoundError('Provisioning', ref.provisioningId);
  return record;
}

async function update(
  deps: ProvisioningDeps,
  record: ProvisioningRecord,
  change: (record: ProvisioningRecord) => Partial<ProvisioningRecord>,
): Promise<ProvisioningRecord> {
  const next = { ...record, ...change(record), updatedAt: now(deps), version: record.version + 1 };
  await deps.records.save(next);
  return next;
}

function withStep(
  record: ProvisioningRecord,
  index: number,
  change: Partial<ProvisioningStep>,
): Pick<ProvisioningRecord, 'steps'> {
  return { steps: record.steps.map((s, i) => (i === index ? { ...s, ...change } : s)) };
}

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.slice(0, 500);
}

function stepAt(record: ProvisioningRecord, index: number): ProvisioningStep {
  const step = record.steps[index];
  if (!step) throw new StepRefusedError(`the plan has no step ${index}`);
  return step;
}

/** `plan`: the steps to run, in order (a channel added to a draft agent moves it to provisioning). */
export async function planProvisioning(deps: ProvisioningDeps, ref: StepRef): Promise<{ indices: number[] }> {
  const record = await load(deps, ref);
  if (record.kind === 'channel') {
    await deps.agents.transition(
      record.tenantId,
      record.agentId,
      ['draft', 'error'],
      'provisioning',
      record.createdBy,
    );
  }
  return { indices: record.steps.map((_, i) => i) };
}

/**
 * `run`: one step. Done already (a retried Task): nothing. A retryable failure (throttling, a
 * provider's 5xx) is thrown as is for the ASL's Retry, the step left running; any other marks the
 * step failed with its reason, which becomes the provisioning's.
 */
export async function runProvisioningStep(
  deps: ProvisioningDeps,
  ref: StepRef & { readonly index: number },
): Promise<{ outcome: string; key: string }> {
  let record = await load(deps, ref);
  const step = stepAt(record, ref.index);
  if (step.status === 'done') return { outcome: 'done', key: step.key };
  // Strictly in order, and nothing after a failure: an iteration the Map had already queued when
  // an earlier one failed (or a late retry) must not act while compensation runs.
  if (
    record.failure ||
    record.status !== 'running' ||
    record.steps.slice(0, ref.index).some((s) => s.status !== 'done')
  ) {
    return { outcome: 'skipped', key: step.key };
  }
  record = await update(deps, record, (r) =>
    withStep(r, ref.index, { status: 'running', startedAt: step.startedAt ?? now(deps) }),
  );
  try {
    if (deps.allowSimulatedFailures && record.simulate?.failStep === step.key) {
      throw new SimulatedFailureError(`simulated failure of ${step.key} (the request's simulate.failStep)`);
    }
    const created = await doStep({ deps, record, step: stepAt(record, ref.index), actor: actorOf(record) });
    await update(deps, record, (r) =>
      withStep(r, ref.index, { status: 'done', finishedAt: now(deps), created, error: undefined }),
    );
    return { outcome: 'done', key: step.key };
  } catch (error) {
    if (isRetryable(error)) {
      await update(deps, record, (r) => withStep(r, ref.index, { error: describe(error) }));
    } else {
      const reason = describe(error);
      await update(deps, record, (r) => ({
        ...withStep(r, ref.index, { status: 'failed', finishedAt: now(deps), error: reason }),
        failure: { step: step.key, reason },
      }));
    }
    throw error;
  }
}

/**
 * `begin-compensation`: the run failed (`error` as the Map's Catch gave it). A step left running
 * (its retries ran out) is failed with the last error; the answer is what to undo: every step
 * done, newest first, that has something to undo.
 */
export async function beginCompensation(
  deps: ProvisioningDeps,
  ref: StepRef & { readonly error?: { readonly Error?: string; readonly Cause?: string } },
): Promise<{ indices: number[] }> {
  const record = await load(deps, ref);
  const running = record.steps.findIndex((s) => s.status === 'running');
  const errorName = ref.error?.Error ?? 'error';
  const cause = causeMessage(ref.error?.Cause);
  const next = await update(deps, record, (r) => {
    const failedStep = running >= 0 ? r.steps[running] : undefined;
    const reason = failedStep?.error ?? cause ?? errorName;
    return {
      ...(running >= 0
        ? withStep(r, running, { status: 'failed', finishedAt: now(deps), error: reason })
        : {}),
      failure: r.failure ?? { ...(failedStep ? { step: failedStep.key } : {}), reason },
    };
  });
  const indices = next.steps
    .map((step, index) => ({ step, index }))
    .filter(({ step }) => step.status === 'done' && hasUndo(step))
    .map(({ index }) => index)
    .reverse();
  return { indices };
}

/** The Lambda error document's message (Cause is `{errorType, errorMessage, trace}` as JSON). */
function causeMessage(cause: string | undefined): string | undefined {
  if (!cause) return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage.slice(0, 500) : cause.slice(0, 500);
  } catch {
    return cause.slice(0, 500);
  }
}

/** `undo`: one completed step's compensation (the ASL retries it; its Catch records a failure). */
export async function undoProvisioningStep(
  deps: ProvisioningDeps,
  ref: StepRef & { readonly index: number },
): Promise<{ outcome: string; key: string }> {
  const record = await load(deps, ref);
  const step = stepAt(record, ref.index);
  if (step.status === 'compensated') return { outcome: 'compensated', key: step.key };
  if (deps.allowSimulatedFailures && record.simulate?.failCompensationOf === step.key) {
    throw new SimulatedFailureError(
      `simulated failure undoing ${step.key} (the request's simulate.failCompensationOf)`,
    );
  }
  await undoStep({ deps, record, step, actor: actorOf(record) });
  await update(deps, record, (r) =>
    withStep(r, ref.index, { status: 'compensated', compensatedAt: now(deps), compensationError: undefined }),
  );
  return { outcome: 'compensated', key: step.key };
}

/** `record-undo-failure`: a compensation failed after its retries: on the record, never dropped. */
export async function recordUndoFailure(
  deps: ProvisioningDeps,
  ref: StepRef & {
    readonly index: number;
    readonly error?: { readonly Error?: string; readonly Cause?: string };
  },
): Promise<{ outcome: string; key: string }> {
  const record = await load(deps, ref);
  const step = stepAt(record, ref.index);
  const reason = causeMessage(ref.error?.Cause) ?? ref.error?.Error ?? 'unknown error';
  await update(deps, record, (r) =>
    withStep(r, ref.index, { status: 'compensation-failed', compensationError: reason }),
  );
  deps.log?.warn('Provisioning compensation failed', {
    tenantId: record.tenantId,
    provisioningId: record.id,
    step: step.key,
    error: reason,
  });
  return { outcome: 'compensation-failed', key: step.key };
}

/** The staged credentials are the workflow's only: deleted once it ends, either way. */
async function dropStagedCredentials(deps: ProvisioningDeps, record: ProvisioningRecord): Promise<void> {
  for (const channel of record.channels) {
    if (!channel.credentialsStaged) continue;
    await deps.channels.secrets.delete(record.tenantId, record.id, channel.type);
  }
}

/** `complete`: every step done; the agent is active. */
export async function completeProvisioning(
  deps: ProvisioningDeps,
  ref: StepRef,
): Promise<{ outcome: string }> {
  const record = await load(deps, ref);
  await dropStagedCredentials(deps, record);
  if (record.status !== 'succeeded')
    await update(deps, record, () => ({ status: 'succeeded', finishedAt: now(deps) }));
  return { outcome: 'succeeded' };
}

/** `fail`: after compensation, the agent goes to `error` with the reason and the record says failed. */
export async function failProvisioning(deps: ProvisioningDeps, ref: StepRef): Promise<{ outcome: string }> {
  const record = await load(deps, ref);
  const reason = `provisioning ${record.id} failed${record.failure?.step ? ` at ${record.failure.step}` : ''}: ${record.failure?.reason ?? 'unknown error'}`;
  try {
    await deps.agents.transition(
      record.tenantId,
      record.agentId,
      ['provisioning'],
      'error',
      record.createdBy,
      reason,
    );
  } catch (error) {
    // The agent was never created (its own step failed): the record alone says why.
    if (!(error instanceof NotFoundError)) throw error;
  }
  await dropStagedCredentials(deps, record);
  if (record.status !== 'failed')
    await update(deps, record, () => ({ status: 'failed', finishedAt: now(deps) }));
  return { outcome: 'failed' };
}
