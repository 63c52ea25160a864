import type { IngestionJob } from "@sift/client";
import { useState } from "preact/hooks";
import type { SiftClient } from "./api";
import type { ViewProps } from "./app";
import { batches, documentsFromFiles, type ParsedSources, parseJsonl, type SourceFile } from "./ingest-input";

interface Progress {
  total: number;
  done: number;
  jobs: IngestionJob[];
  problems: string[];
  finished: boolean;
}

function htmlToText(html: string) {
  const parsed = new DOMParser().parseFromString(html, "text/html");
  return { title: parsed.title || undefined, text: parsed.body?.textContent ?? "" };
}

/** Waits for a job the service still runs (answers for small batches come back finished). */
async function settled(
  client: SiftClient,
  collection: string,
  job: IngestionJob,
  onUpdate: (job: IngestionJob) => void,
) {
  let current = job;
  while (current.status === "running") {
    await new Promise((resolve) => setTimeout(resolve, 500));
    current = await client.getJob(collection, current.id);
    onUpdate(current);
  }
  return current;
}

export function IngestView({ client, collection, fail, onIngested }: ViewProps & { onIngested: () => void }) {
  const [target, setTarget] = useState(collection);
  const [files, setFiles] = useState<SourceFile[]>([]);
  const [jsonl, setJsonl] = useState("");
  const [dragging, setDragging] = useState(false);
  const [progress, setProgress] = useState<Progress | null>(null);
  // A new key remounts the file input, which clears its list after an ingestion.
  const [inputKey, setInputKey] = useState(0);

  const addFiles = async (list: FileList | null) => {
    const read = await Promise.all(
      [...(list ?? [])].map(async (f) => ({ name: f.name, text: await f.text() })),
    );
    setFiles((current) => [...current.filter((c) => !read.some((r) => r.name === c.name)), ...read]);
  };

  const ingest = async () => {
    const fromFiles = documentsFromFiles(files, htmlToText);
    const pasted: ParsedSources =
      jsonl.trim() === "" ? { documents: [], problems: [] } : parseJsonl(jsonl, "pasted JSONL");
    const documents = [...fromFiles.documents, ...pasted.documents];
    let state: Progress = {
      total: documents.length,
      done: 0,
      jobs: [],
      problems: [...fromFiles.problems, ...pasted.problems],
      finished: false,
    };
    setProgress(state);
    const name = target.trim() || collection;
    try {
      if (documents.length > 0) await client.ensureCollection(name);
      for (const batch of batches(documents)) {
        const job = await client.ingestDocuments(name, batch);
        state = { ...state, jobs: [...state.jobs, job] };
        setProgress(state);
        const last = await settled(client, name, job, (update) => {
          state = { ...state, jobs: state.jobs.map((j) => (j.id === update.id ? update : j)) };
          setProgress(state);
        });
        state = {
          ...state,
          done: state.done + batch.length,
          jobs: state.jobs.map((j) => (j.id === last.id ? last : j)),
        };
        setProgress(state);
      }
      setFiles([]);
      setJsonl("");
      setInputKey((k) => k + 1);
      onIngested();
    } catch (error) {
      state = { ...state, problems: [...state.problems, fail(error)] };
    }
    setProgress({ ...state, finished: true });
  };

  return (
    <section>
      <div class="controls">
        <label>
          into collection
          <input
            name="target"
            value={target || collection}
            onInput={(e) => setTarget(e.currentTarget.value)}
          />
        </label>
        <button
          type="button"
          disabled={files.length === 0 && jsonl.trim() === ""}
          onClick={() => void ingest()}
        >
          Ingest
        </button>
      </div>
      <label
        class={dragging ? "dropzone dragging" : "dropzone"}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          void addFiles(e.dataTransfer?.files ?? null);
        }}
      >
        Drop .md, .txt, .html or .jsonl files here, or choose them
        <input
          key={inputKey}
          name="files"
          type="file"
          multiple
          accept=".md,.markdown,.txt,.html,.htm,.jsonl,.ndjson"
          onChange={(e) => void addFiles(e.currentTarget.files)}
        />
        {files.length > 0 && <span class="hint"> · {files.map((f) => f.name).join(", ")}</span>}
      </label>
      <textarea
        name="jsonl"
        rows={5}
        placeholder={'or paste JSONL: {"id": "doc-1", "title": "…", "text": "…", "metadata": {"year": 2024}}'}
        value={jsonl}
        onInput={(e) => setJsonl(e.currentTarget.value)}
      />
      {progress && <IngestProgress progress={progress} />}
    </section>
  );
}

function IngestProgress({ progress }: { progress: Progress }) {
  const status = progress.finished
    ? progress.jobs.every((j) => j.status === "succeeded") && progress.problems.length === 0
      ? "succeeded"
      : "finished with problems"
    : "running";
  return (
    <div class="progress" data-status={status}>
      <progress max={Math.max(progress.total, 1)} value={progress.done} />
      <span>
        {progress.done} / {progress.total} documents · {status}
      </span>
      <table class="jobs">
        <thead>
          <tr>
            <th>job</th>
            <th>status</th>
            <th>created</th>
            <th>updated</th>
            <th>unchanged</th>
            <th>failed</th>
            <th>chunks</th>
          </tr>
        </thead>
        <tbody>
          {progress.jobs.map((job) => (
            <tr key={job.id} data-job-status={job.status}>
              <td>{job.id}</td>
              <td>{job.status}</td>
              <td>{job.counts.created}</td>
              <td>{job.counts.updated}</td>
              <td>{job.counts.unchanged}</td>
              <td>{job.counts.failed}</td>
              <td>{job.counts.chunks}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {progress.problems.map((p) => (
        <p class="error" key={p}>
          {p}
        </p>
      ))}
    </div>
  );
}
