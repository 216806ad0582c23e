import { type CachedImage, statusWord } from '../../lib/api/index.ts';
import { type Kube, paths } from '../../lib/kube/index.ts';
import { counted, fraction } from '../../lib/words.ts';

/** The live line of npm start: how far the CachedImages are, in one short line. */
export function progressLine(images: readonly CachedImage[]): string {
  if (images.length === 0) return 'no CachedImages yet (kubectl apply -f examples/cachedimage-nginx.yaml)';
  const cached = images.filter((i) => statusWord(i.status) === 'Cached').length;
  const pulling = images.reduce((sum, i) => sum + (i.status?.nodesPulling ?? 0), 0);
  const failing = images.filter((i) => i.status?.phase === 'Degraded').length;
  return [
    `${fraction(cached, images.length, 'image')} cached`,
    `${counted(pulling, 'pull')} in flight`,
    ...(failing > 0 ? [`${counted(failing, 'image')} needing attention (kubectl describe cachedimage)`] : []),
  ].join(' · ');
}

export interface LiveLine {
  stop(): void;
}

/**
 * Rewrites one line on a terminal as the CachedImages change (every 2 s); elsewhere (a pipe, a
 * log file) prints a new line only when it changes.
 */
export function showProgress(kube: Kube, out: NodeJS.WriteStream, everyMs = 2_000): LiveLine {
  let last = '';
  let stopped = false;
  const tick = async () => {
    const list = await kube.list<CachedImage>(paths.cachedImages()).catch(() => undefined);
    if (stopped || !list) return;
    const line = progressLine(list.items);
    if (line === last) return;
    last = line;
    out.write(out.isTTY ? `\r\x1b[K${line}` : `drop: ${line}\n`);
  };
  const timer = setInterval(() => void tick(), everyMs);
  void tick();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      if (out.isTTY && last) out.write('\n');
    },
  };
}
