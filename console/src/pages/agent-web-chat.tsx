import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure, api, must, type ResponseOf } from '../api/client';
import { Copyable } from '../copy';
import { Empty, ErrorNote, Loading, useAction, useLoad } from '../ui';

type WebChat = ResponseOf<'/v1/agents/{id}/web-chat', 'get'>;

/**
 * The tag a business pastes into its pages: the script served beside the console and the key, no
 * more. The widget reads where the API and its WebSocket are from config.json beside it (on AWS
 * the WebSocket API has its own URL), as the console does.
 */
export function widgetSnippet(publishableKey: string): string {
  return `<script src="${location.origin}/widget.js" data-key="${publishableKey}" async></script>`;
}

/**
 * The agent's web chat (`/v1/agents/{id}/web-chat`): set it up, the pages allowed to embed it, on
 * or off, the snippet to paste, and a new key. The signing secret comes only in the answer that
 * made it, so it is shown once, here, until the user says it is copied.
 */
export function AgentWebChat({ agentId }: { agentId: string }) {
  const loaded = useLoad(async () => {
    try {
      return await must(api().GET('/v1/agents/{id}/web-chat', { params: { path: { id: agentId } } }));
    } catch (error) {
      // Never set up: an empty state, not an error.
      if (error instanceof ApiFailure && error.status === 404) return null;
      throw error;
    }
  }, [agentId]);
  const [chat, setChat] = useState<WebChat | null | undefined>();
  useEffect(() => setChat(loaded.data), [loaded.data]);
  const [setUp, setSetUp] = useState(false);
  const [origins, setOrigins] = useState<string[]>([]);
  const [enabled, setEnabled] = useState(true);
  const [origin, setOrigin] = useState('');
  const [secret, setSecret] = useState<string | undefined>();
  const [saved, setSaved] = useState<string | undefined>();
  const rotateDialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    setOrigins(chat ? [...chat.allowedOrigins] : []);
    setEnabled(chat?.enabled ?? true);
  }, [chat]);

  const answered = (next: WebChat) => {
    setChat(next);
    if (next.signingSecret) setSecret(next.signingSecret);
  };
  const save = useAction(async () => {
    setSaved(undefined);
    // An origin typed but not yet added is meant to be saved too.
    const typed = origin.trim().replace(/\/$/, '');
    const allowedOrigins = typed && !origins.includes(typed) ? [...origins, typed] : origins;
    const next = await must(
      api().PUT('/v1/agents/{id}/web-chat', {
        params: { path: { id: agentId } },
        body: { allowedOrigins, enabled },
      }),
    );
    setOrigin('');
    answered(next);
    setSetUp(false);
    setSaved(next.signingSecret ? 'Web chat is set up.' : 'Web chat saved.');
  });
  const rotate = useAction(async () => {
    setSaved(undefined);
    answered(
      await must(api().POST('/v1/agents/{id}/web-chat/rotate', { params: { path: { id: agentId } } })),
    );
    rotateDialog.current?.close();
    setSaved('A new key and signing secret: the old key no longer works, so update your pages.');
  });

  const addOrigin = () => {
    const value = origin.trim().replace(/\/$/, '');
    if (value && !origins.includes(value)) setOrigins([...origins, value]);
    setOrigin('');
  };

  return (
    <section aria-labelledby="web-chat-title">
      <h2 id="web-chat-title">Web chat</h2>
      <ErrorNote message={loaded.error} />
      {loaded.loading && chat === undefined ? <Loading what="the web chat" /> : null}
      {secret ? (
        <section class="card once" aria-label="Signing secret">
          <p>
            <strong>Signing secret: copy it now, it won't be shown again.</strong> Keep it on your server: it
            signs the customer ids you vouch for (<code>data-customer</code> + <code>data-signature</code>).
          </p>
          <Copyable text={secret} label="Copy the signing secret" />
          <button type="button" class="secondary" onClick={() => setSecret(undefined)}>
            I have copied it
          </button>
        </section>
      ) : null}
      {saved ? (
        <p class="ok" role="status">
          {saved}
        </p>
      ) : null}
      {chat === null && !setUp ? (
        <Empty title="Web chat is not set up.">
          <p>Set it up to put a chat button on your website that talks to this agent.</p>
          <button type="button" onClick={() => setSetUp(true)}>
            Set up web chat
          </button>
        </Empty>
      ) : null}
      {chat ? (
        <>
          <dl class="params">
            <dt>Status</dt>
            <dd>{chat.enabled ? 'on' : 'off'}</dd>
            <dt>Publishable key</dt>
            <dd>
              <code>{chat.publishableKey}</code>
            </dd>
          </dl>
          <p class="hint">Paste this into your pages, before &lt;/body&gt;:</p>
          <Copyable text={widgetSnippet(chat.publishableKey)} label="Copy the web chat snippet" />
        </>
      ) : null}
      {chat || setUp ? (
        <form
          class="card editor"
          aria-label="Web chat settings"
          onSubmit={(event) => {
            event.preventDefault();
            void save.run();
          }}
        >
          <fieldset>
            <legend>Websites allowed to embed it</legend>
            {origins.length === 0 ? (
              <p class="muted">None yet: add your website's origin, e.g. https://shop.example.</p>
            ) : (
              <ul aria-label="Allowed origins">
                {origins.map((each) => (
                  <li key={each} class="row">
                    <code>{each}</code>
                    <button
                      type="button"
                      class="link"
                      onClick={() => setOrigins(origins.filter((o) => o !== each))}
                      aria-label={`Remove ${each}`}
                    >
                      Remove
                    </button>
                  </li>
                ))}
              </ul>
            )}
            <label>
              Origin to add
              <input
                type="url"
                placeholder="https://shop.example"
                value={origin}
                onInput={(e) => setOrigin(e.currentTarget.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') {
                    e.preventDefault();
                    addOrigin();
                  }
                }}
              />
              <span class="hint">
                Scheme and host (and port), nothing after: the widget answers only there.
              </span>
            </label>
            <button type="button" class="secondary" onClick={addOrigin}>
              Add origin
            </button>
          </fieldset>
          <label class="check">
            <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
            <span>On: visitors can chat</span>
          </label>
          <ErrorNote message={save.error} />
          <div class="row">
            <button type="submit" disabled={save.pending}>
              {save.pending ? 'Saving…' : chat ? 'Save web chat' : 'Create web chat'}
            </button>
            {chat ? (
              <button
                type="button"
                class="secondary danger"
                onClick={() => rotateDialog.current?.showModal()}
              >
                New key and secret…
              </button>
            ) : (
              <button type="button" class="secondary" onClick={() => setSetUp(false)}>
                Cancel
              </button>
            )}
          </div>
        </form>
      ) : null}
      <dialog ref={rotateDialog} aria-labelledby="rotate-title">
        <h2 id="rotate-title">Make a new key and signing secret?</h2>
        <p>The current key stops working at once: every page with the old snippet needs the new one.</p>
        <ErrorNote message={rotate.error} />
        <div class="row">
          <button type="button" class="danger" disabled={rotate.pending} onClick={() => void rotate.run()}>
            Yes, make new ones
          </button>
          <button type="button" class="secondary" onClick={() => rotateDialog.current?.close()}>
            Cancel
          </button>
        </div>
      </dialog>
    </section>
  );
}
