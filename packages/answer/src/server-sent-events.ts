/** One dispatched Server-Sent Event. `event` is "message" unless the stream named it. */
export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * Parses a `text/event-stream` body as the WHATWG HTML spec describes it: lines end in CRLF, LF or CR
 * (also when split across network chunks), `data:` lines of one event are joined with "\n", a blank line
 * dispatches the event, lines starting with ":" are comments (keep-alives), one space after the colon is
 * dropped, unknown fields are ignored, and an event still open when the stream ends is discarded. UTF-8 is
 * decoded across chunk boundaries.
 */
export async function* parseServerSentEvents(
  body: AsyncIterable<Uint8Array>,
): AsyncGenerator<ServerSentEvent, void, undefined> {
  const decoder = new TextDecoder("utf-8");
  let buffer = "";
  let data: string[] = [];
  let event = "";
  let id: string | undefined;
  // A CR at the very end of a chunk may be the first half of a CRLF: remember to skip a following LF.
  let skipLeadingLf = false;

  const takeLine = (line: string): ServerSentEvent | undefined => {
    if (line === "") {
      if (data.length === 0) {
        event = "";
        return undefined;
      }
      const dispatched: ServerSentEvent = { event: event || "message", data: data.join("\n") };
      if (id !== undefined) dispatched.id = id;
      data = [];
      event = "";
      return dispatched;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
    else if (field === "id" && !value.includes("\0")) id = value;
    return undefined;
  };

  const drain = function* (final: boolean): Generator<ServerSentEvent> {
    let start = 0;
    if (skipLeadingLf && buffer.startsWith("\n")) start = 1;
    skipLeadingLf = false;
    for (let index = start; index < buffer.length; index++) {
      const code = buffer.charCodeAt(index);
      if (code !== 10 && code !== 13) continue;
      const line = buffer.slice(start, index);
      if (code === 13) {
        if (index + 1 < buffer.length) {
          if (buffer.charCodeAt(index + 1) === 10) index++;
        } else if (!final) {
          skipLeadingLf = true;
        }
      }
      start = index + 1;
      const dispatched = takeLine(line);
      if (dispatched) yield dispatched;
    }
    buffer = buffer.slice(start);
  };

  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    yield* drain(false);
  }
  buffer += decoder.decode();
  yield* drain(true);
}
