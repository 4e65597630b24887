/**
 * The console's first load on the local server: what a browser fetches before the sign-in form
 * (index.html, JS, CSS; raw and gzip-compressed, as CloudFront would send them) and the time until
 * the form can be used, cold (a new browser context each round, nothing cached), measured in
 * Debian's Chromium driven by playwright-core. Also the agents page for a signed-in user: the app
 * plus the requests it makes before the list shows (counted and named in the report). The other
 * pages are chunks of their own, fetched when shown: listed apart, not in the first load.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { withLocalPlatform } from './local-stack';
import { REPO_ROOT } from './paths';
import { heading, table } from './report';
import { round, type Summary, summarize } from './stats';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DIST = join(REPO_ROOT, 'console/dist');

/** What the code run inside the page touches (this program has no DOM types). */
interface InPage {
  readonly sessionStorage: { setItem(key: string, value: string): void };
  readonly document: { querySelector(selector: string): unknown };
}

export interface ConsoleAsset {
  readonly path: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

export interface ConsoleLoadResult {
  readonly assets: readonly ConsoleAsset[];
  /** The other pages' chunks (console/src/lazy.tsx), each fetched the first time its page is shown. */
  readonly lazyChunks: readonly ConsoleAsset[];
  /** The chat widget businesses put on their sites (console/dist/widget.js, one file, no CSS). */
  readonly widget: ConsoleAsset;
  readonly signInInteractiveMs: Summary;
  readonly agentsInteractiveMs: Summary;
  /** What the agents page requested after index.html until the list showed (method and path, in order). */
  readonly agentsRequests: readonly string[];
}

function assetOf(path: string): ConsoleAsset {
  const body = readFileSync(join(DIST, path));
  return { path, bytes: body.length, gzipBytes: gzipSync(body).length };
}

/** index.html and every script and stylesheet it links: the first load (the sign-in form, the agents list). */
function firstLoadAssets(): ConsoleAsset[] {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const linked = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1] ?? '');
  return ['/index.html', ...linked].map(assetOf);
}

/** Every other script of the build: the pages loaded on demand, largest first. */
function lazyChunks(firstLoad: readonly ConsoleAsset[]): ConsoleAsset[] {
  return readdirSync(join(DIST, 'assets'))
    .map((name) => `/assets/${name}`)
    .filter((path) => path.endsWith('.js') && !firstLoad.some((asset) => asset.path === path))
    .map(assetOf)
    .sort((a, b) => b.gzipBytes - a.gzipBytes);
}

export async function measureConsoleLoad(options: {
  rounds: number;
  progress: (line: string) => void;
}): Promise<ConsoleLoadResult> {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is missing at ${CHROMIUM} (apt-get install -y chromium)`);
  options.progress('console: building');
  execFileSync('npm', ['run', '-s', 'build:console'], { cwd: REPO_ROOT, stdio: 'ignore' });
  const assets = firstLoadAssets();
  const chunks = lazyChunks(assets);
  const widgetBody = readFileSync(join(DIST, 'widget.js'));
  const widget = { path: '/widget.js', bytes: widgetBody.length, gzipBytes: gzipSync(widgetBody).length };
  return withLocalPlatform(async (platform) => {
    const registered = await fetch(`${platform.url}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        tenant: { name: 'Bench Dental' },
        owner: { email: 'bench@console.test', password: 'Correct-Horse-9', name: 'Bench' },
      }),
    });
    const token = ((await registered.json()) as { auth: { token: string } }).auth.token;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      let agentsRequests: string[] = [];
      const measure = async (signedIn: boolean, selector: string) => {
        const samples: number[] = [];
        for (let i = 0; i < options.rounds + 2; i++) {
          const context = await browser.newContext();
          if (signedIn) {
            await context.addInitScript(
              (session) => {
                (globalThis as unknown as InPage).sessionStorage.setItem('agent-console.session', session);
              },
              JSON.stringify({ token, email: 'bench@console.test' }),
            );
          }
          const page = await context.newPage();
          const requests: string[] = [];
          page.on('request', (request) => {
            const url = new URL(request.url());
            if (url.origin === platform.url && url.pathname !== '/')
              requests.push(`${request.method()} ${url.pathname}`);
          });
          await page.goto(`${platform.url}/${signedIn ? '#/agents' : ''}`, { waitUntil: 'commit' });
          // Milliseconds since navigation start when the element is there (polled every frame).
          const at = await page.waitForFunction(
            (css) =>
              (globalThis as unknown as InPage).document.querySelector(css) ? performance.now() : false,
            selector,
            { polling: 'raf' },
          );
          const ms = (await at.jsonValue()) as number;
          if (signedIn) agentsRequests = [...requests];
          await context.close();
          if (i >= 2) samples.push(ms); // two warm-up rounds: the server's first answers
        }
        return summarize(samples);
      };
      options.progress('console: sign-in page');
      const signInInteractiveMs = await measure(false, 'main.auth input[type=email]');
      options.progress('console: agents page');
      const agentsInteractiveMs = await measure(true, 'main .empty, main table');
      return { assets, lazyChunks: chunks, widget, signInInteractiveMs, agentsInteractiveMs, agentsRequests };
    } finally {
      await browser.close();
    }
  });
}

const kb1 = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

export function printConsoleLoad(result: ConsoleLoadResult): void {
  console.log(heading('Console first load (local server, Chromium, cold cache each round)'));
  const total = (kind: string) => result.assets.filter((a) => a.path.endsWith(kind));
  const rows = result.assets.map((a) => [a.path, kb1(a.bytes), kb1(a.gzipBytes)]);
  const sum = (list: readonly ConsoleAsset[], key: 'bytes' | 'gzipBytes') =>
    list.reduce((n, a) => n + a[key], 0);
  rows.push(
    ['JS total', kb1(sum(total('.js'), 'bytes')), kb1(sum(total('.js'), 'gzipBytes'))],
    ['CSS total', kb1(sum(total('.css'), 'bytes')), kb1(sum(total('.css'), 'gzipBytes'))],
    ['everything', kb1(sum(result.assets, 'bytes')), kb1(sum(result.assets, 'gzipBytes'))],
  );
  console.log(table(['first load', 'raw', 'gzip'], rows));
  console.log(
    table(
      ['loaded when its page is shown', 'raw', 'gzip'],
      [
        ...result.lazyChunks.map((a) => [a.path, kb1(a.bytes), kb1(a.gzipBytes)]),
        [
          `${result.lazyChunks.length} chunks`,
          kb1(sum(result.lazyChunks, 'bytes')),
          kb1(sum(result.lazyChunks, 'gzipBytes')),
        ],
      ],
    ),
  );
  console.log(
    table(
      ['chat widget (host pages load it)', 'raw', 'gzip'],
      [[result.widget.path, kb1(result.widget.bytes), kb1(result.widget.gzipBytes)]],
    ),
  );
  const apiCalls = result.agentsRequests.filter((r) => r.includes(' /v1/')).length;
  const line = (name: string, s: Summary) => [
    name,
    String(s.n),
    `${round(s.p50)} ms`,
    `${round(s.p99)} ms`,
    `${round(s.max)} ms`,
  ];
  console.log(
    table(
      ['time to interactive', 'n', 'p50', 'p99', 'max'],
      [
        line('sign-in form usable', result.signInInteractiveMs),
        line(`agents page (signed in, ${apiCalls} API calls)`, result.agentsInteractiveMs),
      ],
    ),
  );
  console.log(
    'Gzip sizes are what a gzip-encoding CDN sends (zlib default level); the local server sends the files raw.\n' +
      'Time to interactive: navigation start until the form (or the agents list) is in the page, in ms.\n' +
      `The agents page's requests until its list shows: ${result.agentsRequests.join(', ')}.`,
  );
}

/** `npm run bench:console`: this part of the bench alone. */
if (require.main === module) {
  measureConsoleLoad({
    rounds: Number(process.env.ROUNDS ?? 15),
    progress: (l) => process.stderr.write(`${l}\n`),
  })
    .then(printConsoleLoad)
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
