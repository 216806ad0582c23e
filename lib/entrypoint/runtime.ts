import { setFlagsFromString } from 'node:v8';

/**
 * How Drop's processes are started: the image's ENTRYPOINT (Containerfile; a unit test holds the two
 * equal), the code-cache build, the benches and the chaos suite all use these. None: every flag
 * tried at start slowed the first answer by 0.3–0.6 × bare Node's start (bench/README.md §Cold
 * start), and the flag that saves memory can wait until the process serves (SERVING_NODE_FLAGS).
 */
export const NODE_FLAGS: readonly string[] = [];

/**
 * Flags a bundle starts with beyond NODE_FLAGS: only the standalone runner's. It runs for weeks and
 * nobody waits on its start, and `--optimize-for-size` set at start also sizes the heap V8 reserves
 * then, which setting it once serving cannot: at 1,000 nodes × 20 images the runner peaked at
 * 116 MB with it from the start and 139 MB with it set once serving (bench/README.md §Scale). The
 * image's code-cache build trains each bundle under its own flags (train.ts), and the runner's
 * Deployment starts Node with them (charts/drop, config/standalone; a unit test holds them equal).
 */
const BUNDLE_START_FLAGS: Readonly<Record<string, readonly string[]>> = {
  standalone: ['--optimize-for-size'],
};

/** The flags a bundle starts with beyond NODE_FLAGS. */
export function bundleFlags(bundle: string): readonly string[] {
  return BUNDLE_START_FLAGS[bundle] ?? [];
}

/** The Node flags a bundle starts with: NODE_FLAGS and its own. */
export function startFlags(bundle: string): readonly string[] {
  return [...NODE_FLAGS, ...bundleFlags(bundle)];
}

/**
 * Set once a function serves (`servingFlags`; the runner's, RUNNER_SERVING_NODE_FLAGS, add one).
 * `--heap-growing-percent=10` makes V8 grow the old generation by a tenth (else up to 4 ×) before it
 * collects again, and `--semi-space-growth-factor=1` keeps the young generation at the size it has
 * then: a busy function's live heap is ~18 MB (heap snapshots of pace and reconcile-image at
 * 1,000 × 20), and without them V8 let garbage grow its heap to ~97 MB (142 MB peak at 100 × 10). They replace `--optimize-for-size`, which held pace and
 * reconcile-image ~10 MB lower at 1,000 × 20 but made every major collection one that reduces
 * memory: such a collection keeps no map alive for the optimized code that embeds it, so V8 threw
 * away and re-optimized the functions that handle every event (a pace round, a pod's outcome,
 * Node's HTTP parser) dozens of times each in a run's first minute — compiling took 28 % of pace's
 * CPU and 13 % of reconcile-image's (perf, `--trace-deopt`: "weak objects"). 1,000 × 20, four
 * functions, same machine (bench/README.md §Scale): 7.1–7.4 → 4.5–4.7 CPU s per 1,000 pulls,
 * 88–94 → 98–102 MB.
 * Set from the start, a memory flag slowed the first answer (bench/README.md §Cold start).
 */
export const SERVING_NODE_FLAGS: readonly string[] = [
  '--heap-growing-percent=10',
  '--semi-space-growth-factor=1',
];

/**
 * The runner's serving flags. It starts with `--optimize-for-size` (BUNDLE_START_FLAGS: V8 then
 * reserves a 1 MB young generation, which `--semi-space-growth-factor=1` keeps) and turns it off
 * once it serves: its memory-reducing collections threw away the event path's optimized code, as
 * they did in the functions. At 1,000 × 20 (fixed, cap 1, four runs against two; bench/README.md §Scale):
 * 3.3–3.9 instead of 4.1–4.2 CPU s per 1,000 pulls, 1.08–1.11 instead of 1.11 × the bound at kwok's
 * pull time, at 103–105 MB instead of 99–101 — the old generation keeps pages that only those
 * collections compact.
 */
export const RUNNER_SERVING_NODE_FLAGS: readonly string[] = ['--no-optimize-for-size', ...SERVING_NODE_FLAGS];

/** Set in the environment of a code-cache training run (lib/entrypoint/train.ts). */
export const TRAINING_ENV = 'DROP_CODE_CACHE_TRAINING';

/**
 * Flags that choose which threads V8's collectors run on. Set once Node runs they abort the process
 * at its next collection (`--single-threaded-gc`, `--no-concurrent-marking`: a check in cppgc's
 * marker fails), so they can only be given at start.
 */
const START_ONLY_FLAG = /^--(no-?)?(single[-_]threaded|concurrent[-_]|parallel[-_])/;

/**
 * Applies `defaults` (a function's SERVING_NODE_FLAGS, the runner's RUNNER_SERVING_NODE_FLAGS),
 * or `DROP_SERVING_NODE_FLAGS` when set (space-separated; `none` for none: the benches compare
 * settings with it). Node keeps V8's flags writable
 * after start for exactly this (`v8.setFlagsFromString`), and the heap's growth reads them at each
 * collection. Not in a training run: the code cache it writes carries a hash of the flags, which
 * must be those a function starts with. A flag only a start can take is refused, and returned for
 * the caller to say so.
 */
export function servingFlags(
  env: NodeJS.ProcessEnv = process.env,
  defaults: readonly string[] = SERVING_NODE_FLAGS,
): {
  readonly applied: readonly string[];
  readonly refused: readonly string[];
} {
  if (env[TRAINING_ENV]) return { applied: [], refused: [] };
  const override = env.DROP_SERVING_NODE_FLAGS;
  const flags = override === undefined ? defaults : override.split(' ').filter((f) => f && f !== 'none');
  const refused = flags.filter((flag) => START_ONLY_FLAG.test(flag));
  const applied = flags.filter((flag) => !START_ONLY_FLAG.test(flag));
  for (const flag of applied) setFlagsFromString(flag);
  return { applied, refused };
}

/**
 * glibc's malloc. By default each thread that allocates gets its own arena (V8 runs four background
 * threads), and memory freed in one is not reused by another: two arenas saved 4–7 MB per process,
 * one arena with fixed thresholds another 3–6 MB. glibc raises its mmap threshold each time a large
 * block is freed (a list response, a burst of watch events), so later blocks of that size come from
 * the heap and stay there; fixed at 128 KiB they are mapped and returned, and the heap is trimmed
 * once 128 KiB at its top is free. 100 × 10, four functions, back to back: 79–82 MB for pace and
 * reconcile-image against 83–85 MB, 17.4 against 20.7 CPU s; 1,000 × 20, the runner: 101 MB against
 * 105.5–105.7, 4.0 against 3.6–3.8 CPU s per 1,000 pulls (bench/README.md §Scale).
 */
export const NODE_ENVIRONMENT: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '1',
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
};
