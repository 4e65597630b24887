import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveConsoleFile } from './console-files';

let server: Server;
let base: string;
let dir: string;

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'console-files-'));
  dir = join(root, 'dist');
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(join(dir, 'assets', 'app-123.js'), 'console.log(1)');
  writeFileSync(join(root, 'secret.txt'), 'not for the web');
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const target = url.searchParams.get('dir') ?? dir;
    if (!(await serveConsoleFile(target, req.method ?? 'GET', url.pathname, res))) {
      res.writeHead(404).end('api');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('serving the built console', () => {
  it('serves index.html at / with security headers, never cached', async () => {
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>console</title>');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  });

  it('lets the page connect to the WebSocket API on its own host, and ignores a Host header that is not one', async () => {
    const policy = (await fetch(`${base}/`)).headers.get('content-security-policy');
    expect(policy).toContain(`connect-src 'self' ws://${new URL(base).host};`);
    const { request } = await import('node:http');
    const forged = await new Promise<string | undefined>((resolve, reject) => {
      const req = request(`${base}/`, { headers: { host: 'evil.example; script-src *' } }, (res) => {
        res.resume();
        resolve(res.headers['content-security-policy'] as string | undefined);
      });
      req.on('error', reject);
      req.end();
    });
    expect(forged).toContain("connect-src 'self'; ");
    expect(forged).not.toContain('evil');
  });

  it('serves hashed assets with their type, cached for good', async () => {
    const response = await fetch(`${base}/assets/app-123.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/javascript');
    expect(response.headers.get('cache-control')).toContain('immutable');
  });

  it('answers the app for other paths, and leaves missing files and /v1 alone', async () => {
    expect(await (await fetch(`${base}/agents/agt_1`)).text()).toContain('<title>console</title>');
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
    expect(await (await fetch(`${base}/v1/agents`)).text()).toBe('api');
    expect(await (await fetch(`${base}/`, { method: 'POST' })).text()).toBe('api');
  });

  it('never serves a file outside its folder', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/.env']) {
      const response = await fetch(`${base}${path}`);
      expect(await response.text()).not.toContain('not for the web');
    }
  });

  it('says in words that the console is not built when it is not', async () => {
    const response = await fetch(`${base}/?dir=${encodeURIComponent(join(dir, 'nowhere'))}`);
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('npm run build:console');
  });
});

describe('config.json, read by the chat widget on businesses’ sites', () => {
  it('may be read from any origin when there is one; no other file may', async () => {
    const withConfig = join(mkdtempSync(join(tmpdir(), 'console-files-')), 'dist');
    mkdirSync(join(withConfig, 'assets'), { recursive: true });
    writeFileSync(join(withConfig, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(withConfig, 'config.json'), '{"wsUrl":"ws://127.0.0.1:9/v1/ws"}');
    const config = await fetch(`${base}/config.json?dir=${encodeURIComponent(withConfig)}`);
    expect(config.status).toBe(200);
    expect(config.headers.get('access-control-allow-origin')).toBe('*');
    expect(config.headers.get('cache-control')).toBe('no-cache');
    expect(await config.json()).toEqual({ wsUrl: 'ws://127.0.0.1:9/v1/ws' });
    for (const path of ['/', '/assets/app-123.js']) {
      const response = await fetch(`${base}${path}`);
      expect({ path, cors: response.headers.get('access-control-allow-origin') }).toEqual({
        path,
        cors: null,
      });
    }
  });

  it('is a 404 any origin can read when there is none (local mode), so the widget uses /v1/ws beside it', async () => {
    const missing = await fetch(`${base}/config.json`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('access-control-allow-origin')).toBe('*');
    expect(missing.headers.get('content-type')).toBe('application/json');
    expect(await missing.json()).toEqual({ message: 'Not Found' });
    expect((await fetch(`${base}/config.json`, { method: 'HEAD' })).status).toBe(404);
  });
});
