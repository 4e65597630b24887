/**
 * The console in a real browser (Debian's Chromium driven by playwright-core) against local mode:
 * register, create and start an agent, buy tokens, approve a payment from the inbox and see it
 * executed, read usage, the audit log and the emergency stop — with axe-core on every page (no
 * serious or critical violation), a screenshot of each under test-output/console/, and the
 * layout checked at 360 px. One browser and one server for the whole file.
 */
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { type ApiClient, PASSWORD, startApi, userWithRole } from '../support/api';
import { launchBrowser, newConsolePage, screenshotAndCheck, seriousViolations } from '../support/browser';
import { ACCOUNT_SID, configureChannel, postTwilio, twilioMessageForm } from '../support/twilio';

const SHOTS = join(__dirname, '../../test-output/console');

jest.setTimeout(90_000);

let api: ApiClient;
let browser: Browser;
let page: Page;
const email = `owner-${Date.now()}@browser.test`;

beforeAll(async () => {
  browser = await launchBrowser({ built: ['index.html'], shots: SHOTS });
  api = await startApi();
  page = await newConsolePage(browser);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await api?.platform.stop();
});

/** Checked on each page: a screenshot and the accessibility check. */
const visit = (name: string) => screenshotAndCheck(page, SHOTS, name);
const screenshot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

const heading = (name: string) => page.getByRole('heading', { level: 1, name });

/** `agents/agt_…` of the agent the steps create, for the pages that take it. */
async function agentPath(): Promise<string> {
  const login = await api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
  const agents = await api.request('GET', '/v1/agents', { token: login.body.token });
  return `agents/${agents.body.items[0].id}`;
}

describe('the console', () => {
  it('has an accessibility check that finds a serious violation when there is one', async () => {
    await page.setContent('<html lang="en"><title>t</title><main><input type="text"></main></html>');
    expect(await seriousViolations(page)).toEqual([expect.stringMatching(/^label \(critical\)/)]);
  });

  it('serves the console at / beside the API, with security headers', async () => {
    const response = await fetch(`${api.platform.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    // The API is untouched.
    expect((await fetch(`${api.platform.url}/v1/health`)).status).toBe(200);
    expect((await fetch(`${api.platform.url}/assets/missing.js`)).status).toBe(404);
  });

  it('signs in by keyboard alone and shows the API’s refusal in words', async () => {
    await page.goto(`${api.platform.url}/`);
    await heading('Sign in').waitFor();
    await visit('sign-in');
    await page.getByLabel('Email').focus();
    await page.keyboard.type('nobody@browser.test');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Wrong-Password-1');
    await page.keyboard.press('Enter');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/email or password/i);
  });

  it('registers a business and lands on an empty agents page that says what to do', async () => {
    await page.getByRole('link', { name: 'Register your business' }).click();
    await heading('Register your business').waitFor();
    await visit('register');
    await page.getByLabel('Business name').fill('Browser Dental');
    await page.getByLabel('Your name').fill('Ada Owner');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Register' }).click();
    // The API's own message, naming the field.
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('12 characters');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Register' }).click();
    await heading('Agents').waitFor();
    await page.getByText('You have no agents yet.').waitFor();
    await visit('agents-empty');
  });

  it('creates an agent with a payment action, and starts it', async () => {
    await page.getByRole('link', { name: 'New agent' }).click();
    await heading('New agent').waitFor();
    await page.getByLabel(/^take_payment/).waitFor();
    await visit('agent-new');
    await page.getByLabel('Name', { exact: true }).fill('Front desk');
    await page.getByLabel('Business type').fill('dental');
    await page.getByLabel('Instructions').fill('Greet patients and book cleanings.');
    await page
      .getByLabel('Questions and answers')
      .fill('Do you take walk-ins? | Walk-ins are welcome before noon.');
    await page.getByLabel(/^take_payment/).check();
    await page.getByLabel(/^place_call/).check();
    await page.getByRole('button', { name: 'Create agent' }).click();
    await heading('Front desk').waitFor();
    await page.getByRole('button', { name: 'Start Front desk' }).click();
    await page.getByRole('button', { name: 'Pause Front desk' }).waitFor();
    await visit('agent-active');

    await page.getByRole('link', { name: 'Agents', exact: true }).click();
    await page.getByRole('link', { name: 'Front desk' }).waitFor();
    expect(await page.locator('tbody .badge').textContent()).toBe('active');
    await page.getByLabel('Status').selectOption('paused');
    await page.getByText('No agent matches these filters.').waitFor();
    await page.getByLabel('Status').selectOption('');
    await page.getByRole('link', { name: 'Front desk' }).waitFor();
    await visit('agents');
  });

  it('edits the agent, compares the earlier version and rolls back to it', async () => {
    await page.getByRole('link', { name: 'Front desk' }).click();
    await heading('Front desk').waitFor();
    await page.getByLabel('Instructions').fill('Be brief.');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved: a new version of the agent.').waitFor();
    const compare = page.getByRole('button', { name: /^Compare with now/ }).first();
    await compare.click();
    const diff = page.getByRole('table', { name: /compared with version/ });
    await diff.getByRole('rowheader', { name: 'instructions' }).waitFor();
    expect(await diff.textContent()).toContain('Greet patients and book cleanings.');
    await visit('agent-versions');
    expect(await page.getByRole('button', { name: 'Hide changes' }).getAttribute('aria-expanded')).toBe(
      'true',
    );
    await page
      .getByRole('button', { name: /^Roll back to version/ })
      .first()
      .click();
    await page.waitForFunction(
      () =>
        (globalThis as any).document.querySelector('textarea')?.value ===
        'Greet patients and book cleanings.',
    );
    await page.getByRole('link', { name: 'Agents', exact: true }).click();
    await heading('Agents').waitFor();
  });

  it('buys tokens through the payment provider', async () => {
    await page.getByRole('link', { name: 'Tokens' }).click();
    await heading('Tokens').waitFor();
    await page.getByText('tokens available').waitFor();
    await page.getByLabel('Tokens', { exact: true }).fill('1000');
    await page.getByRole('button', { name: 'Buy' }).click();
    await page.getByText('Bought 1000 tokens.').waitFor();
    await page.locator('.figure', { hasText: '1000' }).waitFor();
  });

  it('approves a payment from the inbox and sees the action executed', async () => {
    await page.getByRole('link', { name: 'Approvals' }).click();
    await heading('Approvals').waitFor();
    await page.getByText('Nothing is waiting for you.').waitFor();
    await visit('approvals-empty');

    // A customer's request makes the agent propose a payment, which waits for a coordinator.
    const login = await api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
    const agents = await api.request('GET', '/v1/agents', { token: login.body.token });
    const proposed = await api.request('POST', '/v1/agent/process', {
      token: login.body.token,
      body: { agentId: agents.body.items[0].id, message: 'Charge 49.99 USD for a cleaning' },
    });
    expect(proposed.body.actions[0]).toMatchObject({ action: 'take_payment', status: 'awaiting_approval' });

    // The inbox polls: the approval appears without a reload.
    const card = page.getByRole('article', { name: /take payment/ });
    await card.waitFor({ timeout: 30_000 });
    await visit('approvals-pending');
    await card.getByLabel('Comment (optional)').fill('The patient agreed at the desk');
    await card.getByRole('button', { name: 'Approve' }).click();
    await card.getByText('Action take_payment: executed').waitFor({ timeout: 30_000 });
    await visit('approvals-decided');
    const action = await api.request('GET', `/v1/actions/${proposed.body.actions[0].actionId}`, {
      token: login.body.token,
    });
    expect(action.body.status).toBe('executed');
  });

  it('confirms an action the agent suggested, and sees it executed', async () => {
    const login = await api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
    const agents = await api.request('GET', '/v1/agents', { token: login.body.token });
    const proposed = await api.request('POST', '/v1/agent/process', {
      token: login.body.token,
      body: { agentId: agents.body.items[0].id, message: 'Call +15551234567 about the missed appointment' },
    });
    expect(proposed.body.actions[0]).toMatchObject({ action: 'place_call', status: 'awaiting_confirmation' });
    const card = page.getByRole('article', { name: /place call/ });
    await card.waitFor({ timeout: 30_000 });
    await visit('suggestions-pending');
    await card.getByRole('button', { name: 'Confirm' }).click();
    await card.getByText('Action place_call: executed').waitFor({ timeout: 30_000 });
  });

  it('reads usage by day, agent and action', async () => {
    await page.getByRole('link', { name: 'Tokens' }).click();
    await heading('Tokens').waitFor();
    const byAction = page.getByRole('figure', { name: 'Spent by action' });
    await byAction.waitFor();
    expect(await byAction.textContent()).toContain('take_payment');
    await page.getByRole('figure', { name: 'Spent by day' }).waitFor();
    await page.getByRole('figure', { name: 'Spent by agent' }).waitFor();
    await visit('tokens');
  });

  it('filters the audit log', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await heading('Audit log').waitFor();
    await page.getByRole('cell', { name: 'approval.decided' }).first().waitFor();
    await page.getByLabel('Type').selectOption('action.executed');
    await page.getByRole('cell', { name: 'approval.decided' }).first().waitFor({ state: 'detached' });
    await page.getByRole('cell', { name: 'action.executed' }).first().waitFor();
    await visit('audit');
  });

  it('finds a conversation, takes it over, replies as staff and hands it back', async () => {
    const login = await api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
    const agents = await api.request('GET', '/v1/agents', { token: login.body.token });
    const chat = await api.request('POST', `/v1/agents/${agents.body.items[0].id}/chat`, {
      token: login.body.token,
      body: {
        message: 'Do you take walk-ins?',
        channel: 'web',
        customer: { externalId: 'visitor-2', name: 'Lee' },
      },
    });
    expect(chat.status).toBe(200);

    await page.getByRole('link', { name: 'Conversations' }).click();
    await heading('Conversations').waitFor();
    await page.getByLabel('Agent').selectOption({ label: 'Front desk' });
    const row = page.locator(`a[href="#/conversations/${chat.body.conversationId}"]`);
    await row.waitFor();
    await visit('conversations');
    await row.click();
    await page.getByRole('heading', { level: 1, name: /^Conversation with/ }).waitFor();
    const transcript = page.getByRole('list', { name: 'Transcript' });
    await transcript.getByText('Do you take walk-ins?', { exact: true }).waitFor();
    await transcript.getByText(/Walk-ins are welcome before noon/).waitFor();
    await page.getByLabel(/^Reason/).fill('Lee asked for the manager');
    await page.getByRole('button', { name: 'Take over' }).click();
    await page.getByLabel(/^Reply as staff/).fill('Hi Lee, this is the manager.');
    await visit('conversation-handoff');
    await page.getByRole('button', { name: 'Send' }).click();
    await transcript.getByText('Hi Lee, this is the manager.').waitFor();
    await page.getByRole('button', { name: 'Hand back to the agent' }).click();
    await page.getByRole('button', { name: 'Take over' }).waitFor();
  });

  it('filters conversations by channel: a texted one on SMS, the web chat on Web chat', async () => {
    const login = await api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
    const token = login.body.token as string;
    const agents = await api.request('GET', '/v1/agents', { token });
    const [agent] = agents.body.items as { id: string; tenantId: string }[];
    const authToken = 'twilio-auth-token-browser';
    const agentNumber = '+15557770300';
    await configureChannel(
      api,
      {
        tenantId: agent?.tenantId as string,
        agentId: agent?.id as string,
        channel: 'sms',
        address: agentNumber,
      },
      { accountSid: ACCOUNT_SID, authToken },
    );
    const texted = await postTwilio(
      api,
      '/v1/webhooks/twilio/sms',
      twilioMessageForm('sms', { to: agentNumber, from: '+15557770301', body: 'Are you open on Saturday?' }),
      authToken,
    );
    expect(texted.status).toBe(200);
    const { localInboundQueue } = await import('../../lambdas/composition/inbound');
    await localInboundQueue?.drain();
    const onSms = await api.request('GET', '/v1/conversations?channel=sms', { token });
    const onWeb = await api.request('GET', '/v1/conversations?channel=web', { token });
    expect(onSms.body.items).toHaveLength(1);
    expect(onWeb.body.items.length).toBeGreaterThan(0);
    const smsRow = page.locator(`a[href="#/conversations/${onSms.body.items[0].id}"]`);
    const webRow = page.locator(`a[href="#/conversations/${onWeb.body.items[0].id}"]`);

    await page.getByRole('link', { name: 'Conversations' }).click();
    await heading('Conversations').waitFor();
    await smsRow.waitFor();
    await webRow.waitFor();
    await page.getByLabel('Channel').selectOption({ label: 'SMS' });
    await webRow.waitFor({ state: 'detached' });
    await smsRow.waitFor();
    expect(await page.locator('tbody tr td:nth-child(3)').allTextContents()).toEqual(['SMS']);
    await visit('conversations-by-channel');
    await page.getByLabel('Channel').selectOption({ label: 'Web chat' });
    await smsRow.waitFor({ state: 'detached' });
    await webRow.waitFor();
    // With the agent too: the web chat of the agent that has one.
    await page.getByLabel('Agent').selectOption({ label: 'Front desk' });
    await webRow.waitFor();
    await page.getByLabel('Channel').selectOption({ label: 'Telegram' });
    await page.getByText('No conversation matches these filters.').waitFor();
  });

  it('stops every agent only after a confirmation, and lifts the stop', async () => {
    await page.getByRole('link', { name: 'Emergency stop' }).click();
    await heading('Emergency stop').waitFor();
    await visit('emergency-stop');
    await page.getByLabel(/^Reason/).fill('Odd messages');
    await page.getByRole('button', { name: 'Stop every agent…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Stop every agent now?' });
    await dialog.waitFor();
    await visit('emergency-stop-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    const login = await api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
    expect((await api.request('GET', '/v1/tenant/emergency-stop', { token: login.body.token })).status).toBe(
      404,
    );
    await page.getByRole('button', { name: 'Stop every agent…' }).click();
    await dialog.getByRole('button', { name: 'Yes, stop everything' }).click();
    await page.getByText('Stopped: 1 agents paused').waitFor();
    await page.getByRole('heading', { name: 'A stop is in force' }).waitFor();
    await page.getByRole('button', { name: 'Lift the stop' }).click();
    await page.getByText('The stop is lifted').waitFor();
  });

  it('sends a user whose session ended back to sign in, saying why', async () => {
    await page.evaluate(
      (session) => (globalThis as any).sessionStorage.setItem('agent-console.session', session),
      JSON.stringify({ token: 'expired-or-revoked', email }),
    );
    await page.goto(`${api.platform.url}/#/audit`);
    await page.reload();
    await heading('Sign in').waitFor();
    await page.getByText('Your session has ended: sign in again.').waitFor();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading('Agents').waitFor();
  });

  it('sets up an SMS channel on the agent page, sees its webhook URL, and removes it', async () => {
    await page.getByRole('link', { name: 'Front desk' }).click();
    await heading('Front desk').waitFor();
    const channels = page.getByRole('region', { name: 'Channels' });
    await channels.getByText('No channels yet.').waitFor();
    await channels.getByRole('button', { name: 'Set up a channel' }).click();
    const form = page.getByRole('form', { name: 'Channel set-up' });
    await form.getByRole('combobox', { name: /^Channel/ }).selectOption('sms');
    await form.getByLabel('Phone number').fill('call us');
    await form.getByLabel('Account SID').fill('AC0123456789abcdef');
    await form.getByLabel('Auth token').fill('browser-auth-TOKEN-4f2a');
    expect(await form.getByLabel('Auth token').getAttribute('type')).toBe('password');
    await form.getByRole('button', { name: 'Set up channel' }).click();
    // The API's own words, naming the field.
    await form.getByRole('alert').waitFor();
    expect(await form.getByRole('alert').textContent()).toContain(
      'body.address: must be an E.164 phone number',
    );
    await form.getByLabel('Phone number').fill('+1 415 555 0142');
    await form.getByRole('button', { name: 'Set up channel' }).click();
    await channels.getByText(/SMS \(Twilio\) set up: give the provider the webhook URL/).waitFor();
    const card = channels.getByRole('listitem').filter({ hasText: '+14155550142' });
    await card.getByText('accountSid, authToken set').waitFor();
    expect(await card.locator('code').textContent()).toBe(`${api.platform.url}/v1/webhooks/twilio/sms`);
    // Credentials go in and never come back out.
    expect(await page.content()).not.toContain('browser-auth-TOKEN-4f2a');
    await visit('agent-channels');

    // Someone else changes the agent meanwhile: the page says so and shows it as it now is.
    const login = await api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
    const agentId = page.url().split('/').pop() as string;
    const patched = await api.request('PATCH', `/v1/agents/${agentId}`, {
      token: login.body.token,
      body: { description: 'Changed in another tab' },
    });
    expect(patched.status).toBe(200);
    await card.getByRole('button', { name: 'Switch off SMS (Twilio)' }).click();
    await channels.getByText(/The agent changed meanwhile/).waitFor();
    await page.waitForFunction(() =>
      [...(globalThis as any).document.querySelectorAll('input')].some(
        (input: any) => input.value === 'Changed in another tab',
      ),
    );
    await card.getByRole('button', { name: 'Switch off SMS (Twilio)' }).click();
    await channels.getByText('SMS (Twilio) switched off.').waitFor();

    await card.getByRole('button', { name: 'Remove SMS (Twilio)…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove SMS (Twilio)?' });
    await dialog.waitFor();
    await visit('agent-channel-remove');
    await dialog.getByRole('button', { name: 'Yes, remove it' }).click();
    await channels.getByText('No channels yet.').waitFor();
    const listed = await api.request('GET', `/v1/agents/${agentId}/channels`, { token: login.body.token });
    expect(listed.body.items).toEqual([]);
  });

  it('sets up web chat: the snippet to paste, and the signing secret shown once', async () => {
    const webChat = page.getByRole('region', { name: 'Web chat' });
    await webChat.getByText('Web chat is not set up.').waitFor();
    await webChat.getByRole('button', { name: 'Set up web chat' }).click();
    await webChat.getByLabel('Origin to add').fill('shop.example');
    await webChat.getByRole('button', { name: 'Add origin' }).click();
    await webChat.getByRole('button', { name: 'Create web chat' }).click();
    await webChat.getByRole('alert').waitFor();
    expect(await webChat.getByRole('alert').textContent()).toContain('body.allowedOrigins.0');
    await webChat.getByRole('button', { name: 'Remove shop.example' }).click();
    await webChat.getByLabel('Origin to add').fill('https://shop.example');
    await webChat.getByRole('button', { name: 'Create web chat' }).click();
    const secret = page.getByRole('region', { name: 'Signing secret' });
    await secret.getByText("copy it now, it won't be shown again").waitFor();
    expect(await secret.locator('.copyable code').textContent()).toMatch(/^whsec_/);
    const snippet = await webChat.locator('.copyable code').last().textContent();
    expect(snippet).toMatch(
      new RegExp(`^<script src="${api.platform.url}/widget\\.js" data-key="pk_[\\w-]+" async></script>$`),
    );
    await page
      .context()
      .grantPermissions(['clipboard-read', 'clipboard-write'], { origin: api.platform.url });
    await webChat.getByRole('button', { name: 'Copy the web chat snippet' }).click();
    await webChat.getByText('Copied.').waitFor();
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe(snippet);
    await visit('agent-web-chat');
    await secret.getByRole('button', { name: 'I have copied it' }).click();
    await secret.waitFor({ state: 'detached' });
    // A new key and secret, after a confirmation: the secret is shown once more, the snippet changes.
    await webChat.getByRole('button', { name: 'New key and secret…' }).click();
    const rotate = page.getByRole('dialog', { name: 'Make a new key and signing secret?' });
    await rotate.getByRole('button', { name: 'Yes, make new ones' }).click();
    await secret.getByText("copy it now, it won't be shown again").waitFor();
    await secret.getByRole('button', { name: 'I have copied it' }).click();
    const rotated = await webChat.locator('.copyable code').textContent();
    expect(rotated).toMatch(/data-key="pk_/);
    expect(rotated).not.toBe(snippet);
    // Read again, the set-up has the key and the snippet but no secret.
    await page.reload();
    await webChat.getByText('https://shop.example').waitFor();
    expect(await webChat.locator('.copyable code').textContent()).toBe(rotated);
    await expect(page.getByRole('region', { name: 'Signing secret' }).count()).resolves.toBe(0);
  });

  it('adds a policy rule for the agent on its page, and finds it in the policy', async () => {
    const section = page.getByRole('region', { name: 'Policy for this agent' });
    await section.getByText('No rule applies').waitFor();
    const form = section.getByRole('form', { name: 'New rule for Front desk' });
    await form.getByLabel('Applies to').selectOption('action:take_payment');
    await form.getByLabel('Parameter').fill('amount');
    await form.getByLabel('Lower bound').selectOption('gt');
    await form.getByLabel('Lower value').fill('100');
    await form.getByLabel('Decision').selectOption('approval');
    await form.getByLabel('Description (optional)').fill('Big payments need approval');
    await form.getByRole('button', { name: 'Add rule' }).click();
    await section
      .getByRole('listitem')
      .filter({
        hasText: "Rule 1: take_payment with amount > 100 needs a coordinator's approval (this agent only)",
      })
      .waitFor();
    await visit('agent-policy');

    await page.getByRole('link', { name: 'Policy', exact: true }).click();
    await heading('Decision policy').waitFor();
    await page.getByText('for Front desk only').waitFor();
    // A rule whose bounds leave no number: the API's message, naming the field, beside the form.
    await page.getByRole('button', { name: 'Add a rule' }).click();
    const rule = page.getByRole('form', { name: 'New rule' });
    await rule.getByLabel('Parameter').fill('amount');
    await rule.getByLabel('Lower bound').selectOption('gt');
    await rule.getByLabel('Lower value').fill('50');
    await rule.getByLabel('Upper bound').selectOption('lt');
    await rule.getByLabel('Upper value').fill('10');
    await rule.getByRole('button', { name: 'Add rule' }).click();
    await rule.getByRole('alert').waitFor();
    expect(await rule.getByRole('alert').textContent()).toContain('body.rules.1.when');
    await visit('policy');
    const login = await api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
    const saved = await api.request('GET', '/v1/policies', { token: login.body.token });
    const agents = await api.request('GET', '/v1/agents', { token: login.body.token });
    expect(saved.body.rules).toEqual([
      {
        action: 'take_payment',
        when: { param: 'amount', gt: 100 },
        level: 'approval',
        description: 'Big payments need approval',
        agentId: agents.body.items[0].id,
      },
    ]);
  });

  it('shows the policy to a coordinator read-only, and not at all to a member', async () => {
    const login = await api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
    const signInAs = async (user: { token: string; email: string }, path: string) => {
      await page.evaluate(
        (session) => (globalThis as any).sessionStorage.setItem('agent-console.session', session),
        JSON.stringify({ token: user.token, email: user.email }),
      );
      await page.goto(`${api.platform.url}/#/${path}`);
      await page.reload();
    };
    await signInAs(await userWithRole(api, login.body.token, 'coordinator'), 'policy');
    await heading('Decision policy').waitFor();
    await page.getByText('Your role may read the policy; an owner or admin changes it.').waitFor();
    await page.getByText('for Front desk only').waitFor();
    expect(await page.getByRole('button', { name: /Add a rule|Edit|Remove|Save limits/ }).count()).toBe(0);
    await page.getByRole('link', { name: 'Policy', exact: true }).waitFor();

    await signInAs(await userWithRole(api, login.body.token, 'member'), 'agents');
    await heading('Agents').waitFor();
    await page.getByRole('link', { name: 'Audit log' }).waitFor();
    expect(await page.getByRole('link', { name: 'Policy', exact: true }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Team' }).count()).toBe(0);

    await signInAs({ token: login.body.token, email }, 'agents');
    await page.getByRole('link', { name: 'Policy', exact: true }).waitFor();
  });

  it('manages the team: adds a coordinator at a location, who approves but cannot change the team; disables them; keeps locations in use', async () => {
    await page.goto(`${api.platform.url}/#/agents`);
    await page.getByRole('link', { name: 'Team' }).click();
    await heading('Team').waitFor();
    await page.getByText('No locations yet.').waitFor();
    await visit('team');

    await page.getByLabel('Location name').fill('Downtown');
    await page.getByLabel('Time zone').fill('Europe/Paris');
    await page.getByLabel('Phone (optional)').fill('555');
    await page.getByRole('button', { name: 'Add location' }).click();
    // The API's own words, naming the field.
    await page.getByRole('alert').filter({ hasText: 'phone' }).waitFor();
    await page.getByLabel('Phone (optional)').fill('');
    await page.getByRole('button', { name: 'Add location' }).click();
    await page.getByText('Downtown added.').waitFor();

    const coordinator = `coordinator-${Date.now()}@browser.test`;
    const addPerson = page.getByRole('form', { name: 'Add a person' });
    await addPerson.getByLabel('Name').fill('Cora Coordinator');
    await addPerson.getByLabel('Email', { exact: true }).fill(coordinator);
    await addPerson.getByLabel('Password').fill('short');
    await addPerson.getByLabel('Role').selectOption('coordinator');
    await addPerson.getByRole('checkbox', { name: 'Downtown' }).check();
    await page.getByRole('button', { name: 'Add person' }).click();
    await addPerson.getByRole('alert').filter({ hasText: '12 characters' }).waitFor();
    await addPerson.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Add person' }).click();
    await page
      .getByText(/is added as coordinator\. They sign in here with that email and the password you chose/)
      .waitFor();
    expect(await addPerson.getByLabel('Password').inputValue()).toBe('');
    const row = page.getByRole('row', { name: new RegExp(coordinator) });
    await row.filter({ hasText: /coordinator.*active.*Downtown/ }).waitFor();
    await visit('team-added');

    // The coordinator signs in (a browser of their own): the approvals inbox, the team read-only.
    const theirs = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const them = await theirs.newPage();
      them.setDefaultTimeout(15_000);
      await them.goto(`${api.platform.url}/`);
      await them.getByLabel('Email').fill(coordinator);
      await them.getByLabel('Password').fill(PASSWORD);
      await them.getByRole('button', { name: 'Sign in' }).click();
      await them.getByRole('heading', { level: 1, name: 'Agents' }).waitFor();
      await them.getByRole('link', { name: 'Approvals' }).click();
      await them.getByRole('heading', { level: 1, name: 'Approvals' }).waitFor();
      await them.getByRole('link', { name: 'Team' }).click();
      await them.getByRole('heading', { level: 1, name: 'Team' }).waitFor();
      await them.getByText('Your role may read the team; an owner or admin changes it.').waitFor();
      await them.getByRole('heading', { name: 'Downtown' }).waitFor();
      await them.getByRole('row', { name: new RegExp(coordinator) }).waitFor();
      expect(
        await them
          .getByRole('button', { name: /Add person|Add location|Edit|Disable|Enable|Delete|Reset/ })
          .count(),
      ).toBe(0);
      await them.screenshot({ path: join(SHOTS, 'team-coordinator.png'), fullPage: true });

      // The owner disables them, after a confirmation; their session stops working at once.
      await page.getByRole('button', { name: `Disable ${coordinator}` }).click();
      const dialog = page.getByRole('dialog', { name: `Disable ${coordinator}?` });
      await dialog.waitFor();
      await visit('team-confirm-disable');
      await dialog.getByRole('button', { name: 'Yes, disable' }).click();
      await page.getByText(`${coordinator} disabled.`).waitFor();
      await row.filter({ hasText: 'disabled' }).waitFor();
      await them.reload();
      await them.getByText('Your session has ended: sign in again.').waitFor();
    } finally {
      await theirs.close();
    }

    // A location in use is kept: the API's 409 names who uses it.
    await page.getByRole('button', { name: 'Delete Downtown' }).click();
    await page.getByRole('button', { name: 'Yes, delete Downtown' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'is in use by users' });
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(
      new RegExp(
        `^Downtown is still used by people ${coordinator}: .*Location loc_\\w+ is in use by users usr_`,
      ),
    );
    await visit('team-location-in-use');
    await page.getByRole('button', { name: 'Cancel' }).click();

    // Moved off it (their role and locations changed), it can be renamed and deleted.
    await page.getByRole('button', { name: `Edit ${coordinator}` }).click();
    const edit = page.getByRole('form', { name: `Edit ${coordinator}` });
    // The editor replaced the button that opened it: the focus is in it, not lost.
    expect(
      await page.evaluate(() => (globalThis as any).document.activeElement?.closest('form')?.ariaLabel),
    ).toBe(`Edit ${coordinator}`);
    await edit.getByLabel('Role').selectOption('member');
    await edit.getByRole('checkbox', { name: 'Downtown' }).uncheck();
    // Someone else renames them meanwhile: the save does not overwrite it, the editor shows it as it is.
    const owner = await api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
    const people = await api.request('GET', '/v1/users?limit=100', { token: owner.body.token });
    const cora = people.body.items.find((user: { email: string }) => user.email === coordinator);
    const renamed = await api.request('PATCH', `/v1/users/${cora.id}`, {
      token: owner.body.token,
      body: { name: 'Cora C.' },
    });
    expect(renamed.status).toBe(200);
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('alert').filter({ hasText: 'Someone else changed it meanwhile' }).waitFor();
    await page.waitForFunction(
      (form) =>
        (globalThis as any).document.querySelector(`form[aria-label="${form}"] input`)?.value === 'Cora C.',
      `Edit ${coordinator}`,
    );
    expect(await edit.getByRole('checkbox', { name: 'Downtown' }).isChecked()).toBe(true);
    await edit.getByLabel('Role').selectOption('member');
    await edit.getByRole('checkbox', { name: 'Downtown' }).uncheck();
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Cora C. saved.').waitFor();
    await row.filter({ hasText: /member.*disabled.*All/ }).waitFor();
    await page.getByRole('button', { name: 'Edit Downtown' }).click();
    await page
      .getByRole('form', { name: 'Edit Downtown' })
      .getByLabel('Name', { exact: true })
      .fill('Downtown clinic');
    await page.getByRole('form', { name: 'Edit Downtown' }).getByRole('button', { name: 'Save' }).click();
    await page.getByText('Downtown clinic saved.').waitFor();
    await page.getByRole('button', { name: 'Delete Downtown clinic' }).click();
    await page.getByRole('button', { name: 'Yes, delete Downtown clinic' }).click();
    await page.getByText('Downtown clinic deleted.').waitFor();
    await page.getByText('No locations yet.').waitFor();

    // Another owner lost their phone: resetting their two-step sign-in lets them in with the password alone.
    const login = await api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
    const other = await userWithRole(api, login.body.token, 'owner');
    const begun = await api.request('POST', '/v1/auth/mfa/totp', {
      body: { email: other.email, password: PASSWORD },
    });
    const authenticator = new TOTP({ secret: Secret.fromBase32(begun.body.secretCode) });
    const verified = await api.request('POST', '/v1/auth/mfa/totp/verify', {
      body: { email: other.email, password: PASSWORD, code: authenticator.generate() },
    });
    expect(verified.status).toBe(204);
    const signIn = () =>
      api.request('POST', '/v1/auth/login', { body: { email: other.email, password: PASSWORD } });
    expect((await signIn()).body.challenge).toBe('SOFTWARE_TOKEN_MFA');
    await page.reload();
    await heading('Team').waitFor();
    expect(await page.getByRole('row', { name: new RegExp(email) }).textContent()).toContain('You');
    await page.getByRole('button', { name: `Reset MFA of ${other.email}` }).click();
    const confirmReset = page.getByRole('dialog', { name: `Reset two-step sign-in of ${other.email}?` });
    await confirmReset.waitFor();
    await visit('team-confirm-reset-mfa');
    await confirmReset.getByRole('button', { name: 'Yes, reset' }).click();
    await page.getByText(`Two-step sign-in of ${other.email} reset`).waitFor();
    const after = await signIn();
    expect(after.status).toBe(200);
    expect(after.body.challenge).toBeUndefined();
    expect(after.body.token).toEqual(expect.any(String));
  });

  it('loads only sign-in and the agents list first, and each other page when it is shown: saying so, and saying so in words when it cannot', async () => {
    const scripts: string[] = [];
    const recordScript = (request: { url(): string }) => {
      const { pathname } = new URL(request.url());
      if (pathname.endsWith('.js')) scripts.push(pathname.replace(/-[\w-]{8}\.js$/, '.js'));
    };
    page.on('request', recordScript);
    try {
      await page.goto(`${api.platform.url}/#/agents`);
      await page.reload();
      await heading('Agents').waitFor();
      expect(scripts).toEqual(['/assets/index.js']);

      // A page's chunk that is slow to come: its name in a status line meanwhile.
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      await page.route('**/assets/tokens-*.js', async (route) => {
        await released;
        await route.continue();
      });
      await page.getByRole('link', { name: 'Tokens' }).click();
      await page.getByRole('status').filter({ hasText: 'Loading tokens…' }).waitFor();
      release();
      await heading('Tokens').waitFor();
      expect(scripts).toContain('/assets/tokens.js');

      // One that cannot be fetched (offline, or a newer deployment replaced it): an error in words.
      await page.route('**/assets/audit-*.js', (route) => route.abort());
      await page.getByRole('link', { name: 'Audit log' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).toBe(
        'The audit log could not be loaded: check your connection and reload the page.',
      );
      expect(await seriousViolations(page)).toEqual([]);
    } finally {
      page.off('request', recordScript);
      await page.unrouteAll();
    }
    await page.reload();
    await heading('Audit log').waitFor();
  });

  it('turns two-step sign-in on from the account page, asks for the code at sign-in, and turns it off', async () => {
    const owner = await api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
    const member = await userWithRole(api, owner.body.token, 'member');
    const signInWith = async (who: string) => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await heading('Sign in').waitFor();
      await page.getByLabel('Email').fill(who);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
    };
    await signInWith(member.email);
    await heading('Agents').waitFor();
    await page.getByRole('link', { name: member.email }).click();
    await heading('Your account').waitFor();
    await page.getByText('Off: signing in asks for your password only.').waitFor();
    await visit('account');

    await page.getByLabel('Your password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const key = (await page.locator('.copyable code').first().textContent()) as string;
    expect(key).toMatch(/^[A-Z2-7]{32}$/);
    await page.getByRole('link', { name: 'Open in an authenticator app' }).waitFor();
    await visit('account-enrol');
    // Three consecutive codes, all accepted for the next ~30 s (one step either side of now): one
    // to enrol, one to sign in, one to turn it off (each is accepted once).
    if (Date.now() % 30_000 > 27_000) await new Promise((resolve) => setTimeout(resolve, 3_500));
    const t0 = Date.now();
    const authenticator = new TOTP({ secret: Secret.fromBase32(key) });
    const [enrolCode, signInCode, turnOffCode] = [-1, 0, 1].map((step) =>
      authenticator.generate({ timestamp: t0 + step * 30_000 }),
    );
    await page.getByLabel('Code from your authenticator app').fill(enrolCode as string);
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await page.getByText('On: signing in asks for a code from your authenticator app.').waitFor();

    await signInWith(member.email);
    await heading('Confirm it is you').waitFor();
    await page.getByLabel('Code from your authenticator app').fill(signInCode as string);
    await page.getByRole('button', { name: 'Continue' }).click();
    await heading('Agents').waitFor();
    await page.getByRole('link', { name: member.email }).click();
    await page.getByText('On: signing in asks for a code from your authenticator app.').waitFor();
    await page.getByLabel('Your password').fill(PASSWORD);
    await page.getByLabel('Current code from your authenticator app').fill('000000');
    await page.getByRole('button', { name: 'Turn off two-step sign-in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/code/);
    await visit('account-mfa-on');
    await page.getByLabel('Current code from your authenticator app').fill(turnOffCode as string);
    await page.getByRole('button', { name: 'Turn off two-step sign-in' }).click();
    await page.getByText('Off: signing in asks for your password only.').waitFor();
    const login = await api.request('POST', '/v1/auth/login', {
      body: { email: member.email, password: PASSWORD },
    });
    expect(login.body.token).toEqual(expect.any(String));

    await signInWith(email);
    await heading('Agents').waitFor();
  });

  it('keeps every page within a 360 px wide screen', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    for (const [path, title] of [
      ['agents', 'Agents'],
      ['agents/new', 'New agent'],
      ['approvals', 'Approvals'],
      ['conversations', 'Conversations'],
      ['tokens', 'Tokens'],
      ['audit', 'Audit log'],
      ['emergency-stop', 'Emergency stop'],
      ['policy', 'Decision policy'],
      ['account', 'Your account'],
      ['team', 'Team'],
      [await agentPath(), 'Front desk'],
    ] as const) {
      await page.goto(`${api.platform.url}/#/${path}`);
      await heading(title).waitFor();
      await page.waitForFunction(
        () =>
          ![...(globalThis as any).document.querySelectorAll('[role=status]')].some((e: any) =>
            e.textContent?.startsWith('Loading'),
          ),
      );
      const overflow = await page.evaluate(() => {
        const root = (globalThis as any).document.documentElement;
        return root.scrollWidth - root.clientWidth;
      });
      expect({ path, overflow }).toEqual({ path, overflow: 0 });
      await screenshot(`narrow-${path.replace(/\/agt_\w+$/, '/agent').replace('/', '-')}`);
    }
  });
});
