import { useRef, useState } from 'preact/hooks';
import { ApiFailure, api, must } from '../api/client';
import { ErrorNote, formatDate, Loading, Page, useAction, useLoad } from '../ui';

/** One call pauses every agent of the business and cancels what waits; confirmed in a dialog first. */
export function EmergencyPage() {
  const stop = useLoad(async () => {
    try {
      return await must(api().GET('/v1/tenant/emergency-stop'));
    } catch (error) {
      if (error instanceof ApiFailure && error.status === 404) return null;
      throw error;
    }
  }, []);
  const [reason, setReason] = useState('');
  const [result, setResult] = useState<string | undefined>();
  const dialog = useRef<HTMLDialogElement>(null);
  const confirm = useAction(async () => {
    const stopped = await must(
      api().POST('/v1/tenant/emergency-stop', { body: reason.trim() ? { reason: reason.trim() } : {} }),
    );
    dialog.current?.close();
    setResult(
      `Stopped: ${stopped.pausedAgents} agents paused, ${stopped.cancelledApprovals} approvals and ${stopped.cancelledSuggestions} suggestions cancelled.`,
    );
    stop.reload();
  });
  const lift = useAction(async () => {
    await must(api().DELETE('/v1/tenant/emergency-stop'));
    setResult('The stop is lifted: actions may be decided again. Agents stay paused until you resume them.');
    stop.reload();
  });

  return (
    <Page title="Emergency stop">
      <p>
        Stopping pauses every agent of your business at once, cancels the approvals and suggestions that wait,
        and refuses every action until you lift the stop.
      </p>
      {result ? (
        <p class="ok" role="status">
          {result}
        </p>
      ) : null}
      <ErrorNote message={stop.error} />
      {stop.loading && stop.data === undefined ? <Loading what="the stop's state" /> : null}
      {stop.data ? (
        <div class="card stop-active">
          <h2>A stop is in force</h2>
          <p>
            Since {formatDate(stop.data.stoppedAt)} by {stop.data.stoppedBy}: {stop.data.reason}
          </p>
          <ErrorNote message={lift.error} />
          <button type="button" disabled={lift.pending} onClick={() => void lift.run()}>
            Lift the stop
          </button>
        </div>
      ) : null}
      {stop.data === null ? (
        <form
          class="card"
          onSubmit={(event) => {
            event.preventDefault();
            dialog.current?.showModal();
          }}
        >
          <label>
            Reason (recorded in the audit log)
            <input value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
          <button type="submit" class="danger">
            Stop every agent…
          </button>
        </form>
      ) : null}
      <dialog ref={dialog} aria-labelledby="confirm-stop-title">
        <h2 id="confirm-stop-title">Stop every agent now?</h2>
        <p>Your agents stop answering customers until you resume them.</p>
        <ErrorNote message={confirm.error} />
        <div class="row">
          <button type="button" class="danger" disabled={confirm.pending} onClick={() => void confirm.run()}>
            Yes, stop everything
          </button>
          <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </dialog>
    </Page>
  );
}
