import type { Filter, Role } from "@sift/core";

/**
 * Who is asking, as every `/v1` handler sees it (`c.get("auth")`):
 * - `via: "key"`: an API key (`Authorization: Bearer sift_…`); tenant, role, filter and user are the key's.
 * - `via: "off"`: `SIFT_AUTH=off`; the tenant is the `x-sift-tenant` header (default `default`), the role
 *   `admin`, no filter, no user.
 */
export interface RequestAuth {
  via: "key" | "off";
  /** The key's id (`key_…`); undefined with auth off. */
  keyId: string | undefined;
  tenant: string;
  role: Role;
  /** The key's scope: ANDed into every search and answer; documents outside it do not exist for the key. */
  filter: Filter | undefined;
  /** The user the key acts for (feeds), when it is bound to one. */
  user: string | undefined;
  /** How audit entries name the caller: `key:<id>` or `anonymous`. */
  actor: string;
}
