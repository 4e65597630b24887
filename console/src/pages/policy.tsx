import { useEffect, useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { useMay } from '../permissions';
import { Empty, ErrorNote, formatDate, Loading, Page, useAction, useLoad } from '../ui';
import {
  describeRule,
  POLICY_STALE,
  type Policy,
  policyChangedMeanwhile,
  type Rule,
  RuleForm,
  savePolicy,
} from './policy-rules';

/** The policy, the tools (for categories and numeric parameters) and the agents, loaded together. */
export function usePolicyData() {
  const policy = useLoad(() => must(api().GET('/v1/policies')), []);
  const tools = useLoad(() => must(api().GET('/v1/tools')), []);
  return { policy, tools: tools.data?.items ?? [], error: tools.error };
}

/**
 * Runs a change of the policy; a stale version reloads it and says so, anything else is thrown for
 * the form that asked, which shows the API's words beside itself.
 */
export function usePolicySave(reload: () => void, done: (message: string) => void) {
  return async (policy: Policy, rules: readonly Rule[], message: string, limits?: Partial<Policy>) => {
    try {
      await savePolicy(policy, rules, limits);
    } catch (error) {
      if (policyChangedMeanwhile(error)) {
        reload();
        throw new Error(POLICY_STALE);
      }
      throw error;
    }
    reload();
    done(message);
  };
}

/**
 * The tenant's decision policy (`/v1/policies`): which actions run, wait for a person or are
 * refused, for every agent or one; and the per-turn and approval limits. Editing needs
 * policies:write (owners and admins); coordinators read it.
 */
export function PolicyPage() {
  const { policy, tools, error } = usePolicyData();
  const agents = useLoad(() => must(api().GET('/v1/agents', { params: { query: { limit: 100 } } })), []);
  const may = useMay();
  const canWrite = may('policies:write') === true;
  const [editing, setEditing] = useState<number | 'new' | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const save = usePolicySave(policy.reload, (message) => {
    setEditing(undefined);
    setDone(message);
  });
  const current = policy.data;
  const [limits, setLimits] = useState({ maxActionsPerTurn: '', approvalMinutes: '' });
  useEffect(() => {
    if (current) {
      setLimits({
        maxActionsPerTurn: String(current.maxActionsPerTurn),
        approvalMinutes: String(current.approvalTimeoutSeconds / 60),
      });
    }
  }, [current]);
  const remove = useAction(async (index: number) => {
    if (!current) return;
    await save(
      current,
      current.rules.filter((_, i) => i !== index),
      `Rule ${index + 1} removed.`,
    );
  });
  const saveLimits = useAction(async () => {
    if (!current) return;
    await save(current, current.rules, 'Limits saved.', {
      maxActionsPerTurn: Number(limits.maxActionsPerTurn),
      approvalTimeoutSeconds: Math.round(Number(limits.approvalMinutes) * 60),
    });
  });
  const agentList = agents.data?.items ?? [];
  const agentName = (id: string) => agentList.find((agent) => agent.id === id)?.name ?? id;

  return (
    <Page title="Decision policy">
      <p>
        Every action an agent proposes gets a decision: it runs, is suggested to the user, waits for a
        coordinator, or is denied. Each action has a default; your rules change it. The most specific rule
        wins (one action over a category over every action; with a number bound over without; one agent's over
        every agent's), and among equals the strictest.
      </p>
      <ErrorNote message={policy.error ?? error} />
      {policy.loading && !current ? <Loading what="the policy" /> : null}
      {done ? (
        <p class="ok" role="status">
          {done}
        </p>
      ) : null}
      {current ? (
        <>
          <p class="muted">
            {current.version === 0
              ? 'No policy saved yet: the actions’ defaults apply.'
              : `Version ${current.version}, saved ${formatDate(current.updatedAt)} by ${current.updatedBy}.`}
            {may('policies:write') === false
              ? ' Your role may read the policy; an owner or admin changes it.'
              : ''}
          </p>
          <h2>Rules</h2>
          {current.rules.length === 0 ? (
            <Empty title="No rules yet.">
              <p>
                {canWrite
                  ? 'Add one below, e.g. "take_payment with amount more than 500 needs approval".'
                  : 'The actions’ default decisions apply.'}
              </p>
            </Empty>
          ) : (
            <ol class="rules">
              {current.rules.map((rule, index) =>
                editing === index ? (
                  <li key={`edit-${index}`}>
                    <RuleForm
                      title={`Edit rule ${index + 1}`}
                      rule={rule}
                      agents={agentList}
                      tools={tools}
                      cancel={() => setEditing(undefined)}
                      save={(next) =>
                        save(
                          current,
                          current.rules.map((r, i) => (i === index ? next : r)),
                          `Rule ${index + 1} saved.`,
                        )
                      }
                    />
                  </li>
                ) : (
                  <li key={`${index}-${JSON.stringify(rule)}`}>
                    <div class="row">
                      <span>
                        {describeRule(rule)}
                        {rule.agentId ? (
                          <strong> for {agentName(rule.agentId)} only</strong>
                        ) : (
                          ' for every agent'
                        )}
                        {rule.description ? <span class="muted"> · {rule.description}</span> : null}
                      </span>
                      {canWrite ? (
                        <>
                          <button type="button" class="secondary" onClick={() => setEditing(index)}>
                            Edit<span class="visually-hidden"> rule {index + 1}</span>
                          </button>
                          <button
                            type="button"
                            class="secondary danger"
                            disabled={remove.pending}
                            onClick={() => void remove.run(index)}
                          >
                            Remove<span class="visually-hidden"> rule {index + 1}</span>
                          </button>
                        </>
                      ) : null}
                    </div>
                  </li>
                ),
              )}
            </ol>
          )}
          <ErrorNote message={remove.error} />
          {canWrite ? (
            editing === 'new' ? (
              <RuleForm
                title="New rule"
                agents={agentList}
                tools={tools}
                cancel={() => setEditing(undefined)}
                save={(rule) => save(current, [...current.rules, rule], 'Rule added.')}
              />
            ) : (
              <button type="button" onClick={() => setEditing('new')}>
                Add a rule
              </button>
            )
          ) : null}
          <h2>Limits</h2>
          <form
            class="editor"
            aria-label="Limits"
            onSubmit={(event) => {
              event.preventDefault();
              void saveLimits.run();
            }}
          >
            <label>
              Actions one turn may propose
              <input
                type="number"
                min="1"
                max="20"
                disabled={!canWrite}
                value={limits.maxActionsPerTurn}
                onInput={(e) => setLimits({ ...limits, maxActionsPerTurn: e.currentTarget.value })}
              />
              <span class="hint">The rest are denied: a model talked into a spree stops here.</span>
            </label>
            <label>
              Minutes an approval waits for a coordinator
              <input
                type="number"
                min="1"
                max="1380"
                step="any"
                disabled={!canWrite}
                value={limits.approvalMinutes}
                onInput={(e) => setLimits({ ...limits, approvalMinutes: e.currentTarget.value })}
              />
              <span class="hint">Then it expires and the action does not run.</span>
            </label>
            <ErrorNote message={saveLimits.error} />
            {canWrite ? (
              <button type="submit" disabled={saveLimits.pending}>
                Save limits
              </button>
            ) : null}
          </form>
        </>
      ) : null}
    </Page>
  );
}
