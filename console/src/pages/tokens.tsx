import { useEffect, useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { BarList, ColumnChart } from '../charts';
import { Empty, ErrorNote, formatDate, Loading, Page, useAction, useAgentNames, useLoad } from '../ui';

const DAY_MS = 86_400_000;
const isoDay = (date: Date) => date.toISOString().slice(0, 10);

/** How often, and how many times, a purchase back from the payment page is looked at again. */
const POLL_MS = 1000;
const POLL_TIMES = 20;

/**
 * Balance, buying tokens through the payment provider, and usage by day, agent and action.
 * `purchaseId`: back from the provider's hosted payment page (`#/tokens?purchase=…`, with
 * `cancelled=1` when the buyer cancelled there).
 */
export function TokensPage({ purchaseId, cancelled = false }: { purchaseId?: string; cancelled?: boolean }) {
  const balance = useLoad(() => must(api().GET('/v1/tokens/balance')), []);
  const [from, setFrom] = useState(isoDay(new Date(Date.now() - 29 * DAY_MS)));
  const [to, setTo] = useState(isoDay(new Date()));
  const usage = useLoad(
    () =>
      must(
        api().GET('/v1/tokens/usage', {
          params: {
            // Whole days (UTC), both included.
            query: { from, to, limit: 20 },
          },
        }),
      ),
    [from, to],
  );
  const [amount, setAmount] = useState('1000');
  const [bought, setBought] = useState<string | undefined>();
  const purchase = useAction(async () => {
    setBought(undefined);
    const { data, error, response } = await api().POST('/v1/tokens/purchase', {
      params: { header: { 'Idempotency-Key': crypto.randomUUID() } },
      // Where the provider's hosted page sends the buyer back to (checked by the API).
      body: { amount: Number(amount), returnOrigin: location.origin },
    });
    if (!response.ok) await must(Promise.resolve({ error, response }));
    const checkoutUrl = response.status === 202 ? data?.payment?.checkoutUrl : undefined;
    if (checkoutUrl) {
      setBought('Taking you to Stripe to pay…');
      location.assign(checkoutUrl);
      return;
    }
    if (response.status === 202) {
      setBought('The payment provider has not confirmed this payment yet; the balance grows once it does.');
    } else {
      setBought(`Bought ${data?.purchase.tokens ?? amount} tokens.`);
    }
    balance.reload();
    usage.reload();
  });

  const agentName = useAgentNames();
  const totals = usage.data?.totals;
  const byName = (record: Record<string, number> | undefined) =>
    Object.entries(record ?? {})
      .map(([label, value]) => ({ label, value }))
      .sort((a, b) => b.value - a.value);

  return (
    <Page title="Tokens">
      <div class="cards">
        {purchaseId ? (
          <PurchaseOutcome id={purchaseId} cancelled={cancelled} onSettled={() => balance.reload()} />
        ) : null}
        <article class="card" aria-labelledby="balance-title">
          <h2 id="balance-title">Balance</h2>
          <ErrorNote message={balance.error} />
          {balance.loading && !balance.data ? <Loading what="the balance" /> : null}
          {balance.data ? (
            <>
              <p class="figure">
                {balance.data.available} <span class="muted">tokens available</span>
              </p>
              <p class="muted">
                {balance.data.reserved} held for actions in progress · low-balance alert below{' '}
                {balance.data.lowBalanceThreshold}
              </p>
              {balance.data.tenantStatus === 'suspended' ? (
                <p class="error" role="alert">
                  Your business is suspended for an unpaid fee: buy tokens to lift it.
                </p>
              ) : null}
              {balance.data.available === 0 ? (
                <p>Every model call and action costs tokens: buy some to let your agents answer.</p>
              ) : null}
            </>
          ) : null}
        </article>
        <article class="card" aria-labelledby="buy-title">
          <h2 id="buy-title">Buy tokens</h2>
          <form
            onSubmit={(event) => {
              event.preventDefault();
              void purchase.run();
            }}
          >
            <label>
              Tokens
              <input
                type="number"
                min="1"
                step="1"
                value={amount}
                onInput={(e) => setAmount(e.currentTarget.value)}
                required
              />
            </label>
            <ErrorNote message={purchase.error} />
            {bought ? (
              <p class="ok" role="status">
                {bought}
              </p>
            ) : null}
            <button type="submit" disabled={purchase.pending}>
              {purchase.pending ? 'Paying…' : 'Buy'}
            </button>
          </form>
        </article>
      </div>

      <h2>Usage</h2>
      <form class="filters" aria-label="Usage period" onSubmit={(e) => e.preventDefault()}>
        <label>
          From
          <input type="date" value={from} max={to} onChange={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          To
          <input type="date" value={to} min={from} onChange={(e) => setTo(e.currentTarget.value)} />
        </label>
      </form>
      <ErrorNote message={usage.error} />
      {usage.loading && !usage.data ? <Loading what="usage" /> : null}
      {totals ? (
        <>
          <p>
            <strong>{totals.charged}</strong> tokens spent, <strong>{totals.credited}</strong> added in this
            period.
          </p>
          {totals.charged === 0 ? (
            <Empty title="Nothing spent in this period.">
              <p>Chat with an active agent, and what it costs shows here by day, agent and action.</p>
            </Empty>
          ) : (
            <div class="charts">
              <ColumnChart
                title="Spent by day"
                unit="tokens"
                bars={totals.byDay.map((day) => ({ label: day.day, value: day.charged }))}
              />
              <BarList
                title="Spent by agent"
                unit="tokens"
                bars={byName(totals.byAgent).map((bar) => ({ ...bar, label: agentName(bar.label) }))}
              />
              <BarList title="Spent by action" unit="tokens" bars={byName(totals.byAction)} />
            </div>
          )}
          <h3>Latest entries</h3>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Type</th>
                  <th scope="col">Amount</th>
                  <th scope="col">Action</th>
                  <th scope="col">By</th>
                </tr>
              </thead>
              <tbody>
                {usage.data?.items.map((entry) => (
                  <tr key={entry.id}>
                    <td>{formatDate(entry.createdAt)}</td>
                    <td>{entry.type}</td>
                    <td>{entry.amount}</td>
                    <td>{entry.action ?? ''}</td>
                    <td>{entry.actor}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </Page>
  );
}

/** A purchase back from the payment page: looked at until paid or failed (a bounded poll). */
function PurchaseOutcome({
  id,
  cancelled,
  onSettled,
}: {
  id: string;
  cancelled: boolean;
  onSettled: () => void;
}) {
  const [tries, setTries] = useState(0);
  const purchase = useLoad(
    () => must(api().GET('/v1/tokens/purchases/{id}', { params: { path: { id } } })),
    [id, tries],
  );
  const status = purchase.data?.status;
  useEffect(() => {
    if (status === 'succeeded' || status === 'failed') onSettled();
    if (status !== 'pending' || cancelled || tries >= POLL_TIMES) return;
    const timer = setTimeout(() => setTries((t) => t + 1), POLL_MS);
    return () => clearTimeout(timer);
  }, [status, tries, cancelled]);

  let message: string | undefined;
  let tone = 'ok';
  if (purchase.data?.status === 'succeeded') {
    message = `Paid: ${purchase.data.tokens} tokens were added to your balance.`;
  } else if (purchase.data?.status === 'failed') {
    tone = 'error';
    message = `The payment did not go through${purchase.data.failureReason ? ` (${purchase.data.failureReason})` : ''}: nothing was charged and no tokens were added.`;
  } else if (purchase.data && cancelled) {
    tone = 'muted';
    message = 'You cancelled the payment: nothing was charged. Buy again whenever you like.';
  } else if (purchase.data && tries >= POLL_TIMES) {
    tone = 'muted';
    message =
      'Stripe has not confirmed the payment yet. The tokens are added as soon as it does: reload this page in a minute.';
  } else if (purchase.data) {
    tone = 'muted';
    message = 'Waiting for Stripe to confirm your payment…';
  }
  return (
    <section class="card" aria-labelledby="purchase-title">
      <h2 id="purchase-title">Your purchase</h2>
      {purchase.error ? <ErrorNote message={purchase.error} /> : null}
      {!purchase.data && purchase.loading ? <Loading what="your purchase" /> : null}
      {message ? (
        <p class={tone} role="status">
          {message}
        </p>
      ) : null}
    </section>
  );
}
