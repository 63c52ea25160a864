import type { ChunkRecord } from "@sift/core";
import { describe, expect, it } from "vitest";
import { textOfChunks } from "./catalog-feed";

const text = "Solar prices fell. Wind auctions drew fewer bidders. Banks beat expectations.";
const chunk = (ordinal: number, charStart: number, charEnd: number): ChunkRecord => ({
  id: ordinal + 1,
  documentId: 1,
  collectionId: 1,
  externalId: "d",
  title: null,
  metadata: {},
  ordinal,
  text: text.slice(charStart, charEnd),
  charStart,
  charEnd,
  headingPath: [],
  tokenCount: 1,
});

describe("textOfChunks", () => {
  it("rebuilds the text from adjacent, overlapping and out-of-order chunks", () => {
    expect(textOfChunks([chunk(1, 19, 52), chunk(0, 0, 19), chunk(2, 52, text.length)])).toBe(text);
    expect(textOfChunks([chunk(0, 0, 30), chunk(1, 19, text.length)])).toBe(text);
  });

  it("joins chunks separated by a gap with one space", () => {
    expect(textOfChunks([chunk(0, 0, 18), chunk(1, 19, 52)])).toBe(text.slice(0, 52));
    expect(textOfChunks([])).toBe("");
  });
});
