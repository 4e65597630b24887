import type { AgentStatus } from './schemas';

/**
 * The agent lifecycle: draft → provisioning → active ⇄ paused → stopped, with error reachable
 * from provisioning. Operator commands name a target; this table says from where it is allowed.
 */
export const LIFECYCLE_COMMANDS = {
  // Until the provisioning workflow exists there is nothing to provision, so start goes
  // straight to active; the provisioning workflow will move draft → provisioning → active.
  start: { from: ['draft', 'stopped', 'error'], to: 'active' },
  pause: { from: ['active'], to: 'paused' },
  resume: { from: ['paused'], to: 'active' },
  stop: { from: ['provisioning', 'active', 'paused', 'error'], to: 'stopped' },
} as const satisfies Record<string, { from: readonly AgentStatus[]; to: AgentStatus }>;

export type LifecycleCommand = keyof typeof LIFECYCLE_COMMANDS;

export function allowedFrom(command: LifecycleCommand): readonly AgentStatus[] {
  return LIFECYCLE_COMMANDS[command].from;
}

export function transitionError(command: LifecycleCommand, current: AgentStatus): string {
  return `Cannot ${command} an agent that is ${current}; ${command} is allowed from ${allowedFrom(command).join(', ')}`;
}
