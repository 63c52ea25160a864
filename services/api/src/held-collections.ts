import type { Collection, SiftStore } from "@sift/core";
import type { Engine } from "@sift/engine";

/**
 * The collections that searches and answers name, held in memory so that a read resolves its collection
 * without a store query (issue 9: a search reads the snapshot and nothing else). A collection's id, tenant,
 * name and settings never change after it is created, so an entry is only ever dropped, never updated. An
 * entry counts while the engine holds a snapshot of its id: a collection deleted here (the engine drops it
 * at once) or by another process (its refresher finds it gone within SIFT_INDEX_REFRESH_MS and drops it)
 * falls back to the store, which then answers with the new collection of that name or a 404. Writes keep
 * reading the store (`resolveCollection`), so they never target a deleted collection.
 */
export class HeldCollections {
  readonly #byName = new Map<string, Collection>();

  constructor(
    private readonly store: Pick<SiftStore, "getCollection">,
    private readonly engine: Pick<Engine, "snapshot">,
  ) {}

  /** The tenant's collection of that name, or undefined when the store has none. */
  async getCollection(tenant: string, name: string): Promise<Collection | undefined> {
    const key = `${tenant}\u0000${name}`;
    const held = this.#byName.get(key);
    if (held !== undefined && this.engine.snapshot(held.id) !== undefined) return held;
    const collection = await this.store.getCollection(tenant, name);
    if (collection === undefined) this.#byName.delete(key);
    else this.#byName.set(key, collection);
    return collection;
  }
}
