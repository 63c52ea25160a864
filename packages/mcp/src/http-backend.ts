import type { SiftClient } from "@sift/client";
import type { SiftBackend } from "./backend";

/** The backend over a running Sift service, through its HTTP API. */
export function httpBackend(client: SiftClient): SiftBackend {
  return {
    search: (collection, request, options) => client.search(collection, request, options),
    answer: (collection, request, options) => client.answer(collection, request, options),
    getDocument: (collection, id, options) => client.getDocument(collection, id, options),
    async listCollections(options) {
      const collections = await client.listCollections(options);
      const details = await Promise.all(collections.map((c) => client.getCollection(c.name, options)));
      return collections
        .map((c, i) => ({
          name: c.name,
          tenant: c.tenant,
          createdAt: c.createdAt,
          documents: details[i]?.documents ?? 0,
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
    },
  };
}
