/**
 * Twin of async-cache's "DataLoader-Style Batching": concurrent gets of different keys within a
 * short window are grouped into one call of a batch loader (one database round trip), and the
 * values land in the cache one entry per key.
 *
 * In Effect, the batch loader is a `RequestResolver.makeBatched` and each key an `Effect.request`.
 * Effect batches the requests made inside one `Effect.forEach(..., { batching: true })`, but a
 * cache runs each miss's lookup in a fiber of its own, so concurrent misses would not meet there.
 * `makeDataLoader` below is the window that async-cache's `batch_loader` has: misses from any
 * fiber within 10 ms are collected and resolved as one batch. The cache in front gives single
 * flight and hits: a key that is cached, or already in a batch, is not asked for again.
 */
import { Console, Context, Deferred, Duration, Effect, Exit, Layer, Queue, Request, RequestResolver } from "effect"
import { RequestCache } from "effect-request-cache"

interface User {
  readonly id: number
  readonly name: string
}

class GetUser extends Request.TaggedClass("GetUser")<User, never, { readonly id: number }> {}

let batchCalls = 0

// async def batch_user_loader(user_ids): one DB call for multiple ids
const batchUserLoader = RequestResolver.makeBatched((requests: ReadonlyArray<GetUser>) =>
  Effect.gen(function*() {
    batchCalls++
    const ids = requests.map((request) => request.id)
    yield* Console.log(`  batch_user_loader([${ids.join(", ")}]): one DB round trip`)
    yield* Effect.sleep("20 millis")
    yield* Effect.forEach(requests, (request) =>
      Request.succeed(request, { id: request.id, name: `user ${request.id}` }), {
      discard: true
    })
  })
)

/** Collects the requests made within `window` from any fiber and runs them as one batch. */
const makeDataLoader = <Req extends Request.Request<unknown, unknown>>(
  resolver: RequestResolver.RequestResolver<Req>,
  window: Duration.DurationInput
) =>
  Effect.gen(function*() {
    type Pending = readonly [Req, Deferred.Deferred<Request.Request.Success<Req>, Request.Request.Error<Req>>]
    const queue = yield* Queue.unbounded<Pending>()
    const dispatch = (batch: Iterable<Pending>) =>
      Effect.forEach(
        batch,
        ([request, deferred]) =>
          Effect.flatMap(
            Effect.exit(Effect.request(request, resolver)),
            (exit) =>
              Deferred.done(deferred, exit as Exit.Exit<Request.Request.Success<Req>, Request.Request.Error<Req>>)
          ),
        { batching: true, discard: true }
      )
    // Wait for a first request, let the window fill, then send everything that came as one batch.
    yield* Queue.take(queue).pipe(
      Effect.zipLeft(Effect.sleep(window)),
      Effect.flatMap((first) => Effect.flatMap(Queue.takeAll(queue), (rest) => dispatch([first, ...rest]))),
      Effect.forever,
      Effect.forkScoped
    )
    return (request: Req): Effect.Effect<Request.Request.Success<Req>, Request.Request.Error<Req>> =>
      Effect.flatMap(
        Deferred.make<Request.Request.Success<Req>, Request.Request.Error<Req>>(),
        (deferred) => Effect.zipRight(Queue.offer(queue, [request, deferred] as const), Deferred.await(deferred))
      )
  })

class UserLoader extends Context.Tag("UserLoader")<UserLoader, (request: GetUser) => Effect.Effect<User>>() {
  static readonly layer = Layer.scoped(UserLoader, makeDataLoader(batchUserLoader, "10 millis"))
}

// cache.get(user_id, batch_loader=batch_user_loader)
const getUser = RequestCache.cached({
  name: "users",
  lookup: (id: number) => Effect.flatMap(UserLoader, (load) => load(new GetUser({ id })))
})

const program = Effect.gen(function*() {
  yield* Console.log("getUser(1), getUser(2), getUser(3), getUser(1), concurrently:")
  const users = yield* Effect.all([getUser(1), getUser(2), getUser(3), getUser(1)], { concurrency: "unbounded" })
  yield* Console.log(`-> ${users.map((user) => user.name).join(", ")}`)
  yield* Console.log("getUser(2), getUser(4), getUser(5), concurrently (2 is cached):")
  yield* Effect.all([getUser(2), getUser(4), getUser(5)], { concurrency: "unbounded" })
  const stats = yield* getUser.stats
  yield* Console.log(`batch calls: ${batchCalls}`)
  yield* Console.log(`cache: size=${stats.size} misses=${stats.misses} hits=${stats.hits} coalesced=${stats.coalesced}`)
})

Effect.runPromise(program.pipe(Effect.provide(Layer.merge(RequestCache.layer(), UserLoader.layer))))
