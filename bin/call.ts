/**
 * `npm run call -- --to <agent number> --from <caller number>`: an interactive phone call to an
 * agent on a running local platform (`npm start`). Each line typed is what the caller says; it
 * goes through `POST /v1/dev/calls`, which walks the deployed contact flow document with the local
 * Connect + Lex V2 emulator and the voice Lambda's own handler (real event shapes). Prints what the
 * caller hears (SSML shown as text), fillers and transfers, with timings. Ctrl-D hangs up.
 *
 * Options: --api <url> (default $API or http://127.0.0.1:3000), --ssml (also print the SSML).
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';

interface Heard {
  kind: string;
  text: string;
  ssml?: string;
  atMs: number;
}

interface CallAnswer {
  callId: string;
  state: 'in-progress' | 'transferred' | 'ended';
  heard: Heard[];
}

const { values } = parseArgs({
  options: {
    to: { type: 'string' },
    from: { type: 'string' },
    api: { type: 'string', default: process.env.API ?? 'http://127.0.0.1:3000' },
    ssml: { type: 'boolean', default: false },
  },
});

if (!values.to || !values.from) {
  console.error('Usage: npm run call -- --to <agent number> --from <caller number> [--api <url>] [--ssml]');
  process.exit(2);
}

const LABEL: Record<string, string> = {
  prompt: 'agent',
  filler: 'agent (filler)',
  message: 'flow',
  transfer: 'connect',
  hangup: 'connect',
};

async function post(body: Record<string, string>): Promise<CallAnswer> {
  const response = await fetch(`${values.api}/v1/dev/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ to: values.to, from: values.from, ...body }),
  });
  const answer = (await response.json()) as CallAnswer & { error?: { message?: string } };
  if (!response.ok) throw new Error(`${response.status}: ${answer.error?.message ?? JSON.stringify(answer)}`);
  return answer;
}

function print(answer: CallAnswer, tookMs: number): void {
  for (const heard of answer.heard) {
    console.log(`  [${String(heard.atMs).padStart(5)} ms] ${LABEL[heard.kind] ?? heard.kind}: ${heard.text}`);
    if (values.ssml && heard.ssml) console.log(`              ${heard.ssml}`);
  }
  console.log(`  (${tookMs} ms in all; call ${answer.state})`);
}

async function main(): Promise<void> {
  console.log(`Calling ${values.to} from ${values.from}…`);
  let started = performance.now();
  let answer = await post({});
  print(answer, Math.round(performance.now() - started));
  const input = createInterface({ input: process.stdin, output: process.stdout });
  try {
    while (answer.state === 'in-progress') {
      let line: string;
      try {
        line = await input.question('you: ');
      } catch {
        break; // Ctrl-D
      }
      if (!line.trim()) continue;
      started = performance.now();
      answer = await post({ callId: answer.callId, text: line });
      print(answer, Math.round(performance.now() - started));
    }
  } finally {
    input.close();
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
