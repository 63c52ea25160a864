import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countSource, readSource, resolveSource } from "./index";
import type { SourceItem } from "./types";

let root: string;

async function collect(iterable: AsyncIterable<SourceItem>): Promise<SourceItem[]> {
  const items: SourceItem[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function put(relative: string, content: string | Uint8Array): Promise<string> {
  const file = path.join(root, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  return file;
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "sift-sources-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("files source", () => {
  let tree: string;

  beforeAll(async () => {
    tree = path.join(root, "tree");
    await put("tree/b.md", "# Bee\n\nAbout bees.");
    await put("tree/a.txt", "plain text");
    await put("tree/page.HTML", "<html><head><title>Page</title></head><body><p>Hi</p></body></html>");
    await put(
      "tree/image.png",
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
    );
    await put("tree/binary.txt", new Uint8Array([0x68, 0x69, 0x00, 0x01, 0x02]));
    await put("tree/latin1.md", new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6f, 0x6b])); // "café ok" in Latin-1
    await put("tree/notes", "no extension");
    await put("tree/sub/deeper/c.markdown", "deep");
    await put("tree/sub/d.htm", "<p>d</p>");
    await put("tree/.git/config", "[core]");
    await put("tree/.hidden.md", "hidden");
    await symlink(path.join(tree, "a.txt"), path.join(tree, "link.txt"));
  });

  it("walks the tree sorted, files before subfolders, posix ids, hidden entries left out", async () => {
    const items = await collect(readSource(tree));
    const ids = items.map((item) => (item.kind === "document" ? item.document.externalId : item.source));
    expect(ids).toEqual([
      "a.txt",
      "b.md",
      "binary.txt",
      "image.png",
      "latin1.md",
      "link.txt",
      "notes",
      "page.HTML",
      "sub/d.htm",
      "sub/deeper/c.markdown",
    ]);
    expect(await countSource(await resolveSource(tree))).toBe(items.length);
  });

  it("reads supported files as documents with their format, file URL and a fallback title", async () => {
    const items = await collect(readSource(tree, { format: "files" }));
    const documents = new Map(
      items.flatMap((item) => (item.kind === "document" ? [[item.document.externalId, item.document]] : [])),
    );
    expect([...documents.keys()].sort()).toEqual([
      "a.txt",
      "b.md",
      "page.HTML",
      "sub/d.htm",
      "sub/deeper/c.markdown",
    ]);
    expect(documents.get("b.md")).toEqual({
      externalId: "b.md",
      text: "# Bee\n\nAbout bees.",
      sourceUri: pathToFileURL(path.join(tree, "b.md")).href,
      format: "markdown",
      fallbackTitle: "b.md",
    });
    expect(documents.get("a.txt")?.format).toBe("text");
    expect(documents.get("page.HTML")?.format).toBe("html");
    expect(documents.get("sub/d.htm")?.format).toBe("html");
    expect(documents.get("sub/deeper/c.markdown")?.format).toBe("markdown");
    expect(documents.get("sub/deeper/c.markdown")?.fallbackTitle).toBe("c.markdown");
  });

  it("skips binary, invalid UTF-8, unknown and symlinked entries with a reason, without throwing", async () => {
    const items = await collect(readSource(tree));
    const skipped = new Map(
      items.flatMap((item) => (item.kind === "skipped" ? [[item.source, item.reason]] : [])),
    );
    expect(skipped.get("binary.txt")).toMatch(/binary file \(NUL byte/);
    expect(skipped.get("latin1.md")).toMatch(/invalid UTF-8/);
    expect(skipped.get("image.png")).toMatch(/unsupported file type '.png'/);
    expect(skipped.get("notes")).toMatch(/unsupported file type '\(none\)'/);
    expect(skipped.get("link.txt")).toMatch(/symbolic link/);
    expect(skipped.size).toBe(5);
  });

  it("skips files over the size limit and unreadable files, keeping their id", async () => {
    const dir = path.join(root, "limits");
    await put("limits/big.txt", "x".repeat(2000));
    const unreadable = await put("limits/locked.txt", "secret");
    const { chmod } = await import("node:fs/promises");
    await chmod(unreadable, 0o000);
    const items = await collect(readSource(dir, { maxFileBytes: 1000 }));
    expect(items[0]).toMatchObject({ kind: "skipped", source: "big.txt", externalId: "big.txt" });
    expect((items[0] as { reason: string }).reason).toMatch(/too large \(2000 bytes, limit 1000\)/);
    // Root can read any file: only assert the unreadable case where permissions apply.
    if (process.getuid?.() !== 0) {
      expect(items[1]).toMatchObject({ kind: "skipped", source: "locked.txt", externalId: "locked.txt" });
    }
    await chmod(unreadable, 0o600);
  });

  it("reads a single file, id = its name", async () => {
    const items = await collect(readSource(path.join(tree, "sub", "d.htm")));
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: "document", document: { externalId: "d.htm", format: "html" } });
  });

  it("stops when the signal is aborted", async () => {
    const controller = new AbortController();
    const items: SourceItem[] = [];
    for await (const item of readSource(tree, { signal: controller.signal })) {
      items.push(item);
      if (items.length === 2) controller.abort();
    }
    expect(items).toHaveLength(2);
  });
});

describe("JSONL source", () => {
  let file: string;

  beforeAll(async () => {
    file = await put(
      "docs.jsonl",
      [
        JSON.stringify({ id: "d1", title: "One", text: "first", metadata: { lang: "en", tags: ["a"] } }),
        "",
        "{not json",
        JSON.stringify({ id: "d2", text: 42 }),
        JSON.stringify({ title: "no id", text: "x" }),
        JSON.stringify({ _id: "d3", text: "third", title: null }),
        JSON.stringify({ id: 7, text: "numeric id", extra: "ignored" }),
        JSON.stringify({ id: "d4", text: "bad metadata", metadata: ["not", "an", "object"] }),
        "   ",
        JSON.stringify({ id: "", text: "empty id" }),
        "[1,2]",
        `${JSON.stringify({ id: "d5", text: "crlf" })}\r`,
        JSON.stringify({ id: "d6", text: "last line without newline" }),
      ].join("\n"),
    );
  });

  it("yields one document per valid line and a skipped item with the line number per bad line", async () => {
    const items = await collect(readSource(file));
    expect(items.map((i) => (i.kind === "document" ? i.document.externalId : i.source))).toEqual([
      "d1",
      "docs.jsonl:3",
      "docs.jsonl:4",
      "docs.jsonl:5",
      "d3",
      "7",
      "docs.jsonl:8",
      "docs.jsonl:10",
      "docs.jsonl:11",
      "d5",
      "d6",
    ]);
    expect(items[0]).toEqual({
      kind: "document",
      document: {
        externalId: "d1",
        title: "One",
        text: "first",
        metadata: { lang: "en", tags: ["a"] },
        format: "text",
      },
    });
    const d3 = items[4];
    expect(d3?.kind === "document" && d3.document.title).toBeUndefined();
    const reasons = items.flatMap((i) => (i.kind === "skipped" ? [i.reason] : []));
    expect(reasons[0]).toMatch(/^invalid JSON/);
    expect(reasons[1]).toMatch(/text: .*string/i);
    expect(reasons[2]).toMatch(/id: required \(as 'id' or '_id'\)/);
    expect(reasons[3]).toMatch(/metadata/);
    expect(reasons[4]).toMatch(/id: must not be empty/);
    // A line with an id but bad content keeps the id, so pruning does not delete the stored document.
    expect(items[2]).toMatchObject({ kind: "skipped", externalId: "d2" });
    expect(items[6]).toMatchObject({ kind: "skipped", externalId: "d4" });
  });

  it("counts the items with a byte scan", async () => {
    const resolved = await resolveSource(file);
    expect(resolved).toEqual({ kind: "jsonl", path: file });
    expect(await countSource(resolved)).toBe((await collect(readSource(file))).length);
  });

  it("streams a large file without loading it whole", async () => {
    const big = path.join(root, "big.jsonl");
    const line = `${JSON.stringify({ id: "x", text: "y".repeat(1000) })}\n`;
    const { createWriteStream } = await import("node:fs");
    const out = createWriteStream(big);
    for (let i = 0; i < 20_000; i += 1) out.write(line.replace('"x"', `"x${i}"`));
    await new Promise<void>((resolve) => out.end(resolve));
    let count = 0;
    for await (const item of readSource(big)) if (item.kind === "document") count += 1;
    expect(count).toBe(20_000);
    expect(await countSource(await resolveSource(big))).toBe(20_000);
  });
});

describe("BEIR source and detection", () => {
  let beir: string;

  beforeAll(async () => {
    beir = path.join(root, "beir");
    await put(
      "beir/corpus.jsonl",
      `${[
        JSON.stringify({
          _id: "4983",
          title: "Microstructural development",
          text: "Alterations of white matter",
          metadata: {},
        }),
        JSON.stringify({ _id: "5836", title: "", text: "Second abstract" }),
      ].join("\n")}\n`,
    );
    await put("beir/queries.jsonl", JSON.stringify({ _id: "q1", text: "query" }));
    await put("plain.jsonl", JSON.stringify({ id: "p1", text: "plain" }));
  });

  it("detects a BEIR folder and reads corpus.jsonl by _id", async () => {
    expect(await resolveSource(beir)).toEqual({ kind: "beir", path: path.join(beir, "corpus.jsonl") });
    const items = await collect(readSource(beir));
    expect(items).toEqual([
      {
        kind: "document",
        document: {
          externalId: "4983",
          title: "Microstructural development",
          text: "Alterations of white matter",
          metadata: {},
          format: "text",
        },
      },
      { kind: "document", document: { externalId: "5836", text: "Second abstract", format: "text" } },
    ]);
  });

  it("detects the corpus file itself as BEIR (lines with _id), other JSONL as jsonl", async () => {
    const corpus = path.join(beir, "corpus.jsonl");
    expect(await resolveSource(corpus)).toEqual({ kind: "beir", path: corpus });
    expect(await resolveSource(path.join(root, "plain.jsonl"))).toMatchObject({ kind: "jsonl" });
    expect(await resolveSource(path.join(root, "tree"))).toMatchObject({ kind: "files" });
  });

  it("honours an explicit format and rejects impossible ones", async () => {
    expect(await resolveSource(beir, "files")).toEqual({ kind: "files", path: beir });
    expect(await resolveSource(beir, "jsonl")).toMatchObject({ kind: "jsonl" });
    await expect(resolveSource(path.join(root, "tree"), "beir")).rejects.toThrow(/has no corpus.jsonl/);
    await expect(resolveSource(path.join(root, "tree"), "jsonl")).rejects.toThrow(/is a folder/);
    await expect(resolveSource(path.join(root, "missing"))).rejects.toThrow(/does not exist/);
  });
});
