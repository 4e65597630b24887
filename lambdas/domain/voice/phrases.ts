import type { Agent } from '../agents/schemas';

/**
 * What the platform itself says on a call (never the model): greetings, the filler, apologies.
 * Plain sentences; callers wrap them with `ssmlOf`.
 */
export const PHRASES = {
  filler: 'One moment while I check that.',
  stillWorking: 'Thanks for waiting, I am still on it.',
  unknownNumber: 'Sorry, this number is not in service. Please check the number and try again. Goodbye.',
  unavailable: (name: string) =>
    `Sorry, ${name} is not taking calls right now. Please try again later. Goodbye.`,
  noTokens:
    'Sorry, we cannot take your call right now. Let me find someone who can help, or please call back later.',
  noTokensMidCall: 'Sorry, I cannot continue this call right now. Let me find someone who can help you.',
  handedOff: 'Let me put you through to a person who can help.',
  gaveUp: 'Sorry, that is taking me longer than it should. Could you ask me again in a moment?',
  failed: 'Sorry, something went wrong on my side. Could you say that again?',
  busy: 'Sorry, I am handling a lot of calls right now. Please say that again in a moment.',
  didNotHear: 'Sorry, I did not catch that. Could you say it again?',
  awaitingApproval: 'That needs approval from the team first; you will hear from us once it is approved.',
  awaitingConfirmation: 'That needs a confirmation from the team before it goes ahead.',
} as const;

export const DEFAULT_VOICE = { voiceId: 'Joanna', localeId: 'en_US' } as const;

/** The first thing a caller hears: the agent's greeting, or one made from its name. */
export function greetingOf(agent: Agent, purpose?: string): string {
  if (purpose) {
    return `Hello, this is ${agent.name} calling about ${purpose.trim().replace(/[.!?]+$/, '')}. Is now a good time?`;
  }
  return agent.voice?.greeting ?? `Hello, you have reached ${agent.name}. How can I help you today?`;
}
