// The library packages as JavaScript with declarations: packages/<name>/src → packages/<name>/dist, for
// apps outside this workspace (`pnpm pack` puts `publishConfig.exports` in the packed manifest). Inside the
// workspace every tool keeps reading `src/*.ts` through the plain `exports` (no build step for tests).
//
// One TypeScript program over every package's published entry points (each package.json's
// `publishConfig.exports`, `./dist/x.js` built from `./src/x.ts`), so the packages are type-checked once,
// together, as the root `pnpm typecheck` does. Relative imports in the sources have no extension
// (`moduleResolution: "Bundler"`); Node's ESM loader and `nodenext` consumers need one, so a transformer
// writes `./x.js` or `./x/index.js` into the emitted JavaScript and declarations.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

const root = path.resolve(import.meta.dirname, "../..");
const packagesDir = path.join(root, "packages");

/** Each package with published entries: its folder and the `src/*.ts` files its `dist` entries come from. */
export function publishedPackages() {
  return readdirSync(packagesDir)
    .filter((name) => existsSync(path.join(packagesDir, name, "package.json")))
    .map((name) => {
      const dir = path.join(packagesDir, name);
      const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
      const targets = Object.values(manifest.publishConfig?.exports ?? {}).map((t) =>
        typeof t === "string" ? t : t.import,
      );
      const entries = targets.map((t) =>
        path.join(dir, t.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts")),
      );
      // Ambient declarations of untyped npm packages (wink-nlp-utils …): read, not emitted.
      const ambient = readdirSync(path.join(dir, "src"))
        .filter((f) => f.endsWith(".d.ts"))
        .map((f) => path.join(dir, "src", f));
      return { name: manifest.name, dir, entries, ambient };
    })
    .filter((p) => p.entries.length > 0);
}

/** `./x` → `./x.js` or `./x/index.js`, by the source file it names; anything else unchanged. */
function withExtension(specifier, fromFile) {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return specifier;
  if (/\.(m?js|json)$/.test(specifier)) return specifier;
  const base = path.resolve(path.dirname(fromFile), specifier);
  if (existsSync(`${base}.ts`)) return `${specifier}.js`;
  if (existsSync(path.join(base, "index.ts"))) return `${specifier}/index.js`;
  throw new Error(`${path.relative(root, fromFile)}: cannot resolve "${specifier}"`);
}

/** The transformer: rewrites the module specifiers of imports, exports, `import()` and `import("…")` types. */
function relativeExtensions(context) {
  const f = context.factory;
  return (node) => {
    if (!ts.isSourceFile(node)) return node;
    const file = node.fileName;
    const literal = (s) => f.createStringLiteral(withExtension(s.text, file));
    const visit = (n) => {
      if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
        return f.updateImportDeclaration(
          n,
          n.modifiers,
          n.importClause,
          literal(n.moduleSpecifier),
          n.attributes,
        );
      }
      if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
        return f.updateExportDeclaration(
          n,
          n.modifiers,
          n.isTypeOnly,
          n.exportClause,
          literal(n.moduleSpecifier),
          n.attributes,
        );
      }
      if (
        ts.isImportTypeNode(n) &&
        ts.isLiteralTypeNode(n.argument) &&
        ts.isStringLiteral(n.argument.literal)
      ) {
        const argument = f.updateLiteralTypeNode(n.argument, literal(n.argument.literal));
        return f.updateImportTypeNode(n, argument, n.attributes, n.qualifier, n.typeArguments, n.isTypeOf);
      }
      if (
        ts.isCallExpression(n) &&
        n.expression.kind === ts.SyntaxKind.ImportKeyword &&
        n.arguments[0] &&
        ts.isStringLiteral(n.arguments[0])
      ) {
        return f.updateCallExpression(n, n.expression, n.typeArguments, [literal(n.arguments[0])]);
      }
      return ts.visitEachChild(n, visit, context);
    };
    return ts.visitEachChild(node, visit, context);
  };
}

/** Compiler options: the repository's (tsconfig.base.json) with emit turned on. */
function compilerOptions(outDir) {
  const base = ts.getParsedCommandLineOfConfigFile(
    path.join(root, "tsconfig.base.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  return {
    ...base.options,
    noEmit: false,
    declaration: true,
    sourceMap: false,
    rootDir: packagesDir,
    outDir,
  };
}

/** `<outDir>/<package>/src/a/b.js` → `packages/<package>/dist/a/b.js`. */
function distPath(outDir, file) {
  const [name, src, ...rest] = path.relative(outDir, file).split(path.sep);
  if (src !== "src") throw new Error(`emitted outside a package's src: ${file}`);
  return path.join(packagesDir, name, "dist", ...rest);
}

export function buildPackages() {
  const started = performance.now();
  const packages = publishedPackages();
  const outDir = path.join(root, ".tsbuild");
  const buildInfo = path.join(outDir, "packages.tsbuildinfo");
  // Incremental: an unchanged source is neither checked nor emitted again, so a dist that was deleted
  // would stay missing; then the whole set is rebuilt.
  if (packages.some((p) => !existsSync(path.join(p.dir, "dist")))) rmSync(buildInfo, { force: true });
  const program = ts.createIncrementalProgram({
    rootNames: packages.flatMap((p) => [...p.entries, ...p.ambient]),
    options: { ...compilerOptions(outDir), incremental: true, tsBuildInfoFile: buildInfo },
  });
  const diagnostics = [
    ...program.getConfigFileParsingDiagnostics(),
    ...program.getSyntacticDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...program.getSemanticDiagnostics(),
  ];
  if (diagnostics.length > 0) {
    const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" };
    throw new Error(ts.formatDiagnostics(diagnostics, host));
  }
  let files = 0;
  const result = program.emit(
    undefined,
    (file, text) => {
      const target = file === buildInfo ? file : distPath(outDir, file);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, text);
      if (file !== buildInfo) files += 1;
    },
    undefined,
    false,
    { after: [relativeExtensions], afterDeclarations: [relativeExtensions] },
  );
  if (result.emitSkipped) throw new Error("TypeScript skipped the emit");
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `packages/*/dist: ${packages.length} packages, ${files} files written (.js, .d.ts) in ${seconds} s`,
  );
}
