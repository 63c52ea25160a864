import type { Collection } from "@sift/client";
import { useEffect, useMemo, useState } from "preact/hooks";
import { clientFor, describeError, loadSession, needsKey, type Session, saveSession } from "./api";
import { AskView } from "./ask-view";
import { type DocumentTarget, DocumentViewer } from "./document-viewer";
import { FeedView } from "./feed-view";
import { IngestView } from "./ingest-view";
import { KeyDialog } from "./key-dialog";
import { ReportView } from "./report-view";
import { SearchView } from "./search-view";

const tabs = ["search", "ask", "ingest", "report", "feed"] as const;
type Tab = (typeof tabs)[number];
const tabLabels: Record<Tab, string> = {
  search: "Search",
  ask: "Ask",
  ingest: "Ingest",
  report: "Evaluation",
  feed: "Feed",
};

/** What every view gets: the client, the chosen collection, and the two shared actions. */
export interface ViewProps {
  client: ReturnType<typeof clientFor>;
  collection: string;
  /** Opens a document, its span highlighted and scrolled into view. */
  open: (target: DocumentTarget) => void;
  /** Reports an error: one that needs an API key opens the key dialog. */
  fail: (error: unknown) => string;
}

export function App() {
  const [session, setSession] = useState<Session>(loadSession);
  const client = useMemo(() => clientFor(session), [session]);
  const [tab, setTab] = useState<Tab>("search");
  const [collections, setCollections] = useState<Collection[]>([]);
  const [collection, setCollection] = useState("");
  const [keyPrompt, setKeyPrompt] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [viewing, setViewing] = useState<DocumentTarget | null>(null);

  const fail = (error: unknown) => {
    const message = describeError(error);
    if (needsKey(error)) setKeyPrompt(message);
    return message;
  };

  const refreshCollections = async () => {
    try {
      const list = await client.listCollections();
      setCollections(list);
      setProblem(null);
      setCollection((current) =>
        list.some((c) => c.name === current)
          ? current
          : (list.find((c) => c.name === "sample")?.name ?? list[0]?.name ?? ""),
      );
    } catch (error) {
      setProblem(fail(error));
    }
  };
  useEffect(() => void refreshCollections(), [client]);

  const save = (next: Session) => {
    saveSession(next);
    setSession(next);
    setKeyPrompt(null);
  };
  const props: ViewProps = { client, collection, open: setViewing, fail };

  return (
    <div class="app">
      <header>
        <h1>Sift</h1>
        <nav>
          {tabs.map((t) => (
            <button type="button" key={t} class={t === tab ? "tab active" : "tab"} onClick={() => setTab(t)}>
              {tabLabels[t]}
            </button>
          ))}
        </nav>
        <label class="collection">
          collection{" "}
          <select name="collection" value={collection} onChange={(e) => setCollection(e.currentTarget.value)}>
            {collections.map((c) => (
              <option key={c.name} value={c.name}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="key" onClick={() => setKeyPrompt("")}>
          {session.apiKey ? `key …${session.apiKey.slice(-4)}` : "API key"}
        </button>
      </header>
      {problem && <p class="error">{problem}</p>}
      <main>
        {tab === "search" && <SearchView {...props} />}
        {tab === "ask" && <AskView {...props} />}
        {tab === "ingest" && <IngestView {...props} onIngested={refreshCollections} />}
        {tab === "report" && <ReportView />}
        {tab === "feed" && <FeedView {...props} />}
      </main>
      {viewing && (
        <DocumentViewer client={client} target={viewing} onClose={() => setViewing(null)} fail={fail} />
      )}
      {keyPrompt !== null && (
        <KeyDialog session={session} reason={keyPrompt} onSave={save} onCancel={() => setKeyPrompt(null)} />
      )}
    </div>
  );
}
