import { findAction } from './catalog';
import type { ActionDefinition } from './definition';
import type { PolicyRule } from './model';
import { DEFAULT_POLICY, policyBody, resolveLevel } from './policy';

function action(name: string): ActionDefinition {
  const found = findAction(name);
  if (!found) throw new Error(`no action ${name}`);
  return found;
}

const payment = action('take_payment');
const sms = action('send_sms');
const deletion = action('delete_resource');

const resolve = (definition: ActionDefinition, params: Record<string, unknown>, rules: PolicyRule[]) =>
  resolveLevel(definition, params, { rules }, 'agt_front');

describe('policyBody', () => {
  it('fills in the defaults', () => {
    expect(policyBody().parse({})).toEqual({ ...DEFAULT_POLICY, rules: [] });
    expect(DEFAULT_POLICY).toEqual({ rules: [], maxActionsPerTurn: 3, approvalTimeoutSeconds: 3600 });
  });

  it('accepts the rules a tenant writes', () => {
    const body = {
      rules: [
        {
          action: 'take_payment',
          when: { param: 'amount', gt: 500 },
          level: 'approval',
          description: 'Big payments',
        },
        { category: 'communication', level: 'automatic' },
        { action: 'send_sms', category: 'communication', level: 'suggestion' },
        { when: { param: 'amount', gte: 10, lt: 20 }, level: 'consultation' },
        { action: 'delete_resource', level: 'denied' },
      ],
      maxActionsPerTurn: 5,
      approvalTimeoutSeconds: 600,
    };
    expect(policyBody().parse(body)).toEqual(body);
  });

  it.each([
    [
      { rules: [{ action: 'take_payment', category: 'communication', level: 'approval' }] },
      'rules.0.category',
      /take_payment is in category external_service, not communication/,
    ],
    [{ rules: [{ action: 'launch_rocket', level: 'approval' }] }, 'rules.0.action', /./],
    [{ rules: [{ level: 'maybe' }] }, 'rules.0.level', /./],
    [
      { rules: [{ when: { param: 'amount' }, level: 'approval' }] },
      'rules.0.when',
      /at least one of gt, gte, lt, lte/,
    ],
    [
      { rules: [{ when: { param: 'amount', gt: 10, lt: 10 }, level: 'approval' }] },
      'rules.0.when',
      /no value/,
    ],
    [{ rules: [{ when: { param: 'amount', gt: '10' }, level: 'approval' }] }, 'rules.0.when.gt', /./],
    [{ rules: [{ level: 'approval', extra: true }] }, 'rules.0', /Unrecognized key/],
    [{ rules: Array.from({ length: 51 }, () => ({ level: 'approval' })) }, 'rules', /./],
    [{ maxActionsPerTurn: 0 }, 'maxActionsPerTurn', /./],
    [{ maxActionsPerTurn: 21 }, 'maxActionsPerTurn', /./],
    [{ approvalTimeoutSeconds: 59 }, 'approvalTimeoutSeconds', /./],
    [{ approvalTimeoutSeconds: 82_801 }, 'approvalTimeoutSeconds', /./],
  ])('refuses %j at %s', (body, path, message) => {
    const parsed = policyBody().safeParse(body);
    expect(parsed.success).toBe(false);
    const issue = parsed.error?.issues.find((i) => i.path.join('.') === path);
    expect(issue?.message).toMatch(message);
  });

  it('accepts a closed interval on one value', () => {
    expect(
      policyBody().safeParse({ rules: [{ when: { param: 'amount', gte: 10, lte: 10 }, level: 'approval' }] })
        .success,
    ).toBe(true);
  });
});

describe('resolveLevel', () => {
  it('uses the action default without a policy or a matching rule', () => {
    expect(resolveLevel(payment, { amount: 10 }, undefined, 'agt_front')).toEqual({
      level: 'approval',
      reason: 'take_payment: no policy rule applies, so its default level approval does',
    });
    expect(resolve(sms, { to: '+15550100199' }, [{ action: 'take_payment', level: 'automatic' }])).toEqual({
      level: 'automatic',
      reason: 'send_sms: no policy rule applies, so its default level automatic does',
    });
  });

  it('applies a threshold only when the number crosses it', () => {
    const rules: PolicyRule[] = [
      { action: 'take_payment', level: 'automatic' },
      { action: 'take_payment', when: { param: 'amount', gt: 500 }, level: 'approval' },
    ];
    expect(resolve(payment, { amount: 750 }, rules)).toEqual({
      level: 'approval',
      reason: "take_payment amount 750 > 500: rule 2 requires a coordinator's approval",
      ruleIndex: 1,
    });
    expect(resolve(payment, { amount: 500 }, rules)).toEqual({
      level: 'automatic',
      reason: 'take_payment: rule 1 lets it run automatically',
      ruleIndex: 0,
    });
  });

  it('checks every bound of a condition', () => {
    const rules: PolicyRule[] = [
      { action: 'take_payment', when: { param: 'amount', gte: 100, lte: 200 }, level: 'consultation' },
    ];
    expect(resolve(payment, { amount: 100 }, rules)).toMatchObject({
      level: 'consultation',
      reason: 'take_payment amount 100 >= 100 and <= 200: rule 1 requires consulting a coordinator',
    });
    expect(resolve(payment, { amount: 200 }, rules).level).toBe('consultation');
    expect(resolve(payment, { amount: 200.01 }, rules).level).toBe('approval');
    expect(resolve(payment, { amount: 99.99 }, rules).level).toBe('approval');
    const strict: PolicyRule[] = [
      { action: 'take_payment', when: { param: 'amount', lt: 10 }, level: 'automatic' },
    ];
    expect(resolve(payment, { amount: 9.99 }, strict).level).toBe('automatic');
    expect(resolve(payment, { amount: 10 }, strict).level).toBe('approval');
  });

  it('never matches a condition on a missing or non-numeric parameter', () => {
    const rules: PolicyRule[] = [{ when: { param: 'amount', gte: 0 }, level: 'denied' }];
    expect(resolve(sms, { to: '+15550100199', body: 'hi' }, rules).level).toBe('automatic');
    expect(resolve(payment, { amount: '750' }, rules).level).toBe('approval');
    expect(resolve(payment, { amount: Number.NaN }, rules).level).toBe('approval');
    expect(resolve(payment, { amount: 1 }, rules)).toMatchObject({ level: 'denied', ruleIndex: 0 });
  });

  it('lets the most specific rule win, whatever the order and strictness', () => {
    const rules: PolicyRule[] = [
      { level: 'denied' },
      { when: { param: 'amount', gt: 0 }, level: 'approval' },
      { category: 'external_service', level: 'consultation' },
      { category: 'external_service', when: { param: 'amount', gt: 100 }, level: 'suggestion' },
      { action: 'take_payment', level: 'approval' },
      { action: 'take_payment', when: { param: 'amount', gt: 1000 }, level: 'automatic' },
    ];
    const levels = (count: number) => resolve(payment, { amount: 2000 }, rules.slice(0, count));
    expect(levels(6)).toMatchObject({ level: 'automatic', ruleIndex: 5 });
    expect(levels(5)).toMatchObject({ level: 'approval', ruleIndex: 4 });
    expect(levels(4)).toMatchObject({
      level: 'suggestion',
      ruleIndex: 3,
      reason:
        "take_payment (category external_service) amount 2000 > 100: rule 4 makes it a suggestion for the user's confirmation",
    });
    expect(levels(3)).toMatchObject({ level: 'consultation', ruleIndex: 2 });
    expect(levels(2)).toMatchObject({ level: 'approval', ruleIndex: 1 });
    expect(levels(1)).toEqual({
      level: 'denied',
      reason: 'take_payment: rule 1 for every action denies it',
      ruleIndex: 0,
    });
    // An action rule that also names the (right) category counts as an action rule.
    expect(
      resolve(sms, {}, [
        { action: 'send_sms', category: 'communication', level: 'suggestion' },
        { category: 'communication', level: 'denied' },
      ]),
    ).toMatchObject({ level: 'suggestion', ruleIndex: 0 });
  });

  it('breaks a tie between equally specific rules by strictness, then order', () => {
    const rules: PolicyRule[] = [
      { action: 'delete_resource', level: 'suggestion' },
      { action: 'delete_resource', level: 'denied', description: 'Never delete' },
      { action: 'delete_resource', level: 'approval' },
    ];
    expect(resolve(deletion, {}, rules)).toEqual({
      level: 'denied',
      reason:
        'delete_resource: rule 2 ("Never delete") denies it (the strictest of 3 equally specific rules)',
      ruleIndex: 1,
    });
    const same: PolicyRule[] = [
      { category: 'resource', level: 'approval' },
      { category: 'resource', level: 'approval' },
    ];
    expect(resolve(deletion, {}, same)).toMatchObject({ level: 'approval', ruleIndex: 0 });
    const ordered: PolicyRule[] = [
      { action: 'take_payment', when: { param: 'amount', gt: 100 }, level: 'consultation' },
      { action: 'take_payment', when: { param: 'amount', gt: 500 }, level: 'approval' },
      { action: 'take_payment', when: { param: 'amount', gt: 50 }, level: 'suggestion' },
    ];
    expect(resolve(payment, { amount: 750 }, ordered)).toMatchObject({ level: 'approval', ruleIndex: 1 });
    expect(resolve(payment, { amount: 200 }, ordered)).toMatchObject({ level: 'consultation', ruleIndex: 0 });
    expect(resolve(payment, { amount: 60 }, ordered)).toMatchObject({ level: 'suggestion', ruleIndex: 2 });
  });

  it('can loosen a default as well as tighten it', () => {
    expect(
      resolve(payment, { amount: 5 }, [
        { action: 'take_payment', when: { param: 'amount', lte: 20 }, level: 'automatic' },
      ]),
    ).toMatchObject({ level: 'automatic' });
    expect(resolve(sms, {}, [{ category: 'communication', level: 'approval' }])).toEqual({
      level: 'approval',
      reason: "send_sms (category communication): rule 1 requires a coordinator's approval",
      ruleIndex: 0,
    });
  });

  describe('rules scoped to one agent', () => {
    const A = 'agt_01HZZZZZZZZZZZZZZZZZZZZZZA';
    const B = 'agt_01HZZZZZZZZZZZZZZZZZZZZZZB';
    const forA: PolicyRule = { action: 'take_payment', level: 'approval', agentId: A, description: 'A asks' };

    it("applies to that agent's actions only", () => {
      expect(resolveLevel(payment, { amount: 5 }, { rules: [forA] }, A)).toEqual({
        level: 'approval',
        reason: `take_payment: rule 1 ("A asks") for agent ${A} requires a coordinator's approval`,
        ruleIndex: 0,
      });
      expect(resolveLevel(payment, { amount: 5 }, { rules: [forA] }, B)).toMatchObject({
        level: payment.defaultLevel,
        reason: expect.stringContaining('no policy rule applies'),
      });
      // An action with no agent known (none today, but the port allows it) gets tenant-wide rules only.
      expect(resolveLevel(payment, { amount: 5 }, { rules: [forA] }, undefined)).not.toHaveProperty(
        'ruleIndex',
      );
    });

    it('beats a tenant-wide rule of the same kind, looser or stricter, for that agent alone', () => {
      const rules: PolicyRule[] = [
        { action: 'take_payment', level: 'denied' },
        { action: 'take_payment', level: 'automatic', agentId: A },
      ];
      expect(resolveLevel(payment, {}, { rules }, A)).toMatchObject({ level: 'automatic', ruleIndex: 1 });
      expect(resolveLevel(payment, {}, { rules }, B)).toMatchObject({ level: 'denied', ruleIndex: 0 });
    });

    it('never lets a broader agent rule override a narrower tenant-wide one', () => {
      const rules: PolicyRule[] = [
        { action: 'take_payment', when: { param: 'amount', gt: 500 }, level: 'approval' },
        { category: 'external_service', level: 'automatic', agentId: A },
      ];
      expect(resolveLevel(payment, { amount: 900 }, { rules }, A)).toMatchObject({
        level: 'approval',
        ruleIndex: 0,
      });
      expect(resolveLevel(payment, { amount: 90 }, { rules }, A)).toMatchObject({
        level: 'automatic',
        ruleIndex: 1,
      });
    });

    it('takes an agent id in the body, and refuses anything else there', () => {
      expect(policyBody().parse({ rules: [forA] }).rules).toEqual([forA]);
      const bad = policyBody().safeParse({ rules: [{ level: 'approval', agentId: 'front-desk' }] });
      expect(bad.success).toBe(false);
      expect(bad.error?.issues[0]?.path).toEqual(['rules', 0, 'agentId']);
    });
  });
});
