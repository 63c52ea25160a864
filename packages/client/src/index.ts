export { type CallOptions, SiftApiError, SiftClient, type SiftClientOptions } from "./client";
export type * from "./types";
