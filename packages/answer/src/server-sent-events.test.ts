import { describe, expect, it } from "vitest";
import { parseServerSentEvents, type ServerSentEvent } from "./server-sent-events";

async function parse(pieces: Array<string | Uint8Array>): Promise<ServerSentEvent[]> {
  const encoder = new TextEncoder();
  async function* body() {
    for (const piece of pieces) yield typeof piece === "string" ? encoder.encode(piece) : piece;
  }
  const events: ServerSentEvent[] = [];
  for await (const event of parseServerSentEvents(body())) events.push(event);
  return events;
}

describe("parseServerSentEvents", () => {
  it("dispatches on blank lines, joins data lines, skips comments and drops one leading space", async () => {
    const events = await parse([
      ': ping\n\ndata: {"a":1}\n\ndata:x\ndata:  y\n\nevent: error\ndata: z\nid: 7\n\n',
    ]);
    expect(events).toEqual([
      { event: "message", data: '{"a":1}' },
      { event: "message", data: "x\n y" },
      { event: "error", data: "z", id: "7" },
    ]);
  });

  it("accepts CRLF and CR line ends, also when a CRLF is split across chunks", async () => {
    const events = await parse(["data: one\r", "\n\r", "\ndata: two\r\rdata: three\r\n\r\n"]);
    expect(events.map((event) => event.data)).toEqual(["one", "two", "three"]);
  });

  it("decodes UTF-8 split inside a character and discards an event left open at the end", async () => {
    const bytes = new TextEncoder().encode("data: café 😀\n\ndata: unfinished");
    const events = await parse([bytes.slice(0, 10), bytes.slice(10, 13), bytes.slice(13)]);
    expect(events).toEqual([{ event: "message", data: "café 😀" }]);
  });
});
