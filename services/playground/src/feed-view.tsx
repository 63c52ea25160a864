import type { FeedEventType, FeedItem, FeedItemExplanation, FeedPage } from "@sift/client";
import { useState } from "preact/hooks";
import { SiftApiError } from "./api";
import type { ViewProps } from "./app";

const feedback: Array<[FeedEventType, string]> = [
  ["save", "Save"],
  ["more-like-this", "More like this"],
  ["less-like-this", "Less like this"],
  ["dismiss", "Dismiss"],
];

/** A user's feed: items, why each is there, and feedback; says so plainly on a service without the feed. */
export function FeedView({ client, open, fail }: ViewProps) {
  const [user, setUser] = useState("");
  const [page, setPage] = useState<FeedPage | null>(null);
  const [unavailable, setUnavailable] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [why, setWhy] = useState<Record<string, FeedItemExplanation>>({});
  const [sent, setSent] = useState<Record<string, FeedEventType>>({});

  const load = async () => {
    setProblem(null);
    try {
      const loaded = await client.feed(user);
      setPage(loaded);
      setUnavailable(null);
      const impressions = loaded.items.map((item, i) => ({
        type: "impression" as const,
        itemId: item.itemId,
        requestId: loaded.requestId,
        position: i + 1,
      }));
      if (impressions.length > 0) await client.sendFeedEvents(user, impressions);
    } catch (error) {
      if (error instanceof SiftApiError && error.status === 404) setUnavailable(error.detail);
      else setProblem(fail(error));
    }
  };
  const act = async (item: FeedItem, position: number, type: FeedEventType) => {
    try {
      const context = page === null ? {} : { requestId: page.requestId, position };
      await client.sendFeedEvents(user, [{ type, itemId: item.itemId, ...context }]);
      setSent({ ...sent, [item.itemId]: type });
    } catch (error) {
      setProblem(fail(error));
    }
  };
  const explain = async (item: FeedItem) => {
    try {
      setWhy({ ...why, [item.itemId]: await client.feedWhy(user, item.itemId) });
    } catch (error) {
      setProblem(fail(error));
    }
  };

  return (
    <section>
      <form
        class="controls"
        onSubmit={(e) => {
          e.preventDefault();
          void load();
        }}
      >
        <input
          name="user"
          placeholder="user, e.g. ana"
          value={user}
          onInput={(e) => setUser(e.currentTarget.value)}
        />
        <button type="submit" disabled={user.trim() === ""}>
          Load feed
        </button>
      </form>
      {unavailable !== null && (
        <p class="notice" data-feed="unavailable">
          Feed not available on this service. <span class="hint">({unavailable})</span>
        </p>
      )}
      {problem && <p class="error">{problem}</p>}
      {page && unavailable === null && (
        <ol class="feed">
          {page.items.length === 0 && <p class="hint">Nothing in this feed yet.</p>}
          {page.items.map((item, i) => (
            <li key={item.itemId} class="feed-item">
              <button
                type="button"
                class="link"
                onClick={() => {
                  void act(item, i + 1, "open");
                  open({ collection: item.collection, documentId: item.documentId });
                }}
              >
                {item.title}
              </button>
              <span class="hint">
                {" "}
                {item.source ?? item.collection} · score {item.score.toPrecision(3)}
                {item.alsoFrom.length > 0 && ` · also from ${item.alsoFrom.join(", ")}`}
              </span>
              <div class="actions">
                <button type="button" onClick={() => void explain(item)}>
                  Why?
                </button>
                {feedback.map(([type, label]) => (
                  <button
                    type="button"
                    key={type}
                    disabled={sent[item.itemId] === type}
                    onClick={() => void act(item, i + 1, type)}
                  >
                    {label}
                  </button>
                ))}
              </div>
              {why[item.itemId] && (
                <ul class="why">
                  {why[item.itemId]?.reasons.map((r) => (
                    <li key={r}>{r}</li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
