import type { FeedEventType, FeedItemExplanation, FeedPage } from "@sift/client";
import { useState } from "preact/hooks";
import { SiftApiError } from "./api";
import type { ViewProps } from "./app";

const feedback: Array<[FeedEventType, string]> = [
  ["save", "Save"],
  ["more-like-this", "More like this"],
  ["less-like-this", "Less like this"],
  ["dismiss", "Dismiss"],
];

type PageItem = FeedPage["items"][number];

/**
 * A user's feed: one page of items, each with why it is there, and feedback buttons. Loading a page logs an
 * impression per item; every event carries the read's `requestId` and the item's `position`.
 */
export function FeedView({ client, open, fail }: ViewProps) {
  const [user, setUser] = useState("");
  const [page, setPage] = useState<FeedPage | null>(null);
  const [missing, setMissing] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [why, setWhy] = useState<Record<string, FeedItemExplanation>>({});
  const [sent, setSent] = useState<Record<string, FeedEventType>>({});

  const load = async () => {
    setProblem(null);
    setSent({});
    try {
      const loaded = await client.feed(user);
      setPage(loaded);
      setMissing(null);
      const explained = await Promise.all(loaded.items.map((item) => client.feedWhy(user, item.itemId)));
      setWhy(Object.fromEntries(explained.map((w) => [w.itemId, w])));
      const impressions = loaded.items.map((item) => eventFor(loaded, item, "impression"));
      if (impressions.length > 0) await client.sendFeedEvents(user, impressions);
    } catch (error) {
      if (error instanceof SiftApiError && error.status === 404) {
        setPage(null);
        setMissing(error.detail);
      } else setProblem(fail(error));
    }
  };
  const act = async (item: PageItem, type: FeedEventType) => {
    if (page === null) return;
    try {
      await client.sendFeedEvents(user, [eventFor(page, item, type)]);
      setSent((before) => ({ ...before, [item.itemId]: type }));
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
      {missing !== null && (
        <p class="notice" data-feed="no-profile">
          No feed for this user: give them a profile first (<code>PUT /v1/users/{"{user}"}</code>).{" "}
          <span class="hint">({missing})</span>
        </p>
      )}
      {problem && <p class="error">{problem}</p>}
      {page && (
        <ol class="feed">
          {page.items.length === 0 && <p class="hint">Nothing in this feed yet.</p>}
          {page.items.map((item) => (
            <FeedItemRow
              key={item.itemId}
              item={item}
              why={why[item.itemId]}
              sent={sent[item.itemId]}
              onOpen={() => {
                void act(item, "open");
                open({ collection: item.collection, documentId: item.documentId });
              }}
              onFeedback={(type) => void act(item, type)}
            />
          ))}
        </ol>
      )}
    </section>
  );
}

function FeedItemRow(props: {
  item: PageItem;
  why: FeedItemExplanation | undefined;
  sent: FeedEventType | undefined;
  onOpen: () => void;
  onFeedback: (type: FeedEventType) => void;
}) {
  const { item, why, sent } = props;
  return (
    <li class="feed-item" data-item-id={item.itemId}>
      <button type="button" class="link" onClick={props.onOpen}>
        {item.title}
      </button>
      <span class="hint">
        {" "}
        {item.source ?? item.collection} · score {item.score.toPrecision(3)}
        {item.alsoFrom.length > 0 && ` · also from ${item.alsoFrom.join(", ")}`}
      </span>
      <div class="actions">
        {feedback.map(([type, label]) => (
          <button type="button" key={type} disabled={sent === type} onClick={() => props.onFeedback(type)}>
            {label}
          </button>
        ))}
        {sent !== undefined && <span class="hint" data-sent={sent}>{` sent: ${sent}`}</span>}
      </div>
      {why && (
        <ul class="why">
          {why.reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      )}
    </li>
  );
}

/** A feedback event for an item of a read: the read's request id and the item's position in it. */
function eventFor(page: FeedPage, item: PageItem, type: FeedEventType) {
  return { type, itemId: item.itemId, requestId: page.requestId, position: item.position };
}
