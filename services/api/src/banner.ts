import type { ServiceConfig } from "./config";
import { type RunningService, sampleCollection } from "./service";

export async function exampleCollection(service: RunningService): Promise<string | undefined> {
  const collections = await service.store.listCollections("default");
  return collections.find((c) => c.name === sampleCollection)?.name ?? collections[0]?.name;
}

/**
 * What a person sees on start: where the service listens, how auth stands (the bootstrap key, shown once,
 * when this start made it), and a request to paste that works as printed on a fresh start.
 */
export function startBanner(
  service: RunningService,
  config: ServiceConfig,
  example: string | undefined,
): string {
  const store = config.store.driver === "pglite" ? `embedded, ${config.dataDir}` : "Postgres server";
  const lines = [
    "",
    `Sift is listening on ${service.url}  (store: ${store})`,
    `  playground ${service.url}/   API reference ${service.url}/docs   OpenAPI ${service.url}/openapi.json`,
  ];
  let authHeader = "";
  if (service.auth === "off") {
    lines.push(
      "",
      "!!! AUTH IS OFF (SIFT_AUTH=off): every request acts as an admin of any tenant it names. !!!",
      "",
    );
  } else if (service.bootstrapKey !== undefined) {
    lines.push(
      "",
      "Created the first API key (admin of tenant 'default'). It is shown this once; keep it:",
      `  export SIFT_API_KEY=${service.bootstrapKey}`,
      "More keys: POST /v1/keys with this key, or 'pnpm sift keys create' while the service is stopped.",
      "",
    );
    authHeader = ` -H "authorization: Bearer ${service.bootstrapKey}"`;
  } else {
    lines.push(
      "",
      "Requests need an API key: put one in SIFT_API_KEY (make one with 'pnpm sift keys create --tenant default",
      "--role reader' while the service is stopped, or POST /v1/keys with an admin key).",
      "",
    );
    authHeader = ' -H "authorization: Bearer $SIFT_API_KEY"';
  }
  if (example !== undefined) {
    const query =
      example === sampleCollection ? "how does hybrid search combine bm25 and vectors" : "your query";
    lines.push(
      "Try a search:",
      `  curl -s -X POST ${service.url}/v1/collections/${example}/search -H 'content-type: application/json'${authHeader} \\`,
      `    -d '${JSON.stringify({ query, k: 3 })}'`,
    );
  } else {
    lines.push("The store is empty. Ingest a folder with: pnpm sift ingest <path> --collection docs");
  }
  lines.push("Stop with Ctrl-C.", "");
  return lines.join("\n");
}
