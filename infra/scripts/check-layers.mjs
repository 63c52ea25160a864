// Dependency direction (docs/adr and ../shared/docs/architecture.md): core ← packages ← wiring
// (services, indexer, eval). Fails when a package depends on wiring, core depends on anything of ours, or
// library code reads the environment (only entrypoints parse it).
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const manifest = (dir) => JSON.parse(readFileSync(path.join(root, dir, "package.json"), "utf8"));
const packages = readdirSync(path.join(root, "packages")).map((d) => `packages/${d}`);
const wiring = ["indexer", "eval", ...readdirSync(path.join(root, "services")).map((d) => `services/${d}`)];
const nameOf = new Map([...packages, ...wiring].map((dir) => [manifest(dir).name, dir]));
const problems = [];

for (const dir of packages) {
  const deps = Object.keys({ ...manifest(dir).dependencies, ...manifest(dir).devDependencies }).filter((d) =>
    nameOf.has(d),
  );
  for (const dep of deps) {
    if (dir === "packages/core")
      problems.push(`${dir} must not depend on ${dep} (core depends on nothing of ours)`);
    if (!nameOf.get(dep).startsWith("packages/")) problems.push(`${dir} depends on wiring ${dep}`);
  }
  const walk = (d) =>
    readdirSync(d).flatMap((f) => {
      const p = path.join(d, f);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") && !p.endsWith(".test.ts") ? [p] : [];
    });
  for (const file of walk(path.join(root, dir, "src"))) {
    if (
      /process\.env\b/.test(readFileSync(file, "utf8")) &&
      !/(bench|script|test-support)/.test(path.basename(file))
    ) {
      problems.push(
        `${path.relative(root, file)} reads process.env (only entrypoints parse the environment)`,
      );
    }
  }
}
if (problems.length > 0) {
  console.error(`layer check failed:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(
  `layer check: ${packages.length} packages, ${wiring.length} wiring modules, dependency direction ok`,
);
