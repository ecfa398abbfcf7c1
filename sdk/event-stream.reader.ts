/** One Server-Sent Event as the HTML standard's parser dispatches it. */
export interface ServerSentEvent {
  readonly event: string;
  /** The `id:` of this event, or null when it carried none (an id then still names the last one seen). */
  readonly id: string | null;
  readonly data: string;
}

/**
 * Reads a `text/event-stream` body (the HTML standard's rules, minus `retry`): lines end in LF,
 * CRLF or CR, a blank line dispatches, `:` starts a comment, `data` lines are joined by LF. An
 * event without `data` is not dispatched. Ends when the body ends. `onBytes` hears of every chunk.
 */
export async function* readEventStream(body: ReadableStream<Uint8Array>, onBytes?: () => void): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffered = '';
  let fields = emptyFields();
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    // Comments are activity too: they are how a quiet stream shows it is alive.
    onBytes?.();
    buffered += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = lineEnd(buffered)) !== -1) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + (buffered[end] === '\r' && buffered[end + 1] === '\n' ? 2 : 1));
      if (line === '') {
        if (fields.data !== null) yield { event: fields.event || 'message', id: fields.id, data: fields.data };
        fields = emptyFields();
      } else if (!line.startsWith(':')) {
        readField(fields, line);
      }
    }
  }
}

interface Fields {
  event: string;
  id: string | null;
  data: string | null;
}

function emptyFields(): Fields {
  return { event: '', id: null, data: null };
}

function lineEnd(text: string): number {
  const lf = text.indexOf('\n');
  const cr = text.indexOf('\r');
  // A CR at the very end may be the first half of a CRLF still on its way.
  if (cr !== -1 && cr === text.length - 1 && (lf === -1 || lf > cr)) return -1;
  if (lf === -1) return cr;
  return cr === -1 ? lf : Math.min(lf, cr);
}

function readField(fields: Fields, line: string): void {
  const colon = line.indexOf(':');
  const name = colon === -1 ? line : line.slice(0, colon);
  let value = colon === -1 ? '' : line.slice(colon + 1);
  if (value.startsWith(' ')) value = value.slice(1);
  if (name === 'event') fields.event = value;
  else if (name === 'data') fields.data = fields.data === null ? value : `${fields.data}\n${value}`;
  else if (name === 'id' && !value.includes('\u0000')) fields.id = value;
}
