import { useState } from 'preact/hooks';
import { useMay } from '../permissions';
import { ErrorNote, Loading } from '../ui';
import type { Agent } from './agents';
import { usePolicyData, usePolicySave } from './policy';
import { describeRule, RuleForm } from './policy-rules';

/**
 * "Policy for this agent": the rules of the tenant's policy that apply to this agent (every
 * agent's and its own, in the policy's order, numbered as there), and a form to add one of its own.
 */
export function AgentPolicy({ agent }: { agent: Agent }) {
  const may = useMay();
  // Members may not read the policy: nothing to show them (and no 403 to flash while the role loads).
  return may('policies:read') ? (
    <AgentPolicyRules agent={agent} canWrite={may('policies:write') === true} />
  ) : null;
}

function AgentPolicyRules({ agent, canWrite }: { agent: Agent; canWrite: boolean }) {
  const { policy, tools, error } = usePolicyData();
  const [done, setDone] = useState<string | undefined>();
  const save = usePolicySave(policy.reload, setDone);
  const current = policy.data;
  const applying = (current?.rules ?? [])
    .map((rule, index) => ({ rule, index }))
    .filter(({ rule }) => rule.agentId === undefined || rule.agentId === agent.id);

  return (
    <section aria-labelledby="agent-policy-title">
      <h2 id="agent-policy-title">Policy for this agent</h2>
      <ErrorNote message={policy.error ?? error} />
      {policy.loading && !current ? <Loading what="the policy" /> : null}
      {current ? (
        applying.length === 0 ? (
          <p class="muted">No rule applies: each action’s default decision does.</p>
        ) : (
          <ul aria-label="Rules that apply to this agent">
            {applying.map(({ rule, index }) => (
              <li key={index}>
                Rule {index + 1}: {describeRule(rule)}
                {rule.agentId ? (
                  <strong> (this agent only)</strong>
                ) : (
                  <span class="muted"> (every agent)</span>
                )}
                {rule.description ? <span class="muted"> · {rule.description}</span> : null}
              </li>
            ))}
          </ul>
        )
      ) : null}
      <p>
        <a href="#/policy">The whole policy and its limits</a>
      </p>
      {done ? (
        <p class="ok" role="status">
          {done}
        </p>
      ) : null}
      {current && canWrite ? (
        <RuleForm
          title={`New rule for ${agent.name}`}
          agents={[]}
          fixedAgent={{ id: agent.id, name: agent.name }}
          tools={tools}
          save={(rule) => save(current, [...current.rules, rule], `Rule added for ${agent.name}.`)}
        />
      ) : null}
    </section>
  );
}
