import { describe, expect, it } from "vitest";
import { NearDuplicateIndex } from "./near-duplicates";

const story =
  "The central bank raised its benchmark rate by a quarter point on Tuesday, citing persistent inflation in " +
  "services and a tight labour market. Officials signalled that further increases remain possible if price " +
  "pressures do not ease over the coming months, while markets had largely expected the move.";
const rewritten = `${story.replace("on Tuesday", "on Tuesday afternoon").replace("largely", "broadly")} Reported by Wire B.`;
const other =
  "A new battery chemistry promises cheaper grid storage: researchers report sodium cells that keep most of " +
  "their capacity after thousands of cycles, which could make overnight storage of solar power affordable.";

describe("NearDuplicateIndex", () => {
  it("puts a lightly edited copy in the original's cluster and an unrelated text in its own", () => {
    const index = new NearDuplicateIndex();
    expect(index.add("a", index.signature(story))).toEqual({ clusterId: "a", matched: null });
    const copy = index.add("b", index.signature(rewritten));
    expect(copy.clusterId).toBe("a");
    expect(copy.matched?.key).toBe("a");
    expect(copy.matched!.similarity).toBeGreaterThanOrEqual(0.5);
    expect(index.add("c", index.signature(other)).clusterId).toBe("c");
    expect(index.members("a")).toEqual(["a", "b"]);
  });

  it("estimates Jaccard similarity: identical texts 1, unrelated texts near 0", () => {
    const index = new NearDuplicateIndex();
    expect(NearDuplicateIndex.similarity(index.signature(story), index.signature(story))).toBe(1);
    expect(NearDuplicateIndex.similarity(index.signature(story), index.signature(other))).toBeLessThan(0.1);
  });

  it("keeps a cluster's id when its first member is removed, and restores stored assignments", () => {
    const index = new NearDuplicateIndex();
    index.add("a", index.signature(story));
    index.add("b", index.signature(rewritten));
    expect(index.remove("a")).toBe(true);
    expect(index.clusterOf("b")).toBe("a");
    expect(index.add("c", index.signature(story)).clusterId).toBe("a");
    const restored = new NearDuplicateIndex();
    restored.add("x", restored.signature(other), "stored-cluster");
    expect(restored.clusterOf("x")).toBe("stored-cluster");
    expect(() => restored.add("y", new Uint32Array(3))).toThrow(RangeError);
  });
});
