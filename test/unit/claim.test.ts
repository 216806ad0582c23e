// The integration files' cluster claims (test/integration/claim.ts), with real sockets and a real
// process killed with SIGKILL.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { claimOneOf } from '../integration/claim.ts';

const CLAIM_MODULE = new URL('../integration/claim.ts', import.meta.url).pathname;
const clusters = () => [`/tmp/${randomUUID()}/kubeconfig`, `/tmp/${randomUUID()}/kubeconfig`];

describe('claimOneOf', () => {
  it('gives claims held at once different clusters, and a waiting claim the one freed', async () => {
    const paths = clusters();
    const first = await claimOneOf(paths);
    const second = await claimOneOf(paths);
    expect([first.path, second.path]).toEqual(paths);
    let third: string | undefined;
    const waiting = claimOneOf(paths).then((claim) => {
      third = claim.path;
      return claim;
    });
    // Both are held: several retries later it still waits.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(third).toBeUndefined();
    await second.release();
    expect((await waiting).path).toBe(paths[1]);
    await first.release();
    await (await waiting).release();
  });

  it('frees a claim when its process is killed', async () => {
    const paths = clusters();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { claimOneOf } = await import(${JSON.stringify(CLAIM_MODULE)});
         const claim = await claimOneOf(${JSON.stringify(paths.slice(0, 1))});
         console.log(claim.path);
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), 'line');
    expect(line).toBe(paths[0]);
    // Held by the child: this process gets the other one.
    const other = await claimOneOf(paths);
    expect(other.path).toBe(paths[1]);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const freed = await claimOneOf(paths.slice(0, 1), 60_000);
    expect(freed.path).toBe(paths[0]);
    await Promise.all([other.release(), freed.release()]);
  });

  it('says what it waited for when no cluster comes free', async () => {
    const paths = clusters().slice(0, 1);
    const held = await claimOneOf(paths);
    await expect(claimOneOf(paths, 300)).rejects.toThrow(
      /no test cluster came free in 0.3 s: each of 1 is held/,
    );
    await held.release();
  });
});
