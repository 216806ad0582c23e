/**
 * How Drop's processes are started: the image's ENTRYPOINT (Containerfile; a unit test holds the two
 * equal), the code-cache build, the benches and the chaos suite all use these.
 *
 * Measured at 100 nodes × 10 images (`npm run bench -- scale`, bench/README.md §Scale): the peak RSS
 * of pace and reconcile-image fell from 157–164 MB to 89–92 MB and the standalone runner's from 145
 * to 95 MB, at the same convergence. Their live heap is ~28 MB; the rest was V8 holding garbage.
 *
 * `--optimize-for-size` makes V8 grow the heap in smaller steps and collect sooner. It is part of
 * the code cache's flag hash, so the cache must be written with it (build-functions.ts,
 * Containerfile) or V8 rejects the cache and the start is slower. A 1 MB young generation
 * (`--max-semi-space-size=1`) gave nothing more at work and slowed every cold start (the bundle's
 * start allocates a lot at once), so it is not used.
 */
export const NODE_FLAGS: readonly string[] = ['--optimize-for-size'];

/**
 * glibc's malloc gives each thread that allocates its own arena (V8 runs four background threads),
 * and memory freed in one is not returned to another: two arenas saved another 4–7 MB per process.
 */
export const NODE_ENVIRONMENT: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
