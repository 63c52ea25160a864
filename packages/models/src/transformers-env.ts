import { env } from "@huggingface/transformers";

// transformers.js reads file locations from its process-wide `env`; every model load in this package goes
// through this queue so that two models with different stores (or remote settings) never interleave.
let loadQueue: Promise<unknown> = Promise.resolve();

/** Runs `load` with transformers.js pointed at `modelStore`, after every earlier load has settled. */
export function loadExclusively<T>(
  modelStore: string,
  allowRemote: boolean,
  load: () => Promise<T>,
): Promise<T> {
  const attempt = loadQueue.then(() => {
    env.localModelPath = modelStore;
    env.allowLocalModels = true;
    env.allowRemoteModels = allowRemote;
    return load();
  });
  loadQueue = attempt.catch(() => {});
  return attempt;
}
