/**
 * How Drop's processes are started: the image's ENTRYPOINT (Containerfile; a unit test holds the two
 * equal), the code-cache build, the benches and the chaos suite all use these.
 *
 * Measured at 100 nodes × 10 images (`npm run bench -- scale`, bench/README.md §Scale): the peak RSS
 * of pace and reconcile-image fell from 157–164 MB to 89–94 MB and the standalone runner's from 145
 * to 95 MB, at the same convergence. Their live heap is ~28 MB; the rest was V8 holding garbage:
 *
 * - `--max-semi-space-size=1`: the young generation stays at 2 MB instead of growing to 32 MB. A
 *   function's objects are short-lived (an event, a plan, a request), so they die young either way.
 * - `--optimize-for-size`: V8 grows the old generation in smaller steps and collects sooner. It is
 *   part of the code cache's flag hash, so the cache must be written with it (build-functions.ts,
 *   Containerfile) or V8 rejects the cache and the start is slower.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--optimize-for-size'];

/**
 * glibc's malloc gives each thread that allocates its own arena (V8 runs four background threads),
 * and memory freed in one is not returned to another: two arenas saved another 4–7 MB per process.
 */
export const NODE_ENVIRONMENT: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
