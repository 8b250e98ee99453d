/**
 * effect-request-cache/redis: the Redis store, a sub-path of its own so that only programs that
 * use it need the `redis` package.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as RedisStore from "./RedisStore.js"
