// The air-gapped bundle's host side, on a tiny stand-in archive made the way `pnpm gpu:bundle` packs
// (tar | xz | split, SHA256SUMS): unpack.sh verifies, joins, unpacks and decompresses the runtime, and
// refuses a corrupted or missing part. The full bundle's end-to-end run is recorded in docs/gpu.md.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const gpu = fileURLToPath(new URL("../gpu", import.meta.url));

/** A bundle folder with a fake `node` (a script printing a version), packed into 4 KiB parts. */
function packFakeBundle(): string {
  const work = mkdtempSync(path.join(tmpdir(), "sift-gpu-test-"));
  const root = path.join(work, "stage", "sift-gpu");
  mkdirSync(path.join(root, "bin"), { recursive: true });
  const node = path.join(work, "node");
  writeFileSync(node, `#!/bin/sh\necho v20.0.0-fake\n# ${"padding ".repeat(2000)}\n`);
  execFileSync("sh", ["-c", 'xz -9 -c "$1" > "$2"', "sh", node, path.join(root, "bin", "node.xz")]);
  writeFileSync(path.join(root, "run-bench.sh"), "#!/bin/sh\necho bench\n");
  writeFileSync(path.join(root, "data.bin"), randomBytes(20_000));
  const out = path.join(work, "out");
  mkdirSync(out);
  execFileSync("sh", [
    "-c",
    'tar -C "$1" -cf - sift-gpu | xz -1 | split -b 4K -d -a 3 - "$2/sift-gpu.tar.xz.part-"',
    "sh",
    path.join(work, "stage"),
    out,
  ]);
  const parts = readdirSync(out).sort();
  writeFileSync(
    path.join(out, "SHA256SUMS"),
    execFileSync("sha256sum", parts, { cwd: out, encoding: "utf8" }),
  );
  cpSync(path.join(gpu, "unpack.sh"), path.join(out, "unpack.sh"));
  chmodSync(path.join(out, "unpack.sh"), 0o755);
  return out;
}

describe("infra/gpu/unpack.sh", () => {
  it("verifies the parts, reassembles the bundle and makes the Node runtime runnable", () => {
    const out = packFakeBundle();
    expect(readdirSync(out).filter((name) => name.includes(".part-")).length).toBeGreaterThan(1);
    const dest = path.join(out, "..", "host");
    const result = spawnSync("bash", [path.join(out, "unpack.sh"), "--dest", dest], { encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("Node v20.0.0-fake ready");
    expect(execFileSync(path.join(dest, "sift-gpu", "bin", "node"), { encoding: "utf8" }).trim()).toBe(
      "v20.0.0-fake",
    );
    expect(existsSync(path.join(dest, "sift-gpu", "bin", "node.xz"))).toBe(false);
    expect(readdirSync(path.join(dest, "sift-gpu")).sort()).toEqual(["bin", "data.bin", "run-bench.sh"]);
  });

  it("refuses a corrupted part and a missing one", () => {
    const out = packFakeBundle();
    const parts = readdirSync(out)
      .filter((name) => name.includes(".part-"))
      .sort();
    writeFileSync(path.join(out, parts[1]!), "corrupted");
    const corrupted = spawnSync("bash", [path.join(out, "unpack.sh"), "--dest", path.join(out, "..", "a")], {
      encoding: "utf8",
    });
    expect(corrupted.status).not.toBe(0);
    expect(corrupted.stdout + corrupted.stderr).toMatch(/FAILED|does not match/);
    execFileSync("rm", [path.join(out, parts[1]!)]);
    const missing = spawnSync("bash", [path.join(out, "unpack.sh"), "--dest", path.join(out, "..", "b")], {
      encoding: "utf8",
    });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`${parts.length - 1} parts here, SHA256SUMS lists ${parts.length}`);
  });
});
