import { useId, useState } from 'preact/hooks';
import { ACTION_CATEGORIES, ACTION_NAMES, DECISION_LEVELS } from '../../../lambdas/domain/actions/model';
import { ApiFailure, api, type BodyOf, must, type ResponseOf } from '../api/client';
import { ErrorNote, messageOf } from '../ui';

export type Policy = ResponseOf<'/v1/policies', 'get'>;
export type Rule = Policy['rules'][number];
type Level = Rule['level'];
type Tool = ResponseOf<'/v1/tools', 'get'>['items'][number];

/** The server's own vocabularies (`lambdas/domain/actions/model.ts`). */
export const LEVELS: readonly Level[] = [...DECISION_LEVELS, 'denied'];
const LEVEL_WORDS: Record<Level, string> = {
  automatic: 'runs automatically',
  suggestion: 'is suggested to the user to confirm',
  consultation: 'needs a coordinator consulted',
  approval: "needs a coordinator's approval",
  denied: 'is denied',
};

/** "take_payment with amount > 500 needs a coordinator's approval": a rule in words. */
export function describeRule(rule: Rule): string {
  const what =
    rule.action ?? (rule.category ? `every ${rule.category.replace('_', ' ')} action` : 'every action');
  const bounds = rule.when
    ? [
        rule.when.gt !== undefined ? `> ${rule.when.gt}` : '',
        rule.when.gte !== undefined ? `≥ ${rule.when.gte}` : '',
        rule.when.lt !== undefined ? `< ${rule.when.lt}` : '',
        rule.when.lte !== undefined ? `≤ ${rule.when.lte}` : '',
      ].filter(Boolean)
    : [];
  const when = rule.when ? ` with ${rule.when.param} ${bounds.join(' and ')}` : '';
  return `${what}${when} ${LEVEL_WORDS[rule.level]}`;
}

/** The policy changed since the page read it: the 409 of a stale If-Match. */
export const policyChangedMeanwhile = (error: unknown) => error instanceof ApiFailure && error.status === 409;
export const POLICY_STALE =
  'The policy changed meanwhile (someone else saved it): the page now shows it as it is. Make your change again.';

/** Saves the whole policy with these rules, conditional on the version the page read. */
export async function savePolicy(policy: Policy, rules: readonly Rule[], limits?: Partial<Policy>) {
  const body: BodyOf<'/v1/policies', 'put'> = {
    rules: [...rules],
    maxActionsPerTurn: limits?.maxActionsPerTurn ?? policy.maxActionsPerTurn,
    approvalTimeoutSeconds: limits?.approvalTimeoutSeconds ?? policy.approvalTimeoutSeconds,
  };
  return must(api().PUT('/v1/policies', { params: { header: { 'If-Match': `"${policy.version}"` } }, body }));
}

interface Draft {
  /** `action:take_payment`, `category:communication` or `all`. */
  subject: string;
  param: string;
  lower: '' | 'gt' | 'gte';
  lowerValue: string;
  upper: '' | 'lt' | 'lte';
  upperValue: string;
  level: Level;
  description: string;
  agentId: string;
}

function draftOf(rule: Rule | undefined, agentId: string | undefined): Draft {
  const when = rule?.when;
  const lower = when?.gt !== undefined ? 'gt' : when?.gte !== undefined ? 'gte' : '';
  const upper = when?.lt !== undefined ? 'lt' : when?.lte !== undefined ? 'lte' : '';
  return {
    subject: rule?.action ? `action:${rule.action}` : rule?.category ? `category:${rule.category}` : 'all',
    param: when?.param ?? '',
    lower,
    lowerValue: lower && when ? String(when[lower]) : '',
    upper,
    upperValue: upper && when ? String(when[upper]) : '',
    level: rule?.level ?? 'approval',
    description: rule?.description ?? '',
    agentId: rule?.agentId ?? agentId ?? '',
  };
}

function ruleOf(draft: Draft): Rule {
  const [kind, name] = draft.subject.split(':');
  // A bound typed as text goes to the API as it is: its answer names the field when it is not a number.
  const bound = (value: string) =>
    value.trim() === '' || Number.isNaN(Number(value)) ? value : Number(value);
  const when =
    draft.param.trim() || draft.lower || draft.upper
      ? ({
          param: draft.param.trim(),
          ...(draft.lower ? { [draft.lower]: bound(draft.lowerValue) } : {}),
          ...(draft.upper ? { [draft.upper]: bound(draft.upperValue) } : {}),
        } as Rule['when'])
      : undefined;
  return {
    ...(kind === 'action' ? { action: name as Rule['action'] } : {}),
    ...(kind === 'category' ? { category: name as Rule['category'] } : {}),
    ...(when ? { when } : {}),
    level: draft.level,
    ...(draft.description.trim() ? { description: draft.description.trim() } : {}),
    ...(draft.agentId ? { agentId: draft.agentId } : {}),
  };
}

/** Numeric parameters of the chosen action (from its JSON schema), offered for the bound. */
function numericParams(tools: readonly Tool[], subject: string): string[] {
  const [kind, name] = subject.split(':');
  const chosen = tools.filter((tool) =>
    kind === 'action'
      ? tool.name === name
      : kind === 'category'
        ? tool.category === name
        : tool.kind === 'action',
  );
  const names = chosen.flatMap((tool) =>
    Object.entries((tool.inputSchema.properties ?? {}) as Record<string, { type?: unknown }>)
      .filter(([, schema]) => schema.type === 'number' || schema.type === 'integer')
      .map(([param]) => param),
  );
  return [...new Set(names)];
}

/**
 * Adds or edits one rule: what it applies to (an action, a category or every action), an optional
 * bound on a numeric parameter, the level, a description and, optionally, one agent. `save` gets
 * the rule and throws the API's refusal, shown here beside the form.
 */
export function RuleForm({
  rule,
  agents,
  fixedAgent,
  tools,
  save,
  cancel,
  title,
}: {
  rule?: Rule;
  agents: readonly { id: string; name: string }[];
  /** The agent page: the rule is this agent's. */
  fixedAgent?: { id: string; name: string };
  tools: readonly Tool[];
  save: (rule: Rule) => Promise<void>;
  cancel?: () => void;
  title: string;
}) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(rule, fixedAgent?.id));
  const [error, setError] = useState<string | undefined>();
  const [pending, setPending] = useState(false);
  const set =
    <K extends keyof Draft>(key: K) =>
    (value: Draft[K]) =>
      setDraft((previous) => ({ ...previous, [key]: value }));
  const params = numericParams(tools, draft.subject);
  const listId = useId();
  const categoryOf = (name: string) => tools.find((tool) => tool.name === name)?.category;

  return (
    <form
      class="card editor"
      aria-label={title}
      onSubmit={async (event) => {
        event.preventDefault();
        setPending(true);
        setError(undefined);
        try {
          await save(ruleOf(draft));
          if (!rule) setDraft(draftOf(undefined, fixedAgent?.id));
        } catch (caught) {
          setError(messageOf(caught));
        } finally {
          setPending(false);
        }
      }}
    >
      <h3>{title}</h3>
      <label>
        Applies to
        <select value={draft.subject} onChange={(e) => set('subject')(e.currentTarget.value)}>
          <option value="all">Every action</option>
          <optgroup label="A category of actions">
            {ACTION_CATEGORIES.map((category) => (
              <option key={category} value={`category:${category}`}>
                {category.replace('_', ' ')}
              </option>
            ))}
          </optgroup>
          <optgroup label="One action">
            {ACTION_NAMES.map((name) => (
              <option key={name} value={`action:${name}`}>
                {name}
                {categoryOf(name) ? ` (${categoryOf(name)?.replace('_', ' ')})` : ''}
              </option>
            ))}
          </optgroup>
        </select>
      </label>
      {fixedAgent ? (
        <p class="hint">For {fixedAgent.name} only.</p>
      ) : (
        <label>
          Agent
          <select value={draft.agentId} onChange={(e) => set('agentId')(e.currentTarget.value)}>
            <option value="">Every agent</option>
            {agents.map((agent) => (
              <option key={agent.id} value={agent.id}>
                {agent.name}
              </option>
            ))}
          </select>
        </label>
      )}
      <fieldset>
        <legend>Only when a number is (optional)</legend>
        <label>
          Parameter
          <input
            list={listId}
            value={draft.param}
            placeholder={params.includes('amount') || params.length === 0 ? 'amount' : params[0]}
            onInput={(e) => set('param')(e.currentTarget.value)}
          />
          <datalist id={listId}>
            {params.map((param) => (
              <option key={param} value={param} />
            ))}
          </datalist>
          {params.length ? <span class="hint">Numbers this choice takes: {params.join(', ')}</span> : null}
        </label>
        <div class="filters">
          <BoundFields
            side="Lower"
            choices={[
              ['gt', 'more than'],
              ['gte', 'at least'],
            ]}
            bound={draft.lower}
            value={draft.lowerValue}
            onBound={(bound) => set('lower')(bound as Draft['lower'])}
            onValue={set('lowerValue')}
          />
          <BoundFields
            side="Upper"
            choices={[
              ['lt', 'less than'],
              ['lte', 'at most'],
            ]}
            bound={draft.upper}
            value={draft.upperValue}
            onBound={(bound) => set('upper')(bound as Draft['upper'])}
            onValue={set('upperValue')}
          />
        </div>
      </fieldset>
      <label>
        Decision
        <select value={draft.level} onChange={(e) => set('level')(e.currentTarget.value as Level)}>
          {LEVELS.map((level) => (
            <option key={level} value={level}>
              {level}: {LEVEL_WORDS[level]}
            </option>
          ))}
        </select>
      </label>
      <label>
        Description (optional)
        <input value={draft.description} onInput={(e) => set('description')(e.currentTarget.value)} />
      </label>
      <ErrorNote message={error} />
      <div class="row">
        <button type="submit" disabled={pending}>
          {pending ? 'Saving…' : rule ? 'Save rule' : 'Add rule'}
        </button>
        {cancel ? (
          <button type="button" class="secondary" onClick={cancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

/** One side of a number condition: its comparison (or none) and the number it compares with. */
function BoundFields(props: {
  side: 'Lower' | 'Upper';
  choices: ReadonlyArray<readonly [string, string]>;
  bound: string;
  value: string;
  onBound: (bound: string) => void;
  onValue: (value: string) => void;
}) {
  return (
    <>
      <label>
        {props.side} bound
        <select value={props.bound} onChange={(e) => props.onBound(e.currentTarget.value)}>
          <option value="">none</option>
          {props.choices.map(([value, words]) => (
            <option key={value} value={value}>
              {words}
            </option>
          ))}
        </select>
      </label>
      <label>
        {props.side} value
        <input
          inputMode="decimal"
          value={props.value}
          disabled={!props.bound}
          onInput={(e) => props.onValue(e.currentTarget.value)}
        />
      </label>
    </>
  );
}
