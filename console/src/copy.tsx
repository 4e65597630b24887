import { useState } from 'preact/hooks';

/**
 * Copies `text` to the clipboard and says so (`aria-live`). Where the clipboard is refused (an
 * insecure context, a denied permission) it says to select the text instead.
 */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [said, setSaid] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setSaid('Copied.');
    } catch {
      setSaid('Copying is not allowed here: select the text and copy it.');
    }
  };
  return (
    <span class="row">
      <button type="button" class="secondary" aria-label={label} onClick={() => void copy()}>
        Copy
      </button>
      <span class="muted" role="status" aria-live="polite">
        {said}
      </span>
    </span>
  );
}

/** A value to hand out (a URL, a key, a snippet): shown whole, wrapping, with a Copy button. */
export function Copyable({ text, label }: { text: string; label: string }) {
  return (
    <div class="copyable">
      <code>{text}</code>
      <CopyButton text={text} label={label} />
    </div>
  );
}
