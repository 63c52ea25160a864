import { filterSchema } from "@sift/core";
import { z } from "zod";
import * as feedSchemas from "./feed-schemas";
import type { RouteSpec } from "./route-table";
import * as schemas from "./schemas";

/** Component names of the shared schemas; anything else is inlined where it is used. */
const named: Array<[string, z.ZodType]> = [
  ["Filter", filterSchema],
  ["JsonValue", schemas.jsonValueSchema],
  ["Metadata", schemas.metadataSchema],
  ["Error", schemas.errorBodySchema],
  ["FieldIssue", schemas.fieldIssueSchema],
  ["Health", schemas.healthSchema],
  ["Readiness", schemas.readySchema],
  ["Collection", schemas.collectionSchema],
  ["CollectionCreated", schemas.collectionCreatedSchema],
  ["CollectionList", schemas.collectionsListSchema],
  ["CollectionDetail", schemas.collectionDetailSchema],
  ["CreateCollectionRequest", schemas.createCollectionSchema],
  ["DocumentInput", schemas.documentInputSchema],
  ["DocumentBatch", schemas.documentBatchSchema],
  ["DocumentSummary", schemas.documentSummarySchema],
  ["DocumentBody", schemas.documentSchema],
  ["DocumentPage", schemas.documentsPageSchema],
  ["Job", schemas.jobSchema],
  ["JobBody", schemas.jobBodySchema],
  ["JobList", schemas.jobsListSchema],
  ["SearchRequest", schemas.searchRequestSchema],
  ["SearchHit", schemas.searchHitSchema],
  ["SearchResponse", schemas.searchResponseSchema],
  ["AnswerRequest", schemas.answerRequestSchema],
  ["AnswerResponse", schemas.answerResponseSchema],
  ["AnswerRetrievalEvent", schemas.answerEventSchemas.retrieval],
  ["AnswerDeltaEvent", schemas.answerEventSchemas.delta],
  ["AnswerCitationsEvent", schemas.answerEventSchemas.citations],
  ["AnswerDoneEvent", schemas.answerEventSchemas.done],
  ["CreateKeyRequest", schemas.createKeySchema],
  ["Key", schemas.keySchema],
  ["KeyCreated", schemas.keyCreatedSchema],
  ["KeyList", schemas.keysListSchema],
  ["AuditEvent", schemas.auditEventSchema],
  ["AuditPage", schemas.auditPageSchema],
  ["ProfileRequest", feedSchemas.profileRequestSchema],
  ["Profile", feedSchemas.profileSchema],
  ["ProfileBody", feedSchemas.profileBodySchema],
  ["FeedItem", feedSchemas.feedItemSchema],
  ["FeedPage", feedSchemas.feedPageSchema],
  ["FeedEventsRequest", feedSchemas.eventsRequestSchema],
  ["FeedEventsAccepted", feedSchemas.eventsAcceptedSchema],
  ["FeedItemExplanation", feedSchemas.explanationBodySchema],
  ["FeedStreamReadyEvent", feedSchemas.feedStreamEventSchemas.ready],
];

const componentRef = (name: string) => `#/components/schemas/${name}`;

type JsonSchema = Record<string, unknown>;

/** zod's JSON Schema without the per-document keywords, which have no place inside an OpenAPI document. */
function clean(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

/**
 * JSON Schemas of every named schema (requests as clients send them, responses as the service sends
 * them), referring to each other by component ref, plus a converter for inline schemas that refers to them
 * the same way.
 */
function components() {
  const convert = (io: "input" | "output") => {
    const registry = z.registry<{ id: string }>();
    for (const [id, schema] of named) registry.add(schema, { id });
    const all = z.toJSONSchema(registry, { io, uri: componentRef, unrepresentable: "any" }).schemas;
    return { registry, all };
  };
  const input = convert("input");
  const output = convert("output");
  const requestNames = new Set([
    "Filter",
    "JsonValue",
    "Metadata",
    "CreateCollectionRequest",
    "DocumentInput",
    "DocumentBatch",
  ]);
  const byName: Record<string, JsonSchema> = {};
  for (const [id] of named) {
    const isRequest = requestNames.has(id) || id.endsWith("Request");
    byName[id] = clean((isRequest ? input.all[id] : output.all[id]) as JsonSchema);
  }
  const refOf = new Map(named.map(([id, schema]) => [schema, id]));
  const inline = (schema: z.ZodType, io: "input" | "output"): JsonSchema => {
    const id = refOf.get(schema);
    if (id !== undefined) return { $ref: componentRef(id) };
    const registry = io === "input" ? input.registry : output.registry;
    return clean(
      z.toJSONSchema(schema, {
        io,
        unrepresentable: "any",
        metadata: registry,
        uri: componentRef,
      } as never) as JsonSchema,
    );
  };
  return { byName, inline };
}

const errorResponses: Record<number, { name: string; description: string; retryAfter?: true }> = {
  400: { name: "BadRequest", description: "invalid input; `fields` lists the offending fields (at most 20)" },
  401: { name: "Unauthorized", description: "no API key, or a malformed, unknown, expired or revoked one" },
  403: { name: "Forbidden", description: "the key's role may not do this, or a tenant quota is reached" },
  404: {
    name: "NotFound",
    description: "no such collection (or not the caller's tenant's), document, job or key",
  },
  409: { name: "Conflict", description: "a conflicting concurrent write" },
  413: { name: "PayloadTooLarge", description: "the body is larger than the route's limit" },
  429: { name: "TooManyRequests", description: "the key's rate limit is spent", retryAfter: true },
  500: { name: "InternalError", description: "a bug; the log has its stack under the request id" },
  502: { name: "BadGateway", description: "a dependency (the database, a model server) failed" },
  503: {
    name: "Unavailable",
    description: "the service or a dependency is unavailable, or the answer queue is full",
    retryAfter: true,
  },
  504: { name: "Timeout", description: "the request ran past its deadline" },
};

/** The statuses a route answers with errors: those of its kind, plus its own. */
function errorStatuses(spec: RouteSpec): number[] {
  const statuses = new Set<number>([500]);
  if (spec.role !== "public") for (const s of [401, 403, 429, 502, 503]) statuses.add(s);
  if (spec.params !== undefined || spec.query !== undefined || spec.body !== undefined) statuses.add(400);
  if (spec.params !== undefined) statuses.add(404);
  if (spec.body !== undefined) statuses.add(413);
  for (const s of spec.errors ?? []) statuses.add(s);
  return [...statuses].filter((s) => spec.responses[s] === undefined).sort();
}

const requestIdHeader = {
  "x-request-id": { description: "the request's id (also in every error body)", schema: { type: "string" } },
};

/**
 * The OpenAPI 3.1 document of every route in `specs`, built from the same zod schemas the routes validate
 * with: parameters, bodies, responses (JSON and Server-Sent Events), error responses and the bearer-key
 * security scheme.
 */
export function openApiDocument(
  specs: readonly RouteSpec[],
  info: { version: string; description?: string },
) {
  const { byName, inline } = components();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const parameters = [
      ...Object.entries(spec.params ?? {}).map(([name, schema]) => ({
        name,
        in: "path",
        required: true,
        schema: inline(schema, "input"),
        ...(schema.description === undefined ? {} : { description: schema.description }),
        ...(z.globalRegistry.get(schema)?.examples === undefined
          ? {}
          : { example: (z.globalRegistry.get(schema)!.examples as unknown[])[0] }),
      })),
      ...Object.entries((spec.query as z.ZodObject | undefined)?.shape ?? {}).map(([name, schema]) => ({
        name,
        in: "query",
        required: !(schema as z.ZodType).safeParse(undefined).success,
        schema: inline(schema as z.ZodType, "input"),
      })),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(spec.responses)) {
      const content: Record<string, unknown> = {};
      if (response.schema !== undefined)
        content["application/json"] = { schema: inline(response.schema, "output") };
      for (const type of [response.text ?? []].flat()) content[type] = { schema: { type: "string" } };
      if (response.events !== undefined) {
        content["text/event-stream"] = {
          // One Server-Sent Event as clients parse it; its `data` is the JSON of the event's schema.
          schema: {
            type: "object",
            description: "Server-Sent Events; `x-sift-events` gives each event's data",
            properties: {
              event: { type: "string" },
              data: { type: "string" },
              id: { type: "string" },
              retry: { type: "integer" },
            },
          },
          "x-sift-events": Object.fromEntries(
            Object.entries(response.events).map(([event, schema]) => [event, inline(schema, "output")]),
          ),
        };
      }
      responses[status] = {
        description: response.description,
        headers: requestIdHeader,
        ...(Object.keys(content).length === 0 ? {} : { content }),
      };
    }
    for (const status of errorStatuses(spec)) {
      responses[String(status)] = { $ref: `#/components/responses/${errorResponses[status]!.name}` };
    }
    paths[spec.path] ??= {};
    paths[spec.path]![spec.method] = {
      operationId: spec.operationId,
      summary: spec.summary,
      ...(spec.description === undefined ? {} : { description: spec.description }),
      tags: [spec.tag],
      security: spec.role === "public" ? [] : [{ apiKey: [] }],
      ...(spec.role === "public" ? {} : { "x-sift-role": spec.role }),
      ...(parameters.length === 0 ? {} : { parameters }),
      ...(spec.body === undefined
        ? {}
        : {
            requestBody: {
              required: spec.body.required,
              content: { "application/json": { schema: inline(spec.body.schema, "input") } },
            },
          }),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Sift",
      version: info.version,
      description:
        info.description ??
        "Hybrid retrieval and grounded answers. Every /v1 route needs an API key (Authorization: Bearer sift_…); " +
          "the key's tenant, role and scope apply to the request.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    tags: [...new Set(specs.map((s) => s.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: byName,
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "sift_ followed by 49 letters and digits",
          description: "An API key from `pnpm sift keys create` or POST /v1/keys.",
        },
      },
      responses: Object.fromEntries(
        Object.values(errorResponses).map((e) => [
          e.name,
          {
            description: e.description,
            headers: {
              ...requestIdHeader,
              ...(e.retryAfter
                ? {
                    "Retry-After": {
                      description: "seconds to wait",
                      schema: { type: "integer", minimum: 1 },
                    },
                  }
                : {}),
            },
            content: { "application/json": { schema: { $ref: componentRef("Error") } } },
          },
        ]),
      ),
    },
  };
}
