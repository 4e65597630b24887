import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stripeSignature } from '../../lambdas/adapters/stripe/stripe-webhook';

export interface StubRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The form body as sent (application/x-www-form-urlencoded). */
  readonly form: URLSearchParams;
}

/** Where the hosted checkout page's Pay button delivers its events, signed as Stripe signs them. */
export interface StubWebhook {
  readonly url: string;
  readonly secret: string;
}

/**
 * A stand-in for api.stripe.com's PaymentIntents and Checkout Sessions endpoints, and for
 * Checkout's hosted page (`GET /pay/<session id>`: a Pay button that marks the session paid,
 * posts `checkout.session.completed` then `payment_intent.succeeded` to the webhook, and sends
 * the browser to the session's `success_url`; a Cancel link to its `cancel_url`). As Stripe behaves: form-encoded
 * requests, `Authorization: Bearer <secret key>`, and `Idempotency-Key` — the same key answers
 * the first response again and creates nothing. Queued failures (`failNext`) answer with
 * Stripe's error shape instead, without remembering the key.
 */
export class StripeStub {
  readonly requests: StubRequest[] = [];
  readonly intents = new Map<string, Record<string, unknown>>();
  readonly sessions = new Map<string, Record<string, unknown>>();
  /** Set to let the hosted page's Pay button deliver the webhook events. */
  webhook?: StubWebhook;
  private readonly byKey = new Map<string, { status: number; body: string }>();
  private readonly failures: {
    status: number;
    error: Record<string, unknown>;
    headers?: Record<string, string>;
  }[] = [];
  private server?: Server;
  url = '';
  /** Status new PaymentIntents are created with. */
  createStatus = 'requires_payment_method';

  constructor(private readonly secretKey: string) {}

  failNext(status: number, error: Record<string, unknown>, headers?: Record<string, string>): void {
    this.failures.push({ status, error, ...(headers ? { headers } : {}) });
  }

  async start(): Promise<string> {
    let counter = 0;
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const send = (status: number, body: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(body);
      };
      // Checkout's hosted page: the buyer's browser, no API key.
      const page = /^\/pay\/(cs_[A-Za-z0-9_]+)$/.exec(req.url ?? '');
      if (page?.[1]) return this.hostedPage(req.method ?? '', page[1], res);
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, form };
      this.requests.push(request);
      if (req.headers.authorization !== `Bearer ${this.secretKey}`) {
        return send(
          401,
          JSON.stringify({ error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } }),
        );
      }
      const failure = this.failures.shift();
      if (failure) return send(failure.status, JSON.stringify({ error: failure.error }), failure.headers);
      if (
        req.method !== 'POST' ||
        (req.url !== '/v1/payment_intents' && req.url !== '/v1/checkout/sessions')
      ) {
        return send(
          404,
          JSON.stringify({ error: { type: 'invalid_request_error', message: 'Unrecognized request URL' } }),
        );
      }
      const key = String(req.headers['idempotency-key'] ?? '');
      const earlier = key ? this.byKey.get(key) : undefined;
      if (earlier) return send(earlier.status, earlier.body, { 'idempotent-replayed': 'true' });
      if (req.url === '/v1/checkout/sessions') {
        let body: string;
        try {
          body = JSON.stringify(this.createSession(form, ++counter));
        } catch (error) {
          // Stripe's answer to a missing parameter.
          const message = (error as Error).message;
          return send(400, JSON.stringify({ error: { type: 'invalid_request_error', message } }));
        }
        if (key) this.byKey.set(key, { status: 200, body });
        return send(200, body);
      }
      const id = `pi_stub${++counter}${Date.now()}`;
      const metadata = fieldsOf(form, 'metadata');
      const intent = {
        id,
        object: 'payment_intent',
        amount: Number(form.get('amount')),
        currency: form.get('currency'),
        description: form.get('description'),
        metadata,
        status: this.createStatus,
        client_secret: `${id}_secret_stub`,
        last_payment_error: null,
      };
      this.intents.set(id, intent);
      const body = JSON.stringify(intent);
      if (key) this.byKey.set(key, { status: 200, body });
      return send(200, body);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /**
   * Checkout Sessions as Stripe's API version 2024-06-20 creates them: `open`, `unpaid`, and no
   * `payment_intent` until the buyer pays (it is created then, with `payment_intent_data`).
   */
  private createSession(form: URLSearchParams, counter: number): Record<string, unknown> {
    const required = ['mode', 'success_url', 'line_items[0][price_data][unit_amount]'];
    const missing = required.find((name) => !form.get(name));
    if (missing) throw new Error(`Missing required param: ${missing}.`);
    const id = `cs_test_stub${counter}${Date.now()}`;
    const quantity = Number(form.get('line_items[0][quantity]') ?? '1');
    const session = {
      id,
      object: 'checkout.session',
      mode: form.get('mode'),
      amount_total: Number(form.get('line_items[0][price_data][unit_amount]')) * quantity,
      currency: form.get('line_items[0][price_data][currency]'),
      client_reference_id: form.get('client_reference_id'),
      metadata: fieldsOf(form, 'metadata'),
      payment_intent: null,
      payment_status: 'unpaid',
      status: 'open',
      success_url: form.get('success_url'),
      cancel_url: form.get('cancel_url'),
      url: `${this.url}/pay/${id}`,
      created: Math.floor(Date.now() / 1000),
      expires_at: Math.floor(Date.now() / 1000) + 24 * 3600,
      livemode: false,
      // Not part of Stripe's session object: what the PaymentIntent will be created with.
      _intent: {
        description: form.get('payment_intent_data[description]'),
        metadata: fieldsOf(form, 'payment_intent_data[metadata]'),
        product: form.get('line_items[0][price_data][product_data][name]'),
      },
    };
    this.sessions.set(id, session);
    return sessionObject(session);
  }

  /** The buyer paid on the hosted page: the session completes with a new, succeeded PaymentIntent. */
  pay(sessionId: string): { completed: string; succeeded: string } {
    const session = this.sessions.get(sessionId);
    if (!session) throw new Error(`stub: no session ${sessionId}`);
    const intentData = session._intent as { description: string; metadata: Record<string, string> };
    const intentId = `pi_stub_cs${Date.now()}${Math.floor(Math.random() * 1000)}`;
    this.intents.set(intentId, {
      id: intentId,
      object: 'payment_intent',
      amount: session.amount_total,
      currency: session.currency,
      description: intentData.description,
      metadata: intentData.metadata,
      status: 'succeeded',
      client_secret: `${intentId}_secret_stub`,
      last_payment_error: null,
    });
    Object.assign(session, { payment_intent: intentId, payment_status: 'paid', status: 'complete' });
    return {
      completed: this.sessionEvent('checkout.session.completed', sessionId),
      succeeded: this.event('payment_intent.succeeded', intentId),
    };
  }

  /** The session ran out unpaid (Stripe: 24 hours by default, or `expires_at`). */
  expire(sessionId: string): string {
    const session = this.sessions.get(sessionId);
    if (!session) throw new Error(`stub: no session ${sessionId}`);
    Object.assign(session, { status: 'expired' });
    return this.sessionEvent('checkout.session.expired', sessionId);
  }

  /** The event Stripe would post to the webhook for a Checkout Session. */
  sessionEvent(type: string, sessionId: string, extra: Record<string, unknown> = {}): string {
    const session = this.sessions.get(sessionId);
    return JSON.stringify({
      id: `evt_${sessionId}_${type}`,
      object: 'event',
      type,
      api_version: '2024-06-20',
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          ...(session ? sessionObject(session) : { id: sessionId, object: 'checkout.session' }),
          ...extra,
        },
      },
    });
  }

  private async hostedPage(method: string, sessionId: string, res: import('node:http').ServerResponse) {
    const session = this.sessions.get(sessionId);
    const html = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stripe Checkout (stand-in)</title></head><body><main>${body}</main></body></html>`,
      );
    };
    if (!session) return html(404, '<h1>No such checkout</h1>');
    if (method === 'POST') {
      if (session.status !== 'open') return html(409, `<h1>This checkout is ${String(session.status)}</h1>`);
      const { completed, succeeded } = this.pay(sessionId);
      if (this.webhook) {
        for (const body of [completed, succeeded]) {
          await fetch(this.webhook.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'stripe-signature': stripeSignature(body, this.webhook.secret, Math.floor(Date.now() / 1000)),
            },
            body,
          });
        }
      }
      res.writeHead(303, { location: String(session.success_url) });
      return res.end();
    }
    const amount = (Number(session.amount_total) / 100).toFixed(2);
    const product = escapeHtml(String((session._intent as { product: string }).product));
    return html(
      200,
      `<h1>Pay ${amount} ${escapeHtml(String(session.currency).toUpperCase())}</h1><p>${product}</p>` +
        `<form method="post" action="/pay/${sessionId}"><button type="submit">Pay</button></form>` +
        `<p><a href="${escapeHtml(String(session.cancel_url))}">Cancel and go back</a></p>`,
    );
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The event Stripe would post to the webhook for an intent. */
  event(type: string, intentId: string, extra: Record<string, unknown> = {}): string {
    const intent = {
      ...(this.intents.get(intentId) ?? { id: intentId, object: 'payment_intent' }),
      ...extra,
    };
    return JSON.stringify({
      id: `evt_${intentId}_${type}`,
      object: 'event',
      type,
      api_version: '2024-06-20',
      created: Math.floor(Date.now() / 1000),
      data: { object: intent },
    });
  }
}

/** `prefix[name]=value` form fields as an object (Stripe's nested form encoding, one level). */
function fieldsOf(form: URLSearchParams, prefix: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of form) {
    if (!name.startsWith(`${prefix}[`) || !name.endsWith(']')) continue;
    const inner = name.slice(prefix.length + 1, -1);
    if (!inner.includes('[') && !inner.includes(']')) fields[inner] = value;
  }
  return fields;
}

/** The session as Stripe answers it (without the stand-in's own bookkeeping). */
function sessionObject(session: Record<string, unknown>): Record<string, unknown> {
  const { _intent, ...visible } = session;
  return visible;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
