/**
 * The console's live pages and the chat widget in a real browser (Debian's Chromium driven by
 * playwright-core) against local mode: the chat playground streaming a turn over the WebSocket
 * (deltas, the calculator tool), the approvals inbox receiving a new approval pushed over the socket,
 * a provisioning followed step by step, and the widget on a plain page of another origin (allowed by
 * the agent's web chat) answering a visitor, its socket's URL from config.json beside the script as on
 * AWS — axe-core on each (no serious or critical violation),
 * screenshots under test-output/live/. One browser and one server for the whole file.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { type ApiClient, agentBody, registerTenant, startApi, topUp } from '../support/api';
import { launchBrowser, newConsolePage, screenshotAndCheck } from '../support/browser';

const SHOTS = join(__dirname, '../../test-output/live');
const DIST = join(__dirname, '../../console/dist');

jest.setTimeout(90_000);

let api: ApiClient;
let browser: Browser;
let page: Page;
let owner: Awaited<ReturnType<typeof registerTenant>>;
let agentId: string;
let hostServer: Server;
let hostOrigin: string;
/** Every frame the console's socket received, in order (the playground's and the inbox's). */
const received: Array<Record<string, unknown>> = [];
const socketUrls: string[] = [];

beforeAll(async () => {
  browser = await launchBrowser({ built: ['index.html', 'widget.js'], shots: SHOTS });
  api = await startApi();
  owner = await registerTenant(api, 'Live Dental');
  await topUp(api, owner.token, 5000);
  const created = await api.request('POST', '/v1/agents', {
    token: owner.token,
    body: {
      ...agentBody('Front desk'),
      tools: ['calculator', 'knowledge_lookup', 'take_payment', 'place_call'],
      knowledgeBase: {
        faqs: [{ question: 'Do you take walk-ins?', answer: 'Walk-ins are welcome before noon.' }],
      },
    },
  });
  expect(created.status).toBe(201);
  agentId = created.body.id;
  expect((await api.request('POST', `/v1/agents/${agentId}/start`, { token: owner.token })).status).toBe(200);

  // The business's own website: another origin, serving a plain page with the widget's one tag
  // (`?platform=` names where the script comes from: the local platform unless a test says).
  hostServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://host');
    const platform = url.searchParams.get('platform') ?? api.platform.url;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      `<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<title>Live Dental</title></head><body><main><h1>Live Dental</h1><p>Cleanings, check-ups and more.</p></main>` +
        `<script src="${platform}/widget.js" data-key="${url.searchParams.get('key')}" async></script></body></html>`,
    );
  });
  await new Promise<void>((resolve) => hostServer.listen(0, '127.0.0.1', resolve));
  hostOrigin = `http://127.0.0.1:${(hostServer.address() as AddressInfo).port}`;

  page = await newConsolePage(browser);
  page.on('websocket', (socket) => {
    socketUrls.push(socket.url());
    socket.on('framereceived', (frame) => {
      try {
        received.push(JSON.parse(String(frame.payload)));
      } catch {
        // not JSON: the assertions below would miss it and fail
      }
    });
  });
  // Signed in as the owner (sign-in itself is the console suite's).
  await page.goto(`${api.platform.url}/`);
  await page.evaluate(
    (session) => (globalThis as any).sessionStorage.setItem('agent-console.session', session),
    JSON.stringify({ token: owner.token, email: owner.email }),
  );
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Agents' }).waitFor();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (hostServer ? hostServer.close(() => resolve()) : resolve()));
  await api?.platform.stop();
});

const visit = (name: string, target: Page = page) => screenshotAndCheck(target, SHOTS, name);

const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name });

describe('the console, live', () => {
  it('chats in the playground: the answer streams in, with the calculator tool', async () => {
    await page.goto(`${api.platform.url}/#/agents/${agentId}`);
    await heading('Front desk').waitFor();
    await page.getByRole('link', { name: 'Chat with Front desk' }).click();
    await heading('Chat with Front desk').waitFor();
    await page.getByText('Connected.').waitFor();
    await visit('playground-empty');
    // Every text the answer region shows, as it changes: streamed text shows more than the last one.
    await page.evaluate(() => {
      const inPage = globalThis as any;
      inPage.__answers = [];
      new inPage.MutationObserver(() => {
        const answer = inPage.document.querySelector('.from-agent');
        if (answer) inPage.__answers.push(answer.textContent);
      }).observe(inPage.document.querySelector('main'), {
        subtree: true,
        childList: true,
        characterData: true,
      });
    });
    await page.getByLabel('Message').fill('What is 12*(3+4)?');
    await page.getByRole('button', { name: 'Send' }).click();
    const done = page.locator('.from-agent[aria-busy="false"]');
    await done.waitFor();
    expect(await done.textContent()).toContain('84');
    expect(await done.getAttribute('aria-live')).toBe('polite');
    await page.getByRole('list', { name: 'What the agent did' }).getByText('Tool calculator: done').waitFor();

    const seen = (await page.evaluate(() => (globalThis as any).__answers)) as string[];
    const final = (await done.textContent()) ?? '';
    const partial = [...new Set(seen)].filter(
      (text) => text !== final && text.length > 'Front desk: '.length + 1,
    );
    // At least one strictly partial answer was on screen before the whole one.
    expect(partial.some((text) => final.startsWith(text.replace(/…$/, '')))).toBe(true);
    // The token travels as a subprotocol, never in the URL (which logs keep).
    expect(socketUrls.length).toBeGreaterThan(0);
    for (const url of socketUrls) expect(url).not.toContain(owner.token);
    const types = received.map((frame) => frame.type);
    expect(types).toEqual(
      expect.arrayContaining(['agent_thinking', 'tool_execution', 'agent_message_delta', 'agent_message']),
    );
    await visit('playground-answered');

    // Thumbs up on the answer: recorded over the socket, counted in the agent's stats.
    await page.getByRole('button', { name: 'Helpful', exact: true }).click();
    await page.getByText('Feedback recorded: helpful.').waitFor();
    const stats = await api.request('GET', `/v1/agents/${agentId}/stats`, { token: owner.token });
    expect(stats.body.feedback).toMatchObject({ up: 1, down: 0 });
  });

  it('shows a new approval in the inbox as soon as it is asked for (pushed, not polled)', async () => {
    const subscribedBefore = received.filter((frame) => frame.type === 'subscribed').length;
    await page.goto(`${api.platform.url}/#/approvals`);
    await heading('Approvals and suggestions').waitFor();
    await page.getByText('Nothing is waiting for you.').waitFor();
    await page.getByText('Live: new approvals appear as they are asked for.').waitFor();
    // The inbox follows the agent over the socket before anything is asked.
    const deadline = Date.now() + 10_000;
    while (received.filter((frame) => frame.type === 'subscribed').length <= subscribedBefore) {
      if (Date.now() > deadline) throw new Error('the inbox never subscribed to the agent');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const proposed = await api.request('POST', '/v1/agent/process', {
      token: owner.token,
      body: { agentId, message: 'Charge 49.99 USD for a cleaning' },
    });
    expect(proposed.body.actions[0]).toMatchObject({ action: 'take_payment', status: 'awaiting_approval' });
    // Well inside the 30 s fallback poll: only the pushed approval_requested can bring it this soon.
    const card = page.getByRole('article', { name: /take payment/ });
    await card.waitFor({ timeout: 8_000 });
    expect(received.some((frame) => frame.type === 'approval_requested')).toBe(true);
    await page.getByText('New approval requested: take payment.').waitFor({ state: 'attached' });
    await visit('approvals-live');
    await card.getByRole('button', { name: 'Approve' }).click();
    await card.getByText('Action take_payment: executed').waitFor({ timeout: 30_000 });

    // A suggestion (an action waiting for the user's confirmation) arrives the same way.
    const suggested = await api.request('POST', '/v1/agent/process', {
      token: owner.token,
      body: { agentId, message: 'Call +15551234567 about the missed appointment' },
    });
    expect(suggested.body.actions[0]).toMatchObject({
      action: 'place_call',
      status: 'awaiting_confirmation',
    });
    await page.getByRole('article', { name: /place call/ }).waitFor({ timeout: 8_000 });
  });

  it('provisions an agent with a voice number and shows each step succeed', async () => {
    await page.getByRole('link', { name: 'Provisioning' }).click();
    await heading('Provision an agent').waitFor();
    await visit('provision-form');
    await page.getByLabel('Agent name').fill('Night line');
    await page.getByLabel('Business type').fill('dental');
    await page.getByRole('button', { name: 'Provision' }).click();
    await heading('Provisioning').waitFor();
    await page.getByText('Every step is done: the agent is active.').waitFor({ timeout: 30_000 });
    const rows = page.getByRole('table', { name: 'Steps, in order' }).locator('tbody tr');
    const steps = await rows.allTextContents();
    expect(steps.length).toBeGreaterThanOrEqual(4);
    expect(steps.some((row) => row.startsWith('voice:claim-number'))).toBe(true);
    for (const row of steps) expect(row).toContain('done');
    // What was created is named: the claimed number.
    expect(steps.join('\n')).toMatch(/\+1555010\d{4}/);
    await visit('provisioning-succeeded');
  });

  it('shows a failed provisioning with what was undone, in reverse', async () => {
    const started = await api.request('POST', '/v1/agents/provision', {
      token: owner.token,
      body: {
        agent: agentBody('Doomed line'),
        channels: [{ type: 'voice' }],
        simulate: { failStep: 'voice:associate-flow' },
      },
    });
    expect(started.status).toBe(202);
    await page.goto(`${api.platform.url}/#/provisioning/${started.body.provisioningId}`);
    await page.getByText(/Failed at voice:associate-flow/).waitFor({ timeout: 30_000 });
    const rows = page.getByRole('table', { name: 'Steps, in order' }).locator('tbody tr');
    const row = (key: string) =>
      rows.filter({ has: page.getByRole('rowheader', { name: key, exact: true }) });
    expect(await row('voice:claim-number').textContent()).toContain('undone');
    expect(await row('voice:create-flow').textContent()).toContain('undone');
    expect(await row('voice:associate-flow').textContent()).toContain('failed');
    expect(await row('agent:activate').textContent()).toContain('not run');
    await visit('provisioning-failed');
  });

  it('provisions an agent on SMS and Telegram from the form, never showing a secret, and lists it', async () => {
    await page.goto(`${api.platform.url}/#/provisioning`);
    await heading('Provision an agent').waitFor();
    await page.getByLabel('Agent name').fill('Text line');
    await page.getByLabel('Business type').fill('dental');
    // Every channel the API provisions is offered.
    for (const label of [
      'Voice: a new phone number and its call flow',
      'SMS (Twilio)',
      'WhatsApp (Twilio)',
      'Telegram bot',
      'Slack app',
      'Facebook Messenger',
      'Instagram messages',
      'Email',
    ]) {
      await page.getByRole('checkbox', { name: label, exact: true }).waitFor();
    }
    await page.getByRole('checkbox', { name: 'Voice: a new phone number and its call flow' }).uncheck();
    await page.getByRole('checkbox', { name: 'SMS (Twilio)' }).check();
    await page.getByRole('checkbox', { name: 'Telegram bot' }).check();
    const sms = page.getByRole('group', { name: 'SMS details' });
    await sms.getByLabel('Twilio phone number').fill('+15550191');
    await sms.getByLabel('Account SID').fill('AC00000000000000000000000000000001');
    const authToken = sms.getByLabel('Auth token');
    await authToken.fill('browser-twilio-token');
    // Secrets are typed into password fields, with where to find them.
    expect(await authToken.getAttribute('type')).toBe('password');
    expect(await sms.textContent()).toContain('Twilio Console → Account Info');
    const telegram = page.getByRole('group', { name: 'Telegram bot details' });
    await telegram.getByLabel('Bot token').fill('123456:browser-bot');
    expect(await telegram.getByLabel('Bot token').getAttribute('type')).toBe('password');
    await visit('provision-form-sms-telegram');
    await page.getByRole('button', { name: 'Provision' }).click();
    await heading('Provisioning').waitFor();
    await page.getByText('Every step is done: the agent is active.').waitFor({ timeout: 30_000 });
    const steps = await page
      .getByRole('table', { name: 'Steps, in order' })
      .locator('tbody tr')
      .allTextContents();
    for (const key of ['sms:check-credentials', 'sms:point-webhooks', 'telegram:configure-channel']) {
      expect(steps.find((row) => row.startsWith(key))).toContain('done');
    }
    expect(await page.content()).not.toMatch(/browser-twilio-token|123456:browser-bot/);

    // The list: newest first, with the failed one of the test before, its failing step and what was undone.
    await page.getByRole('link', { name: 'All provisionings, or provision another agent' }).click();
    await heading('Provision an agent').waitFor();
    const list = page.getByRole('table', { name: 'Provisionings so far' });
    const rowOf = (agent: string) => list.locator('tbody tr').filter({ hasText: agent });
    await rowOf('Text line').waitFor();
    expect(await rowOf('Text line').textContent()).toMatch(/sms \(\+15550191\), telegram.*succeeded/);
    const failed = await rowOf('Doomed line').textContent();
    expect(failed).toContain('failed');
    expect(failed).toContain('at voice:associate-flow');
    expect(failed).toMatch(/[1-9] steps? undone/);
    // The form's fields start empty again: nothing kept the secrets.
    expect(await page.getByLabel('Agent name').inputValue()).toBe('');
    await visit('provisioning-list');
    await page.getByLabel('Status').selectOption('failed');
    await list.locator('tbody tr').filter({ hasText: 'Text line' }).waitFor({ state: 'detached' });
    expect(await list.locator('tbody tr').allTextContents()).toEqual([
      expect.stringContaining('Doomed line'),
    ]);
    await rowOf('Doomed line').getByRole('link', { name: /\d/ }).click();
    await page.getByText(/Failed at voice:associate-flow/).waitFor();
  });

  it('adds a channel to an existing agent from its page', async () => {
    await page.goto(`${api.platform.url}/#/agents/${agentId}`);
    await page.getByRole('link', { name: 'Provision a channel' }).click();
    await heading('Provision a channel').waitFor();
    await page.getByRole('radio', { name: 'Email' }).check();
    await page.getByLabel('Mailbox').fill('desk@live-dental.example');
    await visit('provision-channel-form');
    await page.getByRole('button', { name: 'Provision' }).click();
    await heading('Provisioning').waitFor();
    await page.getByText('Every step is done: the agent is active.').waitFor({ timeout: 30_000 });
    expect(await page.getByText(/Agent: Front desk/).count()).toBe(1);
    // The agent's own provisionings, paged with Load more once there are more than a page.
    await page.goto(`${api.platform.url}/#/provisioning?agent=${agentId}`);
    await heading('Provision a channel').waitFor();
    const list = page.getByRole('table', { name: 'This agent’s provisionings' });
    await list.locator('tbody tr').first().waitFor();
    expect(await list.locator('tbody tr').allTextContents()).toEqual([
      expect.stringMatching(/Front desk.*email \(desk@live-dental\.example\).*succeeded/),
    ]);
  });

  it('pages the list with Load more', async () => {
    // More than a page (20) of provisionings, started over the API: each fails at once (simulated).
    for (let i = 0; i < 21; i++) {
      const started = await api.request('POST', '/v1/agents/provision', {
        token: owner.token,
        body: {
          agent: agentBody(`Batch ${i}`),
          channels: [{ type: 'email', address: `batch${i}@live-dental.example` }],
          simulate: { failStep: 'email:check-identity' },
        },
      });
      expect(started.status).toBe(202);
    }
    await page.goto(`${api.platform.url}/#/provisioning`);
    await heading('Provision an agent').waitFor();
    const rows = page.getByRole('table', { name: 'Provisionings so far' }).locator('tbody tr');
    // The hash change keeps the page: wait for the whole first page, not the agent's old list.
    await rows.nth(19).waitFor();
    expect(await rows.count()).toBe(20);
    await page.getByRole('button', { name: 'Load more' }).click();
    await rows.nth(20).waitFor();
    const all = await rows.allTextContents();
    // Every provisioning once: the 21 failed batch ones, Text line, Doomed line, Night line, Front desk's email.
    expect(all.length).toBe(25);
    expect(new Set(all).size).toBe(25);
    expect(all.at(-1)).toContain('Night line');
    await page.getByRole('button', { name: 'Load more' }).waitFor({ state: 'detached' });
  });

  it('keeps the new pages within a 360 px wide screen', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    for (const [path, title] of [
      [`agents/${agentId}/chat`, 'Chat with Front desk'],
      ['provisioning', 'Provision an agent'],
    ] as const) {
      await page.goto(`${api.platform.url}/#/${path}`);
      await heading(title).waitFor();
      const overflow = await page.evaluate(() => {
        const root = (globalThis as any).document.documentElement;
        return root.scrollWidth - root.clientWidth;
      });
      expect({ path, overflow }).toEqual({ path, overflow: 0 });
    }
    await page.setViewportSize({ width: 1280, height: 860 });
  });
});

describe('the console’s socket, dropped by the server', () => {
  it('shows it is reconnecting, reconnects, subscribes again and receives the next approval', async () => {
    const { localConnections } = await import('../../local/websocket-server');
    /** What the page sent, with the socket (in the order this test saw them open) it went on. */
    const sent: Array<Record<string, unknown>> = [];
    let socketsSeen = 0;
    const recordSent = (socket: import('playwright-core').WebSocket) => {
      const index = socketsSeen++;
      socket.on('framesent', (frame) => {
        try {
          sent.push({ socketIndex: index, ...JSON.parse(String(frame.payload)) });
        } catch {
          // not JSON: the assertions below would miss it and fail
        }
      });
    };
    page.on('websocket', recordSent);
    const waitUntil = async (what: string, ok: () => boolean, ms = 15_000) => {
      const deadline = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    try {
      await page.goto(`${api.platform.url}/#/agents`);
      await heading('Agents').waitFor();
      const subscribedBefore = received.filter((frame) => frame.type === 'subscribed').length;
      await page.goto(`${api.platform.url}/#/approvals`);
      await heading('Approvals and suggestions').waitFor();
      const status = page.getByRole('status').filter({ hasText: /live updates|Live:/ });
      await status.getByText('Live: new approvals appear as they are asked for.').waitFor();
      expect(await status.getAttribute('aria-live')).toBe('polite');
      await waitUntil(
        'the inbox subscribed',
        () => received.filter((frame) => frame.type === 'subscribed').length > subscribedBefore,
      );
      // Every text the status line shows from now on: the reconnecting state lasts about the first
      // backoff (0.5–1 s), so it is recorded as it happens rather than polled for.
      await page.evaluate(() => {
        const inPage = globalThis as any;
        inPage.__liveStatus = [];
        const line = [...inPage.document.querySelectorAll('[role=status]')].find((e: any) =>
          /live updates|Live:/.test(e.textContent ?? ''),
        );
        new inPage.MutationObserver(() => inPage.__liveStatus.push(line.textContent)).observe(line, {
          subtree: true,
          childList: true,
          characterData: true,
        });
      });
      const socketsBefore = socketUrls.length;
      const frameMark = received.length;
      const firstNewSocket = socketsSeen;

      expect(localConnections.dropAll()).toBe(1);

      await waitUntil('the console opened a new socket', () => socketUrls.length > socketsBefore);
      await status.getByText('Live: new approvals appear as they are asked for.').waitFor();
      const shown = (await page.evaluate(() => (globalThis as any).__liveStatus)) as string[];
      expect(shown).toEqual(
        expect.arrayContaining([expect.stringMatching(/^Connection lost: reconnecting/)]),
      );
      expect(shown.at(-1)).toBe('Live: new approvals appear as they are asked for.');
      // One new socket to the same place, still without the token in its URL, which subscribed to
      // the agent again (and was answered) before anything new was asked.
      expect(socketUrls.length).toBe(socketsBefore + 1);
      const reopened = socketUrls.at(-1) as string;
      expect(reopened).toBe(socketUrls[socketsBefore - 1]);
      expect(reopened).not.toContain(owner.token);
      await waitUntil('the new socket subscribed to the agent', () =>
        sent.some(
          (frame) =>
            (frame.socketIndex as number) >= firstNewSocket &&
            frame.action === 'subscribe' &&
            frame.agentId === agentId,
        ),
      );
      await waitUntil('the subscription was answered', () =>
        received.slice(frameMark).some((frame) => frame.type === 'subscribed'),
      );

      const proposed = await api.request('POST', '/v1/agent/process', {
        token: owner.token,
        body: { agentId, message: 'Charge 19.99 USD for a check-up' },
      });
      expect(proposed.body.actions[0]).toMatchObject({ action: 'take_payment', status: 'awaiting_approval' });
      // Inside the 30 s fallback poll: only a push on the new socket brings it this soon.
      await page.getByRole('article', { name: /take payment/ }).waitFor({ timeout: 8_000 });
      expect(received.slice(frameMark).some((frame) => frame.type === 'approval_requested')).toBe(true);
      await page.getByText('New approval requested: take payment.').waitFor({ state: 'attached' });
      await visit('approvals-reconnected');
    } finally {
      page.off('websocket', recordSent);
    }
  });
});

describe('the chat widget on a business’s website', () => {
  it('answers a visitor on a plain page of an allowed origin, by keyboard, on a phone', async () => {
    const chat = await api.request('PUT', `/v1/agents/${agentId}/web-chat`, {
      token: owner.token,
      body: { allowedOrigins: [hostOrigin] },
    });
    expect(chat.status).toBe(200);
    const visitor = await browser.newPage({ viewport: { width: 360, height: 740 } });
    visitor.setDefaultTimeout(15_000);
    try {
      await visitor.goto(`${hostOrigin}/?key=${chat.body.publishableKey}`);
      const launcher = visitor.getByRole('button', { name: 'Chat with us' });
      await launcher.waitFor();
      expect(await launcher.getAttribute('aria-expanded')).toBe('false');
      await visit('widget-closed', visitor);
      await launcher.click();
      const panel = visitor.getByRole('dialog', { name: 'Chat with us' });
      await panel.waitFor();
      // Focus moves into the panel, on the message box.
      const message = panel.getByLabel('Your message');
      expect(await message.evaluate((input) => input === (input.getRootNode() as any).activeElement)).toBe(
        true,
      );
      await visitor.keyboard.type('Do you take walk-ins?');
      await visitor.keyboard.press('Enter');
      const answer = panel.locator('li.agent:not([aria-busy])');
      await answer.waitFor({ timeout: 30_000 });
      expect(await answer.textContent()).toMatch(/Walk-ins are welcome before noon/);
      const box = await panel.boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= 360).toBe(true);
      await visit('widget-answered', visitor);
      // Escape closes it and gives focus back to the launcher.
      await visitor.keyboard.press('Escape');
      await panel.waitFor({ state: 'hidden' });
      expect(await launcher.getAttribute('aria-expanded')).toBe('false');
      expect(
        await launcher.evaluate((button) => button === (button.getRootNode() as any).activeElement),
      ).toBe(true);
    } finally {
      await visitor.close();
    }
  });

  it('finds the WebSocket API from config.json beside the script, with only data-key (as on AWS)', async () => {
    const chat = await api.request('PUT', `/v1/agents/${agentId}/web-chat`, {
      token: owner.token,
      body: { allowedOrigins: [hostOrigin] },
    });
    expect(chat.status).toBe(200);
    const key = chat.body.publishableKey as string;
    const wsApi = `${api.platform.url.replace(/^http/, 'ws')}/v1/ws`;
    // The platform as on AWS: widget.js and config.json on one origin (CloudFront), the WebSocket
    // API on another; this origin has no /v1/ws, so only config.json's wsUrl reaches the agent.
    const configRequests: Array<string | undefined> = [];
    const files = createServer((req, res) => {
      if (req.url === '/widget.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(readFileSync(join(DIST, 'widget.js')));
      } else if (req.url === '/config.json') {
        configRequests.push(req.headers.origin);
        res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
        res.end(JSON.stringify({ wsUrl: wsApi }));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    const filesOrigin = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    const visitor = await browser.newPage();
    visitor.setDefaultTimeout(15_000);
    try {
      const socket = visitor.waitForEvent('websocket');
      await visitor.goto(`${hostOrigin}/?key=${key}&platform=${encodeURIComponent(filesOrigin)}`);
      // Nothing is fetched until the chat is opened.
      await visitor.getByRole('button', { name: 'Chat with us' }).waitFor();
      expect(configRequests).toEqual([]);
      await visitor.getByRole('button', { name: 'Chat with us' }).click();
      expect((await socket).url()).toBe(`${wsApi}?key=${key}`);
      expect(configRequests).toEqual([hostOrigin]);
      const panel = visitor.getByRole('dialog', { name: 'Chat with us' });
      await panel.getByLabel('Your message').fill('Do you take walk-ins?');
      await visitor.keyboard.press('Enter');
      const answer = panel.locator('li.agent:not([aria-busy])');
      await answer.waitFor({ timeout: 30_000 });
      expect(await answer.textContent()).toMatch(/Walk-ins are welcome before noon/);
    } finally {
      await visitor.close();
      await new Promise<void>((resolve) => files.close(() => resolve()));
    }

    // Local mode has no config.json: the widget asks, reads the 404 (CORS on it too) and uses /v1/ws
    // beside the script.
    const local = await browser.newPage();
    local.setDefaultTimeout(15_000);
    try {
      const config = local.waitForResponse(`${api.platform.url}/config.json`);
      const socket = local.waitForEvent('websocket');
      await local.goto(`${hostOrigin}/?key=${key}`);
      await local.getByRole('button', { name: 'Chat with us' }).click();
      const answered = await config;
      expect(answered.status()).toBe(404);
      expect(answered.headers()['access-control-allow-origin']).toBe('*');
      expect((await socket).url()).toBe(`${wsApi}?key=${key}`);
      await local.getByRole('dialog', { name: 'Chat with us' }).getByText('Ask us anything.').waitFor();
      expect(await local.getByText('The chat is not available right now.', { exact: false }).count()).toBe(0);
    } finally {
      await local.close();
    }
  });

  it('is refused on a page whose origin the web chat does not allow', async () => {
    await api.request('PUT', `/v1/agents/${agentId}/web-chat`, {
      token: owner.token,
      body: { allowedOrigins: ['https://shop.example'] },
    });
    const key = (await api.request('GET', `/v1/agents/${agentId}/web-chat`, { token: owner.token })).body
      .publishableKey;
    const visitor = await browser.newPage();
    try {
      const refused = visitor
        .waitForEvent('websocket')
        .then((socket) => new Promise<boolean>((resolve) => socket.on('close', () => resolve(true))));
      await visitor.goto(`${hostOrigin}/?key=${key}`);
      await visitor.getByRole('button', { name: 'Chat with us' }).click();
      expect(await refused).toBe(true);
      await visitor.getByText('The chat is not available right now.', { exact: false }).waitFor();
    } finally {
      await visitor.close();
    }
  });
});
