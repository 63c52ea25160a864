/**
 * An incremental JSON reader: text goes in piece by piece (as a model decodes it), events come out as
 * soon as the characters that decide them have arrived. It reads one JSON value and reports:
 * - `string-chunk`: part of a string value (never a key), unescaped, as soon as it is seen;
 * - `value`: a finished scalar (number, `true`, `false`, `null`) or a whole string value;
 * - `close`: an object or array ended.
 * Each event carries the value's path (`["claims", 0, "text"]`). Input that is not JSON makes `push` throw
 * a `JsonStreamSyntaxError`; text after the value ends is ignored and counted in `trailing`.
 */

export type JsonPath = ReadonlyArray<string | number>;

export type JsonStreamEvent =
  | { type: "string-chunk"; path: JsonPath; text: string }
  | { type: "value"; path: JsonPath; value: string | number | boolean | null }
  | { type: "close"; path: JsonPath; container: "object" | "array" };

export class JsonStreamSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = "JsonStreamSyntaxError";
  }
}

type Frame =
  | { kind: "object"; key: string | undefined; expect: "key" | "colon" | "value" | "comma" }
  | { kind: "array"; index: number; expect: "value" | "comma" };

type Scalar =
  | { kind: "string"; isKey: boolean; text: string; escape: string | null }
  | { kind: "atom"; text: string };

const simpleEscapes: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

export class JsonStreamReader {
  private readonly stack: Frame[] = [];
  private scalar: Scalar | null = null;
  private started = false;
  private ended = false;
  private offset = 0;
  private pendingHighSurrogate: string | null = null;
  /** Non-whitespace characters seen after the value ended. */
  trailing = 0;

  /** True once the top-level value is complete. */
  get done(): boolean {
    return this.ended;
  }

  /** Reads `text`; returns the events it completed, in order. */
  push(text: string): JsonStreamEvent[] {
    const events: JsonStreamEvent[] = [];
    for (const char of text) {
      this.offset++;
      const scalar = this.scalar;
      if (scalar?.kind === "string") {
        const piece = this.stringChar(scalar, char, events);
        if (piece !== null && !scalar.isKey) this.chunk += piece;
        continue;
      }
      this.structuralChar(char, events);
    }
    this.flushChunk(events);
    return events;
  }

  /** The input is over: completes a number or literal that was waiting for its delimiter. */
  end(): JsonStreamEvent[] {
    const events: JsonStreamEvent[] = [];
    if (this.scalar?.kind === "atom") {
      try {
        this.finishAtom(this.scalar.text, events);
      } catch (error) {
        if (!(error instanceof JsonStreamSyntaxError)) throw error;
      }
    }
    return events;
  }

  /** Text of the current string value not yet reported. */
  private chunk = "";

  private flushChunk(events: JsonStreamEvent[]): void {
    if (this.chunk === "") return;
    events.push({ type: "string-chunk", path: this.path(), text: this.chunk });
    this.chunk = "";
  }

  /** The path of the value being read (or of the container, between values). */
  private path(): JsonPath {
    const path: Array<string | number> = [];
    for (const frame of this.stack) {
      if (frame.kind === "array") path.push(frame.index);
      else if (frame.key !== undefined) path.push(frame.key);
    }
    return path;
  }

  private fail(message: string): never {
    throw new JsonStreamSyntaxError(`${message} at character ${this.offset}`, this.offset);
  }

  /** One character inside a string; returns the text it adds (null for none). */
  private stringChar(
    scalar: Extract<Scalar, { kind: "string" }>,
    char: string,
    events: JsonStreamEvent[],
  ): string | null {
    if (scalar.escape !== null) {
      if (scalar.escape === "") {
        if (char === "u") {
          scalar.escape = "u";
          return null;
        }
        const simple = simpleEscapes[char];
        if (simple === undefined) this.fail(`bad escape \\${char}`);
        scalar.escape = null;
        return this.addText(scalar, simple);
      }
      scalar.escape += char;
      if (!/^u[0-9a-fA-F]*$/.test(scalar.escape)) this.fail("bad \\u escape");
      if (scalar.escape.length < 5) return null;
      const code = Number.parseInt(scalar.escape.slice(1), 16);
      scalar.escape = null;
      return this.addText(scalar, this.codeUnit(code));
    }
    if (char === "\\") {
      scalar.escape = "";
      return null;
    }
    if (char === '"') {
      this.flushChunk(events);
      this.scalar = null;
      this.finishString(scalar, events);
      return null;
    }
    if (char < " ") this.fail("control character in a string");
    return this.addText(scalar, char);
  }

  /** Pairs `\uD83D\uDE00`-style surrogate escapes; a lone one stands as U+FFFD. */
  private codeUnit(code: number): string {
    if (code >= 0xd800 && code <= 0xdbff) {
      this.pendingHighSurrogate = String.fromCharCode(code);
      return "";
    }
    const high = this.pendingHighSurrogate;
    this.pendingHighSurrogate = null;
    if (code >= 0xdc00 && code <= 0xdfff) return high === null ? "\ufffd" : high + String.fromCharCode(code);
    return (high === null ? "" : "\ufffd") + String.fromCharCode(code);
  }

  private addText(scalar: Extract<Scalar, { kind: "string" }>, text: string): string | null {
    if (text === "") return null;
    if (this.pendingHighSurrogate !== null && text.length > 0) {
      this.pendingHighSurrogate = null;
      text = `\ufffd${text}`;
    }
    scalar.text += text;
    return text;
  }

  private finishString(scalar: Extract<Scalar, { kind: "string" }>, events: JsonStreamEvent[]): void {
    const frame = this.stack.at(-1);
    if (scalar.isKey && frame?.kind === "object") {
      frame.key = scalar.text;
      frame.expect = "colon";
      return;
    }
    events.push({ type: "value", path: this.path(), value: scalar.text });
    this.valueEnded();
  }

  private structuralChar(char: string, events: JsonStreamEvent[]): void {
    if (this.scalar?.kind === "atom") {
      if (/[0-9a-zA-Z.+-]/.test(char)) {
        this.scalar.text += char;
        return;
      }
      this.finishAtom(this.scalar.text, events);
    }
    if (char === " " || char === "\n" || char === "\r" || char === "\t") return;
    if (this.ended) {
      this.trailing++;
      return;
    }
    const frame = this.stack.at(-1);
    if (frame?.kind === "object" && frame.expect !== "value") {
      this.objectPunctuation(frame, char, events);
      return;
    }
    if (frame?.kind === "array" && frame.expect === "comma") {
      if (char === ",") frame.expect = "value";
      else if (char === "]") this.closeContainer(events);
      else this.fail(`expected , or ] but found ${JSON.stringify(char)}`);
      return;
    }
    if (frame?.kind === "array" && char === "]" && frame.index === 0) {
      this.closeContainer(events);
      return;
    }
    this.startValue(char);
  }

  private objectPunctuation(
    frame: Extract<Frame, { kind: "object" }>,
    char: string,
    events: JsonStreamEvent[],
  ): void {
    if (frame.expect === "key") {
      if (char === '"') this.scalar = { kind: "string", isKey: true, text: "", escape: null };
      else if (char === "}" && frame.key === undefined) this.closeContainer(events);
      else this.fail(`expected a key but found ${JSON.stringify(char)}`);
    } else if (frame.expect === "colon") {
      if (char !== ":") this.fail(`expected : but found ${JSON.stringify(char)}`);
      frame.expect = "value";
    } else if (char === ",") {
      frame.expect = "key";
    } else if (char === "}") {
      this.closeContainer(events);
    } else {
      this.fail(`expected , or } but found ${JSON.stringify(char)}`);
    }
  }

  private startValue(char: string): void {
    this.started = true;
    if (char === "{") this.stack.push({ kind: "object", key: undefined, expect: "key" });
    else if (char === "[") this.stack.push({ kind: "array", index: 0, expect: "value" });
    else if (char === '"') this.scalar = { kind: "string", isKey: false, text: "", escape: null };
    else if (/[-0-9tfn]/.test(char)) this.scalar = { kind: "atom", text: char };
    else this.fail(`unexpected ${JSON.stringify(char)}`);
  }

  private finishAtom(text: string, events: JsonStreamEvent[]): void {
    this.scalar = null;
    let value: number | boolean | null;
    if (text === "true") value = true;
    else if (text === "false") value = false;
    else if (text === "null") value = null;
    else if (/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(text)) value = Number(text);
    else this.fail(`bad literal ${JSON.stringify(text)}`);
    events.push({ type: "value", path: this.path(), value });
    this.valueEnded();
  }

  private closeContainer(events: JsonStreamEvent[]): void {
    const frame = this.stack.pop();
    if (frame === undefined) this.fail("nothing to close");
    events.push({ type: "close", path: this.path(), container: frame.kind });
    this.valueEnded();
  }

  /** A value finished inside its container (or at the top). */
  private valueEnded(): void {
    const frame = this.stack.at(-1);
    if (frame === undefined) {
      this.ended = this.started;
      return;
    }
    if (frame.kind === "object") {
      frame.expect = "comma";
      return;
    }
    frame.expect = "comma";
    frame.index++;
  }
}
