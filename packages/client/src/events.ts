/** One server-sent event, as the EventSource spec assembles it. */
export interface SseMessage {
  event: string;
  data: string;
  /** The stream's last event id so far (an event without `id:` keeps the previous one). */
  lastEventId: string;
  /** A `retry:` the server sent with this event, in ms. */
  retry?: number;
}

/** Parses a `text/event-stream` body into messages; comments (heartbeats) are skipped. */
export async function* parseEventStream(body: ReadableStream<Uint8Array>, lastEventId = ''): AsyncGenerator<SseMessage> {
  const reader = body.pipeThrough<string>(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).getReader();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let retry: number | undefined;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let lineEnd: number;
      while ((lineEnd = buffer.search(/\r\n|\r|\n/)) >= 0) {
        // a lone \r at the buffer's end may be the first half of \r\n: wait for more
        if (buffer[lineEnd] === '\r' && lineEnd === buffer.length - 1) break;
        const line = buffer.slice(0, lineEnd);
        buffer = buffer.slice(lineEnd + (buffer.startsWith('\r\n', lineEnd) ? 2 : 1));
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), lastEventId, retry };
          event = '';
          data = [];
          retry = undefined;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const fieldValue = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(fieldValue);
        else if (field === 'event') event = fieldValue;
        else if (field === 'id' && !fieldValue.includes('\0')) lastEventId = fieldValue;
        else if (field === 'retry' && /^\d+$/.test(fieldValue)) retry = Number(fieldValue);
      }
    }
  } finally {
    // closes the connection when the caller stops early
    await reader.cancel().catch(() => undefined);
  }
}
