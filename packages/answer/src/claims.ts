/**
 * Structured answers: the model writes a list of claims, each with the numbers of the sources it rests
 * on, as JSON constrained by `claimsJsonSchema` (a llama.cpp grammar, a server's `response_format` or
 * `guided_json`). `ClaimTextRenderer` turns that JSON, as it streams, into the answer text the rest of the
 * pipeline reads: each claim's text, as it decodes, followed by its citations `[1][3]` and a full stop,
 * so `CitationStreamFilter` and `checkCitations` check it exactly as they check free text.
 */

import {
  type JsonPath,
  type JsonStreamEvent,
  JsonStreamReader,
  JsonStreamSyntaxError,
} from "./json-stream-reader";

/** What an answer generator is asked to write: free text with `[n]` markers, or JSON claims. */
export type GeneratorOutput = "text" | "claims";

export interface ClaimsSchemaOptions {
  /** Most claims in one answer; default 4 (bounds the output of a model that would go on listing). */
  maxClaims?: number;
  /** Most characters of one claim's text; default 400. */
  maxClaimChars?: number;
}

/**
 * The longest claim that still leaves room for its `sources` within `maxTokens`: about 3 characters per
 * token after ~24 tokens of JSON around one claim, between 40 and 400 characters. Without the bound a model
 * can spend the whole budget on a first claim's text and be cut off before citing (measured: 3 of 20
 * SmolLM2 answers at 96 tokens).
 */
export function claimCharsFor(maxTokens: number): number {
  return Math.max(40, Math.min(400, Math.floor((maxTokens - 24) * 3)));
}

/** A JSON schema (the subset that llama.cpp grammars, vLLM and OpenAI's strict mode all read). */
export type ClaimsJsonSchema = Readonly<Record<string, unknown>>;

/**
 * The schema of an answer over `sourceCount` numbered sources: `{"claims": [{"text": "…", "sources": [1, 3]}]}`,
 * at least one claim, each citing at least one and at most `sourceCount` distinct-by-intent numbers from
 * 1..`sourceCount` (an enum, so a grammar cannot write a number outside it). Property order is `text`
 * before `sources`, which llama.cpp's grammar keeps: the claim's words stream before its citations.
 */
export function claimsJsonSchema(sourceCount: number, options: ClaimsSchemaOptions = {}): ClaimsJsonSchema {
  if (!Number.isInteger(sourceCount) || sourceCount < 1) {
    throw new RangeError(`a claims schema needs at least one source, got ${sourceCount}`);
  }
  const numbers = Array.from({ length: sourceCount }, (_, index) => index + 1);
  return {
    type: "object",
    properties: {
      claims: {
        type: "array",
        minItems: 1,
        maxItems: options.maxClaims ?? 4,
        items: {
          type: "object",
          properties: {
            text: { type: "string", minLength: 1, maxLength: options.maxClaimChars ?? 400 },
            sources: { type: "array", minItems: 1, maxItems: sourceCount, items: { enum: numbers } },
          },
          required: ["text", "sources"],
          additionalProperties: false,
        },
      },
    },
    required: ["claims"],
    additionalProperties: false,
  };
}

/** One claim as read from the stream. */
export interface ParsedClaim {
  text: string;
  /** The numbers as written (not yet checked against the sources given; `checkCitations` does that). */
  sources: number[];
  /** False when the stream ended inside this claim. */
  complete: boolean;
}

const heldBack = /[\s.!?;:,]*$/u;
const isClaimText = (path: JsonPath) => path.length === 3 && path[0] === "claims" && path[2] === "text";
const isClaimSource = (path: JsonPath) => path.length === 4 && path[0] === "claims" && path[2] === "sources";
const isClaim = (path: JsonPath) => path.length === 2 && path[0] === "claims";

/**
 * Renders streamed claims JSON as answer text. `push` returns the text its input completes; `end` returns
 * what was held back. Each claim becomes `text [a][b].` (the claim's own final punctuation, else a full stop,
 * after its citations), claims joined by a space. Trailing punctuation and spaces of a claim are held back
 * until more words follow or the claim ends, so the citation lands before the full stop without the text
 * ever being revised. A number in `sources` that is not an integer is left out (and counted in `malformed`).
 *
 * Output that does not start with `{` is not JSON (a server that ignored the schema): it passes through as
 * free text (`format` becomes `text`). Output that breaks off mid-claim still renders the claim with the
 * citations read so far. JSON that turns malformed midway stops the rendering there (`syntaxError` says where).
 */
export class ClaimTextRenderer {
  private readonly reader = new JsonStreamReader();
  private sniffed = "";
  private pending = "";
  private current: ParsedClaim | undefined;
  /** Claims rendered so far (a space goes before the next one's words). */
  private rendered = 0;
  /** Whether the current claim's words have started to be written. */
  private wroteWords = false;
  readonly claims: ParsedClaim[] = [];
  format: "claims" | "text" | "unknown" = "unknown";
  malformed = 0;
  syntaxError: string | undefined;

  push(text: string): string {
    if (this.format === "text") return text;
    if (this.format === "unknown") {
      this.sniffed += text;
      const start = this.sniffed.trimStart();
      if (start === "") return "";
      if (!start.startsWith("{")) {
        this.format = "text";
        return this.sniffed;
      }
      this.format = "claims";
      text = this.sniffed;
    }
    if (this.syntaxError !== undefined || this.reader.done) return "";
    let events: JsonStreamEvent[];
    try {
      events = this.reader.push(text);
    } catch (error) {
      if (!(error instanceof JsonStreamSyntaxError)) throw error;
      this.syntaxError = error.message;
      return this.finishClaim(false);
    }
    return events.map((event) => this.render(event)).join("");
  }

  /** Call once the stream is over: renders a claim the output broke off in. */
  end(): string {
    if (this.format === "unknown") {
      this.format = "text";
      return this.sniffed;
    }
    if (this.format === "text") return "";
    if (this.syntaxError === undefined && !this.reader.done) {
      for (const event of this.reader.end()) this.render(event);
    }
    return this.finishClaim(false);
  }

  private render(event: JsonStreamEvent): string {
    if (event.type === "string-chunk" && isClaimText(event.path)) {
      const claim = this.open();
      claim.text += event.text;
      const combined = this.pending + event.text;
      const tail = heldBack.exec(combined)?.[0] ?? "";
      let head = combined.slice(0, combined.length - tail.length);
      this.pending = tail;
      if (!this.wroteWords) head = head.trimStart();
      if (head === "") return "";
      const separator = !this.wroteWords && this.rendered > 0 ? " " : "";
      this.wroteWords = true;
      return separator + head;
    }
    if (event.type === "value" && isClaimSource(event.path)) {
      if (typeof event.value === "number" && Number.isInteger(event.value))
        this.open().sources.push(event.value);
      else this.malformed++;
      return "";
    }
    if (event.type === "close" && event.container === "object" && isClaim(event.path))
      return this.finishClaim(true);
    return "";
  }

  private open(): ParsedClaim {
    if (this.current === undefined) {
      this.current = { text: "", sources: [], complete: false };
      this.claims.push(this.current);
    }
    return this.current;
  }

  private finishClaim(complete: boolean): string {
    const claim = this.current;
    this.current = undefined;
    const pending = this.pending;
    this.pending = "";
    if (claim === undefined) return "";
    claim.complete = complete;
    if (!this.wroteWords) return "";
    this.wroteWords = false;
    this.rendered++;
    const citations = claim.sources.map((n) => `[${n}]`).join("");
    const punctuation = /[.!?]/u.exec(pending.trim().slice(-1))?.[0] ?? ".";
    return `${citations === "" ? "" : ` ${citations}`}${punctuation}`;
  }
}

/** The `output` and `warnings` of a done event, from the claims renderer (none in text mode). */
export function structuredOutcome(renderer: ClaimTextRenderer | undefined): {
  output: GeneratorOutput;
  warnings?: string[];
} {
  if (renderer === undefined) return { output: "text" };
  if (renderer.format === "text") {
    return { output: "text", warnings: ["the model wrote free text instead of JSON claims: read as text"] };
  }
  const warnings: string[] = [];
  if (renderer.syntaxError !== undefined) warnings.push(`the claims JSON broke off: ${renderer.syntaxError}`);
  if (renderer.malformed > 0)
    warnings.push(`${renderer.malformed} claim source(s) that are not integers were dropped`);
  return warnings.length === 0 ? { output: "claims" } : { output: "claims", warnings };
}
