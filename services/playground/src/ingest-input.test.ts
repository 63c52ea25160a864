import { describe, expect, it } from "vitest";
import { batches, documentsFromFiles, parseJsonl } from "./ingest-input";

const noHtml = () => {
  throw new Error("no HTML expected");
};

describe("ingest input", () => {
  it("reads JSONL like the CLI and lists each bad line with its number", () => {
    const parsed = parseJsonl(
      [
        '{"id": "a", "title": "A", "text": "alpha", "metadata": {"year": 2024}}',
        "",
        "not json",
        '{"id": 7, "text": "numeric id"}',
        '{"id": "c"}',
      ].join("\n"),
      "corpus.jsonl",
    );
    expect(parsed.documents).toEqual([
      { id: "a", title: "A", text: "alpha", metadata: { year: 2024 } },
      { id: "7", text: "numeric id" },
    ]);
    expect(parsed.problems).toEqual([
      "corpus.jsonl line 3: not JSON",
      'corpus.jsonl line 5: needs a string "id" and "text"',
    ]);
  });

  it("turns files into documents by extension: Markdown titled by its heading, HTML through the parser", () => {
    const parsed = documentsFromFiles(
      [
        { name: "notes.md", text: "intro\n# Zebra notes\nbody" },
        { name: "plain.txt", text: "just text" },
        { name: "page.html", text: "<title>T</title><p>x</p>" },
        { name: "image.png", text: "\u0089PNG" },
      ],
      (html) => ({ title: "T", text: html.length > 0 ? "x" : "" }),
    );
    expect(parsed.documents).toEqual([
      { id: "notes.md", title: "Zebra notes", text: "intro\n# Zebra notes\nbody" },
      { id: "plain.txt", text: "just text" },
      { id: "page.html", title: "T", text: "x" },
    ]);
    expect(parsed.problems).toEqual(["image.png: not a .md, .txt, .html or .jsonl file"]);
    expect(
      documentsFromFiles([{ name: "c.jsonl", text: '{"id":"x","text":"y"}' }], noHtml).documents,
    ).toEqual([{ id: "x", text: "y" }]);
  });

  it("batches by count and by size, a large document alone, keeping the order", () => {
    const docs = Array.from({ length: 5 }, (_, i) => ({
      id: String(i),
      text: i === 2 ? "x".repeat(500) : "y",
    }));
    const byCount = batches(docs, 2, 10_000);
    expect(byCount.map((b) => b.map((d) => d.id))).toEqual([["0", "1"], ["2", "3"], ["4"]]);
    const bySize = batches(docs, 100, 100);
    expect(bySize.map((b) => b.map((d) => d.id))).toEqual([["0", "1"], ["2"], ["3", "4"]]);
    expect(batches([])).toEqual([]);
  });
});
