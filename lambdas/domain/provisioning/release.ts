import type { Principal } from '../shared/principal';
import type { ProvisioningDeps } from './ports';
import { hasUndo, undoStep } from './steps';
import { actorOf } from './workflow';

/** Each release is tried this often: provider blips (Connect's 2 calls a second) should not leave a number behind. */
const ATTEMPTS = 3;

/**
 * Deprovisioning, before an agent is deleted: what its provisionings made is undone through the
 * same compensations, newest provisioning first and each one's steps in reverse (the association,
 * the flow, then the number; Twilio webhooks back to what they were; pages unsubscribed). A
 * release that keeps failing is marked `release-failed` on its record (listed in `leftBehind`) and
 * the deletion goes on: the agent is going either way, and the record says what an operator must
 * clean up. Stopping an agent keeps everything.
 */
export async function releaseProvisionedResources(
  deps: ProvisioningDeps,
  actor: Principal,
  agentId: string,
  wait: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<{ released: string[]; failed: string[] }> {
  const released: string[] = [];
  const failed: string[] = [];
  const records = await deps.records.listForAgent(actor.tenantId, agentId);
  for (let record of [...records].reverse()) {
    if (record.status !== 'succeeded' || record.releasedAt) continue;
    // The undo of a channel's set-up deletes its credentials, which the provider-side undos before
    // it in reverse order (Twilio webhooks, the Meta page) still need: staged again, as during the
    // workflow, and dropped at the end.
    const secrets = deps.channels.secrets;
    const restaged: (typeof record.channels)[number]['type'][] = [];
    for (const channel of record.channels) {
      if (!channel.credentialsStaged) continue;
      const current = await secrets.get(record.tenantId, record.agentId, channel.type);
      if (!current) continue;
      await secrets.put(record.tenantId, record.id, channel.type, current);
      restaged.push(channel.type);
    }
    const order = record.steps.map((step, index) => ({ step, index })).reverse();
    for (const { step, index } of order) {
      if (step.status !== 'done' || !hasUndo(step)) continue;
      let error: unknown;
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        try {
          await undoStep({ deps, record, step, actor: actorOf(record) });
          error = undefined;
          break;
        } catch (caught) {
          error = caught;
          if (attempt < ATTEMPTS) await wait(200 * 2 ** attempt);
        }
      }
      const at = (deps.now?.() ?? new Date()).toISOString();
      const change = error
        ? {
            status: 'release-failed' as const,
            compensationError: (error instanceof Error ? error.message : String(error)).slice(0, 500),
          }
        : { status: 'released' as const, compensatedAt: at };
      (error ? failed : released).push(`${record.id}/${step.key}`);
      if (error) {
        deps.log?.warn('Could not release a provisioned resource', {
          tenantId: record.tenantId,
          agentId,
          provisioningId: record.id,
          step: step.key,
          error: change.compensationError ?? '',
        });
      }
      record = {
        ...record,
        steps: record.steps.map((s, i) => (i === index ? { ...s, ...change } : s)),
        updatedAt: at,
        version: record.version + 1,
      };
      await deps.records.save(record);
    }
    for (const type of restaged) await secrets.delete(record.tenantId, record.id, type);
    const at = (deps.now?.() ?? new Date()).toISOString();
    record = { ...record, releasedAt: at, updatedAt: at, version: record.version + 1 };
    await deps.records.save(record);
  }
  return { released, failed };
}
