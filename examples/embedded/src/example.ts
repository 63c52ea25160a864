import { openSift } from "@sift/engine";

const notes = [
  {
    id: "aurora.md",
    title: "Aurora",
    text: "# Aurora\n\nThe aurora glows when charged particles of the solar wind collide with oxygen and nitrogen high in the atmosphere. Green light comes from oxygen about 100 km up.",
    metadata: { topic: "sky" },
  },
  {
    id: "tides.md",
    title: "Tides",
    text: "# Tides\n\nThe moon's gravity pulls the oceans into two bulges, so most coasts see two high tides a day.",
    metadata: { topic: "sea" },
  },
  {
    id: "bees.md",
    title: "Bees",
    text: "# Bees\n\nHoney bees dance to tell the hive the direction and distance of flowers.",
    metadata: { topic: "life" },
  },
];

/**
 * The whole library in one function: open a data directory, ingest three notes, search them (with a
 * metadata filter too), answer a question with citations, and read each cited span back. Everything
 * happens in this process; nothing listens on a port.
 */
export async function runExample(dataDir: string, print: (line: string) => void = () => {}) {
  const sift = await openSift({ dataDir });
  try {
    const job = await sift.ingest("notes", notes);
    print(
      `ingested: ${job.counts.created} created, ${job.counts.unchanged} unchanged, ${job.counts.chunks} chunks`,
    );

    const found = await sift.search("notes", { query: "why does the aurora glow", k: 3 });
    print(
      `search (${found.mode}): ${found.hits.map((h) => `${h.documentId} ${h.score.toFixed(4)}`).join(", ")}`,
    );

    const filtered = await sift.search("notes", {
      query: "moon",
      filter: { field: "topic", eq: "sky" },
      mode: "bm25",
    });
    print(`search "moon" in topic=sky: ${filtered.hits.length} hits`);

    const answered = await sift.answer("notes", { question: "What makes the aurora glow?" });
    print(`answer (${answered.outcome}): ${answered.text}`);
    const cited = [];
    for (const citation of answered.citations) {
      const document = await sift.getDocument("notes", citation.documentId);
      const span = document.text.slice(citation.charStart, citation.charEnd);
      print(
        `  [${citation.source}] ${citation.documentId} ${citation.charStart}-${citation.charEnd}: ${span}`,
      );
      cited.push({ ...citation, span });
    }
    return { job, found, filtered, answered, cited };
  } finally {
    await sift.close();
  }
}
