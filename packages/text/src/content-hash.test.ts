import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalJson, contentHash } from "./content-hash";

describe("contentHash", () => {
  const document = {
    title: "Hybrid search",
    text: "BM25 and dense vectors.",
    sourceUri: "file:///docs/a.md",
    metadata: { lang: "en", tags: ["a", "b"], nested: { z: 1, a: [true, null] } },
  };

  it("is the sha256 hex of the canonical JSON with sorted keys", () => {
    const expected = createHash("sha256")
      .update(
        '{"metadata":{"lang":"en","nested":{"a":[true,null],"z":1},"tags":["a","b"]},"sourceUri":"file:///docs/a.md","text":"BM25 and dense vectors.","title":"Hybrid search"}',
      )
      .digest("hex");
    expect(contentHash(document)).toBe(expected);
    // Computed independently: sha256 of the bytes {"metadata":{},"text":"hello"}.
    expect(contentHash({ text: "hello" })).toBe(
      "d693c0ce0c8ed5f87c11943ab7878ad41b1a6638e917f3ef07500b5ba84a1207",
    );
  });

  it("does not depend on key order at any depth", () => {
    const reordered = {
      metadata: { nested: { a: [true, null], z: 1 }, tags: ["a", "b"], lang: "en" },
      sourceUri: "file:///docs/a.md",
      text: "BM25 and dense vectors.",
      title: "Hybrid search",
    };
    expect(contentHash(reordered)).toBe(contentHash(document));
    expect(contentHash({ text: "t", metadata: { "10": 1, "9": 2, b: 3, a: 4 } })).toBe(
      contentHash({ text: "t", metadata: { a: 4, b: 3, "9": 2, "10": 1 } }),
    );
  });

  it("changes with every field", () => {
    const base = contentHash(document);
    expect(contentHash({ ...document, title: "Hybrid search!" })).not.toBe(base);
    expect(contentHash({ ...document, text: "BM25 and dense vectors" })).not.toBe(base);
    expect(contentHash({ ...document, sourceUri: "file:///docs/b.md" })).not.toBe(base);
    expect(contentHash({ ...document, metadata: { ...document.metadata, lang: "de" } })).not.toBe(base);
    expect(contentHash({ ...document, metadata: { ...document.metadata, tags: ["b", "a"] } })).not.toBe(base);
    expect(contentHash({ text: "a", title: "" })).not.toBe(contentHash({ text: "a" }));
    // A value cannot move between fields unnoticed.
    expect(contentHash({ text: "x", title: "y" })).not.toBe(contentHash({ text: "y", title: "x" }));
  });

  it("treats absent, undefined and null alike, and no metadata as {}", () => {
    const plain = contentHash({ text: "a" });
    expect(contentHash({ text: "a", title: undefined, sourceUri: undefined, metadata: undefined })).toBe(
      plain,
    );
    expect(contentHash({ text: "a", title: null, sourceUri: null, metadata: null })).toBe(plain);
    expect(contentHash({ text: "a", metadata: {} })).toBe(plain);
    expect(contentHash({ text: "a", metadata: { gone: undefined } })).toBe(plain);
  });
});

describe("canonicalJson", () => {
  it("writes JSON with sorted keys and no whitespace", () => {
    expect(
      canonicalJson({ b: [1, "x", { d: 1, c: 2 }], a: null, e: new Date(0), f: Number.NaN, g: undefined }),
    ).toBe('{"a":null,"b":[1,"x",{"c":2,"d":1}],"e":"1970-01-01T00:00:00.000Z","f":null}');
    expect(canonicalJson("é\u2028😀")).toBe(JSON.stringify("é\u2028😀"));
  });

  it("rejects cycles and bigints", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });
});
