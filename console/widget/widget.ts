/**
 * The chat widget a business puts on its website with one tag:
 *
 *   <script src="https://<platform>/widget.js" data-key="pk_…" async></script>
 *
 * A launcher button and a chat panel in a Shadow DOM (the host page's styles don't reach in, ours
 * don't leak out), talking to the agent over the WebSocket API as a visitor with the web chat's
 * publishable key (the page's origin must be among the web chat's allowedOrigins). The socket's URL
 * comes from `/config.json` beside the script (on AWS the WebSocket API has its own URL), read when
 * the chat is first opened, else it is `<platform>/v1/ws` (socket-url.ts). Optional:
 * `data-title` (the panel's name), `data-api` (the platform, when the script is served elsewhere),
 * `data-ws` (the WebSocket API's URL: then config.json is not read),
 * `data-customer` + `data-signature` (a customer your server vouches for: HMAC-SHA256 hex of the id
 * with the web chat's signing secret). No framework; nothing global but the element it adds.
 */
import { type PlatformConfig, socketUrl } from './socket-url';

interface Frame {
  readonly type: string;
  readonly conversationId?: string | null;
  readonly executionId?: string | null;
  readonly seq?: number;
  readonly text?: string;
  readonly message?: string;
}

const WIDGET_CSS = `
:host { all: initial; }
* { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.launcher { position: fixed; right: 16px; bottom: 16px; z-index: 2147483000; border: 0; border-radius: 999px;
  padding: 12px 18px; background: #1d4ed8; color: #fff; font-size: 16px; cursor: pointer;
  box-shadow: 0 4px 14px rgba(0,0,0,.25); }
.launcher:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.panel { position: fixed; right: 16px; bottom: 76px; z-index: 2147483000; width: 360px; max-width: calc(100vw - 16px);
  height: 520px; max-height: calc(100vh - 96px); display: flex; flex-direction: column; background: #fff; color: #111827;
  border-radius: 12px; box-shadow: 0 10px 30px rgba(0,0,0,.3); overflow: hidden; }
.panel[hidden] { display: none; }
header { display: flex; align-items: center; justify-content: space-between; padding: 10px 12px; background: #1d4ed8; color: #fff; }
h2 { margin: 0; font-size: 16px; }
.close { background: transparent; color: #fff; border: 0; font-size: 22px; line-height: 1; cursor: pointer; padding: 4px 8px; }
ol { list-style: none; margin: 0; padding: 12px; flex: 1; overflow-y: auto; display: flex; flex-direction: column; gap: 8px; }
li { max-width: 85%; padding: 8px 10px; border-radius: 10px; white-space: pre-wrap; word-wrap: break-word; font-size: 15px; line-height: 1.4; }
.visitor { align-self: flex-end; background: #1d4ed8; color: #fff; }
.agent { align-self: flex-start; background: #f3f4f6; }
.note { align-self: center; background: transparent; color: #4b5563; font-size: 13px; }
.error { align-self: center; color: #b91c1c; }
form { display: flex; gap: 6px; padding: 8px; border-top: 1px solid #e5e7eb; }
label { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
input { flex: 1; min-width: 0; font-size: 16px; padding: 8px 10px; border: 1px solid #6b7280; border-radius: 8px; color: #111827; background: #fff; }
.send { border: 0; border-radius: 8px; padding: 8px 14px; background: #1d4ed8; color: #fff; font-size: 15px; cursor: pointer; }
.send:disabled { background: #6b7280; cursor: default; }
@media (max-width: 480px) {
  .panel { right: 0; bottom: 0; width: 100vw; max-width: 100vw; height: 100%; max-height: 100%; border-radius: 0; }
}
`;

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function start(script: HTMLScriptElement): void {
  const key = script.dataset.key;
  if (!key) {
    console.error('agent chat widget: data-key (the web chat’s publishable key) is missing');
    return;
  }
  const { customer, signature } = script.dataset;
  const tag = { ws: script.dataset.ws, api: script.dataset.api };
  const origin = new URL(script.src, location.href).origin;
  let config: Promise<PlatformConfig | undefined> | undefined;
  const readConfig = () => {
    config ??= fetch(`${origin}/config.json`)
      .then(
        (response) => (response.ok ? response.json() : undefined),
        () => {
          // Unreachable (offline): asked again at the next connection.
          config = undefined;
        },
      )
      .catch(() => undefined);
    return config;
  };
  const where = async () => {
    const url = socketUrl(tag, origin, tag.ws ? undefined : await readConfig());
    url.searchParams.set('key', key);
    if (customer && signature) {
      url.searchParams.set('customer', customer);
      url.searchParams.set('signature', signature);
    }
    return url;
  };
  const title = script.dataset.title ?? 'Chat with us';

  const host = element('div', { 'data-agent-chat-widget': '' });
  const root = host.attachShadow({ mode: 'open' });
  const style = element('style', {}, WIDGET_CSS);
  const launcher = element(
    'button',
    {
      type: 'button',
      class: 'launcher',
      'aria-expanded': 'false',
      'aria-controls': 'panel',
    },
    title,
  );
  const panel = element('section', {
    id: 'panel',
    class: 'panel',
    role: 'dialog',
    'aria-labelledby': 'title',
  });
  panel.hidden = true;
  const header = element('header');
  const close = element('button', { type: 'button', class: 'close', 'aria-label': 'Close chat' }, '×');
  header.append(element('h2', { id: 'title' }, title), close);
  const log = element('ol', { 'aria-live': 'polite', 'aria-label': 'Messages' });
  const status = element('li', { class: 'note' }, 'Ask us anything.');
  log.append(status);
  const form = element('form');
  const input = element('input', { id: 'message', autocomplete: 'off', maxlength: '4000' });
  const send = element('button', { type: 'submit', class: 'send' }, 'Send');
  form.append(element('label', { for: 'message' }, 'Your message'), input, send);
  panel.append(header, log, form);
  root.append(style, launcher, panel);
  document.body.append(host);

  let socket: WebSocket | undefined;
  let retryMs = 1000;
  let conversationId: string | undefined;
  let answer: HTMLLIElement | undefined;
  let answering = false;
  let unavailableShown = false;
  const queued: string[] = [];

  const note = (text: string, kind = 'note') => {
    const item = element('li', { class: kind }, text);
    log.append(item);
    log.scrollTop = log.scrollHeight;
  };
  const setAnswering = (value: boolean) => {
    answering = value;
    send.disabled = value;
  };

  let connecting = false;
  const connect = () => {
    if (connecting) return;
    connecting = true;
    where().then(opened, () => {
      // A data-ws or data-api that is not a URL.
      connecting = false;
      note('The chat is not available right now. Please try again later.', 'error');
    });
  };
  const opened = (url: URL) => {
    connecting = false;
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      retryMs = 1000;
      unavailableShown = false;
      for (const frame of queued.splice(0)) ws.send(frame);
    };
    ws.onmessage = (event) => {
      let frame: Frame;
      try {
        frame = JSON.parse(String(event.data)) as Frame;
      } catch {
        return;
      }
      if (frame.conversationId) conversationId = frame.conversationId;
      if (frame.type === 'agent_thinking' && !answer) {
        answer = element('li', { class: 'agent', 'aria-busy': 'true' }, '…');
        log.append(answer);
      } else if (frame.type === 'agent_message_delta' && frame.text) {
        if (!answer) {
          answer = element('li', { class: 'agent', 'aria-busy': 'true' });
          log.append(answer);
        }
        answer.textContent = answer.getAttribute('data-streamed')
          ? (answer.textContent ?? '') + frame.text
          : frame.text;
        answer.setAttribute('data-streamed', '1');
      } else if (frame.type === 'agent_message') {
        if (!answer) {
          answer = element('li', { class: 'agent' });
          log.append(answer);
        }
        answer.textContent = frame.text ?? '';
        answer.removeAttribute('aria-busy');
        answer = undefined;
        setAnswering(false);
      } else if (frame.type === 'error') {
        answer?.removeAttribute('aria-busy');
        answer = undefined;
        note(frame.message ?? 'Something went wrong: try again.', 'error');
        setAnswering(false);
      }
      log.scrollTop = log.scrollHeight;
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = undefined;
      // Refused at the upgrade (page not allowed, key disabled, over the rate): say so once.
      if (event.code === 1006 && !unavailableShown && !answering) {
        unavailableShown = true;
        note('The chat is not available right now. Please try again later.', 'error');
      }
      if (answering) {
        note('The connection dropped: reconnecting…');
        setAnswering(false);
        answer = undefined;
      }
      if (panel.hidden) return;
      const wait = retryMs * (0.5 + Math.random() / 2);
      retryMs = Math.min(retryMs * 2, 30_000);
      setTimeout(() => {
        if (!socket && !panel.hidden) connect();
      }, wait);
    };
  };

  const open = () => {
    panel.hidden = false;
    launcher.setAttribute('aria-expanded', 'true');
    if (!socket) connect();
    input.focus();
  };
  const shut = () => {
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
    launcher.focus();
  };
  launcher.addEventListener('click', () => (panel.hidden ? open() : shut()));
  close.addEventListener('click', shut);
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      shut();
    }
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || answering) return;
    input.value = '';
    note(text, 'visitor');
    setAnswering(true);
    const frame = JSON.stringify({
      action: 'send_message',
      message: text,
      ...(conversationId ? { conversationId } : {}),
    });
    if (socket?.readyState === WebSocket.OPEN) socket.send(frame);
    else {
      queued.push(frame);
      if (!socket) connect();
    }
  });
}

const script = document.currentScript;
if (script instanceof HTMLScriptElement) {
  if (document.body) start(script);
  else addEventListener('DOMContentLoaded', () => start(script), { once: true });
}
