/**
 * @sift/access: who may do what.
 * - API keys: the `sift_…` format with its checksum (`generateApiKey`, `isWellFormedApiKey`), sha256 hashing,
 *   and `ApiKeys` (create, verify with a short cache, revoke); `KeyUsage` records last use in batches.
 * - `IdCodec`: the keyed permutation that turns global ids into per-tenant ones.
 * - Limits: `TokenBuckets` (per-caller rate limits) and `ConcurrencyGate` (a semaphore with a bounded queue).
 */
export * from "./api-key";
export * from "./api-keys";
export * from "./id-codec";
export * from "./key-usage";
export * from "./limits";
