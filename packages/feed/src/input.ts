import { type FieldIssue, filterSchema, ValidationError } from "@sift/core";
import { z } from "zod";
import { feedEventTypes } from "./types";

/**
 * The feed's trust boundary: what a caller may hand in (a profile, a batch of events), as strict zod schemas.
 * The API (phase 2) reuses these schemas, so a route and the package refuse the same input with the same
 * field paths.
 */

const name = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^/\s]+$/, "must not contain '/' or white space");
const identifier = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "letters, digits, '.', '_' and '-' only");

export const documentRefSchema = z.strictObject({
  collection: name,
  documentId: z.string().min(1).max(1024),
});

export const profileInputSchema = z
  .strictObject({
    savedQueries: z
      .array(z.strictObject({ id: identifier.optional(), text: z.string().trim().min(1).max(1024) }))
      .max(50)
      .default([]),
    /** The coverage universe; absent: everything in the followed collections. */
    coverage: filterSchema.optional(),
    collections: z.array(name).min(1).max(100),
    mutes: z
      .strictObject({
        sources: z.array(z.string().min(1).max(256)).max(1000).default([]),
        tags: z.array(z.string().min(1).max(256)).max(1000).default([]),
        documents: z.array(documentRefSchema).max(1000).default([]),
      })
      .default({ sources: [], tags: [], documents: [] }),
  })
  .superRefine((value, context) => {
    const ids = new Set<string>();
    value.savedQueries.forEach((query, index) => {
      if (query.id === undefined) return;
      if (ids.has(query.id)) {
        context.addIssue({ code: "custom", path: ["savedQueries", index, "id"], message: "duplicate id" });
      }
      ids.add(query.id);
    });
  });

/** A profile as the analyst states it (`PUT /v1/users/{user}`). Learned state is never accepted from outside. */
export type ProfileInput = z.output<typeof profileInputSchema>;

export const feedEventInputSchema = z
  .strictObject({
    type: z.enum(feedEventTypes),
    itemId: z.string().min(1).max(2048),
    /** A member of the item's cluster; default the item's representative document. */
    document: documentRefSchema.optional(),
    requestId: z.string().min(1).max(128).optional(),
    position: z.number().int().min(1).max(10_000).optional(),
    /** ISO 8601 instant; default: when the batch is received. */
    at: z
      .string()
      .refine((v) => !Number.isNaN(Date.parse(v)), "not an ISO 8601 date")
      .optional(),
    dwellSeconds: z.number().min(0).max(86_400).optional(),
    mute: z
      .union([
        z.strictObject({ source: z.string().min(1).max(256) }),
        z.strictObject({ tag: z.string().min(1).max(256) }),
        z.strictObject({ document: z.literal(true) }),
      ])
      .optional(),
  })
  .superRefine((event, context) => {
    if (event.type === "impression" && (event.requestId === undefined || event.position === undefined)) {
      const path = event.requestId === undefined ? "requestId" : "position";
      context.addIssue({
        code: "custom",
        path: [path],
        message: "an impression needs requestId and position",
      });
    }
    if (event.type === "dwell" && event.dwellSeconds === undefined) {
      context.addIssue({
        code: "custom",
        path: ["dwellSeconds"],
        message: "a dwell event needs dwellSeconds",
      });
    }
    if (event.type === "mute" && event.mute === undefined) {
      context.addIssue({ code: "custom", path: ["mute"], message: "a mute event needs mute" });
    }
    if (event.type !== "mute" && event.mute !== undefined) {
      context.addIssue({ code: "custom", path: ["mute"], message: "only a mute event takes mute" });
    }
  });

export const feedEventsInputSchema = z.strictObject({
  events: z.array(feedEventInputSchema).min(1).max(1000),
});

export type FeedEventInput = z.output<typeof feedEventInputSchema>;

/** Parses with `schema` or throws {@link ValidationError} listing every offending field by dotted path. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields: FieldIssue[] = result.error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join(".");
    return issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: path === "" ? key : `${path}.${key}`, message: "unknown field" }))
      : [{ path, message: issue.message }];
  });
  throw new ValidationError(`invalid ${what}`, fields);
}
