/**
 * Tag invalidation, and how it wins over the loads in flight: each `invalidateTags` is an epoch
 * of the cache; a load remembers the epoch it started in, and on completion its result is not
 * stored if one of its tags was invalidated since. Only the last invalidations are remembered
 * (`REMEMBERED`); a load older than the oldest remembered one is not stored if it has any tag (the
 * safe answer: nothing invalidated is ever kept).
 */

import { CachePolicyError } from "./options.js"

/**
 * The namespace of a shared store where each tag's last invalidation time is kept (key: the
 * tag). Names starting with `~` are the cache's own: no cached function may take one.
 */
export const TAG_NAMESPACE = "~tags"

/** The mark of a lookup whose results carry tags (`cached`'s `tags`): its loads are tag-sensitive. */
export const carriesTags = Symbol.for("effect-request-cache/CarriesTags")

/** Whether `lookup` is marked as carrying tags. */
export const isTagged = (lookup: object): boolean => carriesTags in lookup

/** Tag invalidations remembered per cache. */
const REMEMBERED = 10_000

/** What a cache remembers of its tag invalidations. */
export interface TagEpochs {
  /** The current epoch: how many tag invalidations the cache has seen. */
  epoch: number
  /** The epoch of each tag's last invalidation, oldest first. */
  readonly invalidated: Map<string, number>
  /** Invalidations before this epoch are forgotten. */
  forgottenBefore: number
}

export const makeTagEpochs = (): TagEpochs => ({ epoch: 0, invalidated: new Map(), forgottenBefore: 0 })

/** Records an invalidation of `tags` as a new epoch. */
export const recordInvalidation = (epochs: TagEpochs, tags: Iterable<string>): void => {
  const epoch = ++epochs.epoch
  for (const tag of tags) {
    epochs.invalidated.delete(tag)
    epochs.invalidated.set(tag, epoch)
  }
  while (epochs.invalidated.size > REMEMBERED) {
    const [oldest, at] = epochs.invalidated.entries().next().value!
    epochs.invalidated.delete(oldest)
    epochs.forgottenBefore = at + 1
  }
}

/** Whether one of `tags` was invalidated after a load that started in epoch `since`. */
export const invalidatedSince = (epochs: TagEpochs, tags: ReadonlyArray<string>, since: number): boolean => {
  if (tags.length === 0 || since === epochs.epoch) return false
  if (since < epochs.forgottenBefore) return true
  for (const tag of tags) {
    const at = epochs.invalidated.get(tag)
    if (at !== undefined && at > since) return true
  }
  return false
}

/** A `tags` function's answer, checked: an array of strings, or a `CachePolicyError` naming `tags`. */
export const tagsOf = <Args extends ReadonlyArray<unknown>>(
  tags: (value: never, ...args: Args) => ReadonlyArray<string>,
  value: unknown,
  args: Args
): ReadonlyArray<string> => {
  let answer: unknown
  try {
    answer = tags(value as never, ...args)
  } catch (error) {
    throw new CachePolicyError({ option: "tags", reason: `the function threw: ${String(error)}` })
  }
  if (!Array.isArray(answer) || answer.some((tag) => typeof tag !== "string")) {
    throw new CachePolicyError({
      option: "tags",
      reason: `expected the function to answer an array of strings, got ${String(answer)}`
    })
  }
  return answer
}
