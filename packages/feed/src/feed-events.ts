import { ValidationError } from "@sift/core";
import type { EngagementIndex } from "./collaborative";
import type { FeedStore, ItemState } from "./feed-store";
import type { FeedEventInput } from "./input";
import { applyFeedback, evidenceWeight, type LearningOptions, rememberDocument } from "./learning";
import { type Candidate, documentKey, type FeedEvent, type Profile } from "./types";

/** An event resolved against the analyst's own candidates (so never another tenant's or user's document). */
export interface ResolvedEvent {
  event: FeedEvent;
  candidate: Candidate;
}

/**
 * Resolves a batch: every event's item must be one of the analyst's items (a cluster with a candidate of
 * theirs), its `document` (when given) a member of it, its `requestId` (when given) a feed served to them.
 * Refuses the whole batch with a `ValidationError` naming each bad field (`events.3.itemId`).
 */
export async function resolveEvents(
  store: FeedStore,
  profile: Profile,
  inputs: readonly FeedEventInput[],
  now: number,
): Promise<ResolvedEvent[]> {
  const candidates = await store.listCandidates(profile.tenant, profile.user);
  const byCluster = new Map<string, Candidate[]>();
  for (const candidate of candidates) {
    const members = byCluster.get(candidate.clusterId) ?? [];
    members.push(candidate);
    byCluster.set(candidate.clusterId, members);
  }
  const issues: Array<{ path: string; message: string }> = [];
  const resolved: ResolvedEvent[] = [];
  for (const [index, input] of inputs.entries()) {
    const members = byCluster.get(input.itemId);
    if (members === undefined) {
      issues.push({ path: `events.${index}.itemId`, message: "not an item of this user's feed" });
      continue;
    }
    const wanted = input.document === undefined ? undefined : documentKey(input.document);
    const candidate = wanted === undefined ? members[0]! : members.find((m) => documentKey(m) === wanted);
    if (candidate === undefined) {
      issues.push({ path: `events.${index}.document`, message: "not a document of this item" });
      continue;
    }
    if (input.requestId !== undefined) {
      const served = await store.getServed(profile.tenant, input.requestId);
      if (served === undefined || served.user !== profile.user) {
        issues.push({ path: `events.${index}.requestId`, message: "not a feed read served to this user" });
        continue;
      }
    }
    resolved.push({ event: toEvent(profile, input, candidate, now), candidate });
  }
  if (issues.length > 0) throw new ValidationError("invalid events", issues);
  return resolved;
}

function toEvent(profile: Profile, input: FeedEventInput, candidate: Candidate, now: number): FeedEvent {
  return {
    tenant: profile.tenant,
    user: profile.user,
    type: input.type,
    itemId: input.itemId,
    documentKey: documentKey(candidate),
    requestId: input.requestId ?? null,
    position: input.position ?? null,
    at: input.at === undefined ? now : Date.parse(input.at),
    dwellSeconds: input.dwellSeconds ?? null,
    mute: input.mute ?? null,
  };
}

/** The item state after an event: any open, dwell or save reads the whole cluster. */
export function nextItemState(state: ItemState | undefined, event: FeedEvent): ItemState {
  const current = state ?? { read: false, saved: false, dismissed: false, updatedAt: event.at };
  const reads = event.type === "open" || event.type === "dwell" || event.type === "save";
  return {
    read: current.read || reads,
    saved: current.saved || event.type === "save",
    dismissed: current.dismissed || event.type === "dismiss" || event.type === "less-like-this",
    updatedAt: Math.max(current.updatedAt, event.at),
  };
}

/** The profile after an event: learning (Rocchio), saved/avoided documents, mutes. */
export function profileAfter(
  profile: Profile,
  resolved: ResolvedEvent,
  vector: Float32Array | null,
  options: LearningOptions,
): Profile {
  const { event, candidate } = resolved;
  let learned = applyFeedback(profile.learned, event, vector, options).learned;
  if (vector !== null && (event.type === "save" || event.type === "less-like-this")) {
    learned = rememberDocument(
      learned,
      event.type === "save" ? "saved" : "avoided",
      { documentKey: event.documentKey, title: candidate.title, vector, at: event.at },
      options,
    );
  }
  let mutes = profile.mutes;
  if (event.mute !== null) {
    const m = event.mute;
    mutes = {
      sources:
        "source" in m && !mutes.sources.includes(m.source) ? [...mutes.sources, m.source] : mutes.sources,
      tags: "tag" in m && !mutes.tags.includes(m.tag) ? [...mutes.tags, m.tag] : mutes.tags,
      documents:
        "document" in m && !mutes.documents.includes(event.documentKey)
          ? [...mutes.documents, event.documentKey]
          : mutes.documents,
    };
  }
  return learned === profile.learned && mutes === profile.mutes ? profile : { ...profile, learned, mutes };
}

/** Feeds positive evidence into the engagement index (the collaborative signal). */
export function recordEngagement(
  engagement: EngagementIndex,
  event: FeedEvent,
  options: LearningOptions,
): void {
  if (evidenceWeight(event, options) > 0) engagement.record(event.user, event.itemId);
}
