import type { Segment } from "./text-segments";

/** Plain and highlighted text; citation segments are rendered by `cite` (plain text without it). */
export function Segments(props: {
  segments: Segment[];
  cite?: (segment: Extract<Segment, { kind: "cite" }>) => preact.ComponentChild;
}) {
  return (
    <>
      {props.segments.map((segment, i) => {
        if (segment.kind === "mark") return <mark key={i}>{segment.text}</mark>;
        if (segment.kind === "cite" && props.cite) return <span key={i}>{props.cite(segment)}</span>;
        return <span key={i}>{segment.text}</span>;
      })}
    </>
  );
}

/** Says plainly that a response is of lower quality than usual, and why. */
export function Degraded(props: { degraded: string[]; warnings: string[] }) {
  if (props.degraded.length === 0 && props.warnings.length === 0) return null;
  return (
    <div class={props.degraded.length > 0 ? "degraded" : "warnings"} role="status">
      {props.degraded.length > 0 && (
        <strong>
          Degraded: {props.degraded.join(", ")} failed or timed out; this response is missing their part.{" "}
        </strong>
      )}
      {props.warnings.map((w) => (
        <div key={w}>{w}</div>
      ))}
    </div>
  );
}
