import { SiftError } from "@sift/core";
import { describe, expect, it } from "vitest";
import { parseDocument, type SourceFormat } from "./parse-document";

/** Each heading's title is found at its offset (for sources where the title is written plainly). */
function expectHeadingsAtOffsets(text: string, headings: { title: string; charStart: number }[]) {
  for (const heading of headings) {
    expect(text.slice(heading.charStart)).toContain(heading.title);
    expect(heading.charStart === 0 || text[heading.charStart - 1] === "\n").toBe(true);
  }
}

describe("parseDocument: markdown", () => {
  const source = [
    "# Sift guide",
    "",
    "Intro text.",
    "",
    "## Install",
    "",
    "```sh",
    "# not a heading",
    "",
    "## nor this",
    "```",
    "",
    "### Linux #",
    "",
    "Steps.",
    "",
    "Usage",
    "=====",
    "",
    "Options and flags",
    "-----------------",
    "",
    "~~~~",
    "# still code",
    "~~~",
    "# and still code",
    "~~~~",
    "",
    "#hashtag is text, and so is #",
    "",
    "    # indented code",
  ].join("\n");

  it("keeps the source text unchanged", () => {
    expect(parseDocument(source, "markdown").text).toBe(source);
  });

  it("finds ATX and setext headings with their levels, outside code", () => {
    const parsed = parseDocument(source, "markdown");
    expect(parsed.headings.map(({ level, title }) => [level, title])).toEqual([
      [1, "Sift guide"],
      [2, "Install"],
      [3, "Linux"],
      [1, "Usage"],
      [2, "Options and flags"],
    ]);
    expectHeadingsAtOffsets(parsed.text, parsed.headings);
    expect(parsed.headings[0]?.charStart).toBe(0);
    expect(source.slice(parsed.headings[3]!.charStart).startsWith("Usage\n=====")).toBe(true);
  });

  it("takes the title from the first level-1 heading, or leaves it out", () => {
    expect(parseDocument(source, "markdown").title).toBe("Sift guide");
    const untitled = parseDocument("## Only a section\n\ntext", "markdown");
    expect(untitled.title).toBeUndefined();
    expect("title" in untitled).toBe(false);
    expect(parseDocument("intro\n\n# Later title", "markdown").title).toBe("Later title");
  });

  it("removes inline markup from titles", () => {
    const parsed = parseDocument(
      "# Using `chunk()` with [links](https://x.test) and **bold** _words_\n",
      "markdown",
    );
    expect(parsed.title).toBe("Using chunk() with links and bold words");
  });

  it("skips YAML front matter and handles CRLF line ends", () => {
    const parsed = parseDocument(
      "---\ntitle: x\n---\r\n# Real\r\n\r\nBody\r\n\r\nSub\r\n---\r\n",
      "markdown",
    );
    expect(parsed.headings.map((heading) => heading.title)).toEqual(["Real", "Sub"]);
    expectHeadingsAtOffsets(parsed.text, parsed.headings);
  });

  it("makes a whole paragraph into a setext heading, as CommonMark does", () => {
    expect(parseDocument("intro\n\nTwo line\ntitle\n===\n", "markdown").headings).toEqual([
      { level: 1, title: "Two line title", charStart: 7 },
    ]);
  });

  it("treats an unclosed fence as code to the end", () => {
    expect(
      parseDocument("# A\n\n```\n# B\n\n# C", "markdown").headings.map((heading) => heading.title),
    ).toEqual(["A"]);
  });

  it("does not make a list item or a thematic break into a setext heading", () => {
    expect(parseDocument("- item\n---\n\n***\n", "markdown").headings).toEqual([]);
  });
});

describe("parseDocument: text", () => {
  it("returns the text unchanged with no headings and no title", () => {
    const text = "# not parsed\n\nplain  text\r\n";
    expect(parseDocument(text, "text")).toEqual({ text, headings: [] });
  });
});

describe("parseDocument: html", () => {
  const page = `<!DOCTYPE html>
<html><head><title>Sift &amp; friends</title><meta charset="utf-8"><style>p { color: red }</style>
<script>document.write("<h1>fake</h1>")</script></head>
<body>
<nav><a href="/">Home</a> <h2>Menu</h2></nav>
<h1>Hybrid&nbsp;search</h1>
<p>BM25 &lt;and&gt; dense   vectors,
   fused &mdash; caf&eacute; &#x1F600; &#233;.</p>
<noscript>enable JS</noscript>
<svg><text>chart label</text><title>svg title</title></svg>
<h2>Ranking <em>details</em></h2>
<ul><li>first item</li><li>second <b>item</b><ul><li>nested</li></ul></li></ul>
<table><tr><th>k</th><th>value</th></tr><tr><td>60</td><td>RRF</td></tr></table>
<pre>
line one
  indented   line</pre>
<p>last<br>line</p>
</body></html>`;

  it("extracts readable text: entities decoded, scripts, styles, nav and svg dropped", () => {
    const parsed = parseDocument(page, "html");
    expect(parsed.text).toBe(
      [
        "Hybrid search",
        "",
        "BM25 <and> dense vectors, fused — café 😀 é.",
        "",
        "Ranking details",
        "",
        "first item",
        "second item",
        "nested",
        "",
        "k | value",
        "60 | RRF",
        "",
        "line one",
        "  indented   line",
        "",
        "last",
        "line",
      ].join("\n"),
    );
    for (const dropped of ["color", "fake", "Home", "Menu", "enable JS", "chart label", "svg title"]) {
      expect(parsed.text).not.toContain(dropped);
    }
  });

  it("records headings with offsets into the extracted text, and the title", () => {
    const parsed = parseDocument(page, "html");
    expect(parsed.title).toBe("Sift & friends");
    expect(parsed.headings).toEqual([
      { level: 1, title: "Hybrid search", charStart: 0 },
      { level: 2, title: "Ranking details", charStart: parsed.text.indexOf("Ranking") },
    ]);
  });

  it("falls back to the first h1 for the title", () => {
    expect(parseDocument("<h2>Sub</h2><h1>Main <i>one</i></h1><h1>Other</h1>", "html").title).toBe(
      "Main one",
    );
    expect("title" in parseDocument("<p>no headings</p>", "html")).toBe(false);
  });

  it("reads malformed markup without throwing", () => {
    const cases = [
      "<p>unclosed <b>bold <i>both",
      "</div></p>stray closers<br/>",
      "<h2>Open heading<p>and a paragraph<h3>next</h3>",
      "<<<>>> a < b && c > d &bogus; &#xZZ; &#99999999;",
      "<script>never closed",
      "<!-- unclosed comment",
      '<a href="x>broken attribute',
      "<table><td>cell<tr>row</table>",
      "\u0000\uffff\ud800 odd code units",
      "",
    ];
    for (const html of cases) {
      const parsed = parseDocument(html, "html");
      expect(typeof parsed.text).toBe("string");
      expect(parsed.text).toBe(parsed.text.trimEnd());
      for (const heading of parsed.headings) {
        expect(heading.charStart).toBeGreaterThanOrEqual(0);
        expect(heading.charStart).toBeLessThan(parsed.text.length);
        expect(parsed.text.slice(heading.charStart).startsWith(heading.title)).toBe(true);
      }
    }
    expect(parseDocument("<p>unclosed <b>bold <i>both", "html").text).toBe("unclosed bold both");
    expect(parseDocument("<h2>Open heading<p>and a paragraph<h3>next</h3>", "html").headings).toEqual([
      { level: 2, title: "Open heading", charStart: 0 },
      { level: 3, title: "next", charStart: 31 },
    ]);
    expect(parseDocument("<script>never closed", "html").text).toBe("");
    const unclosedHead = parseDocument(
      "<html><head><title>T</title><meta charset=utf-8><p>Body text",
      "html",
    );
    expect(unclosedHead).toEqual({ title: "T", text: "Body text", headings: [] });
  });

  it("survives random tag soup", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const atoms = [
      "<p>",
      "</p>",
      "<h1>",
      "</h2>",
      "<li>",
      "<pre>",
      "</pre>",
      "&amp;",
      "&",
      "<",
      ">",
      " ",
      "\n",
      "word",
      "é",
      "😀",
      "<script>",
      "</script>",
      "<!--",
      "-->",
      '"',
    ];
    for (let round = 0; round < 200; round++) {
      let html = "";
      const length = Math.floor(random() * 60);
      for (let index = 0; index < length; index++) html += atoms[Math.floor(random() * atoms.length)];
      const parsed = parseDocument(html, "html");
      for (const heading of parsed.headings)
        expect(parsed.text.slice(heading.charStart).startsWith(heading.title)).toBe(true);
    }
  });
});

describe("parseDocument: formats", () => {
  it("rejects an unknown format", () => {
    let error: unknown;
    try {
      parseDocument("x", "pdf" as SourceFormat);
    } catch (caught) {
      error = caught;
    }
    expect(SiftError.is(error)).toBe(true);
  });
});
