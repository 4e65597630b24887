import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The headers CloudFront's response-headers policy gives the console on AWS
 * (lib/constructs/console-hosting.ts would carry the same): the console loads only its own
 * files and talks only to its own origin's API.
 */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/** The deployment's public settings (`{wsUrl}` on AWS), read by the console and by the chat widget. */
const CONFIG_FILE = 'config.json';

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * The headers for a page served to `host`: its CSP names the WebSocket API on the same host
 * (`ws://host`), which the console opens for live events. CSP 3 lets `'self'` match it already,
 * but older engines do not, and naming it keeps the local policy the same shape as CloudFront's.
 * A Host header that is not a plain host[:port] adds nothing (no header injection).
 */
export function consoleSecurityHeaders(host: string | undefined): Record<string, string> {
  const headers = { ...CONSOLE_SECURITY_HEADERS };
  if (host && HOST.test(host)) {
    headers['content-security-policy'] = (headers['content-security-policy'] ?? '').replace(
      "connect-src 'self'",
      `connect-src 'self' ws://${host}`,
    );
  }
  return headers;
}

/**
 * Serves the built console (console/dist) for every GET outside /v1: a file when the path names
 * one, index.html for any other path (the console routes by the URL's hash, so this only makes a
 * bookmarked path land on the console). Hashed assets are cached for good; index.html never.
 * Answers false when it does not handle the request.
 */
export async function serveConsoleFile(
  dir: string,
  method: string,
  pathname: string,
  res: ServerResponse,
): Promise<boolean> {
  if ((method !== 'GET' && method !== 'HEAD') || pathname.startsWith('/v1/') || pathname === '/v1') {
    return false;
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  const relative = normalize(decoded).replace(/^([/\\])+/, '');
  const root = normalize(dir + sep);
  let file = join(root, relative);
  if (!file.startsWith(root) || relative.split(/[/\\]/).some((part) => part.startsWith('.'))) {
    return false;
  }
  const isFile = await stat(file).then(
    (found) => found.isFile(),
    () => false,
  );
  // The chat widget on businesses' sites reads config.json (as on AWS, lib/constructs/console-hosting.ts):
  // readable from any origin, and when there is none (local mode writes none) a 404 it can read too,
  // so it knows to use `/v1/ws` beside the script rather than guessing the file was unreachable.
  const readableAnywhere = relative === CONFIG_FILE ? { 'access-control-allow-origin': '*' } : {};
  if (!isFile) {
    if (relative === CONFIG_FILE) {
      res.writeHead(404, {
        ...readableAnywhere,
        'content-type': TYPES['.json'],
        'cache-control': 'no-cache',
      });
      res.end(method === 'HEAD' ? undefined : JSON.stringify({ message: 'Not Found' }));
      return true;
    }
    // A missing asset is a 404; any other path is the app.
    if (extname(relative) !== '') return false;
    file = join(root, 'index.html');
  }
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('The console is not built: run `npm run build:console` (npm start and npm test build it).\n');
    return true;
  }
  const immutable = file.startsWith(join(root, 'assets') + sep);
  res.writeHead(200, {
    ...consoleSecurityHeaders(res.req?.headers.host),
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': String(body.length),
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    ...readableAnywhere,
  });
  res.end(method === 'HEAD' ? undefined : body);
  return true;
}
