import { execFile } from 'node:child_process';
import { kubectlPath } from './pins.ts';

export interface KubectlResult {
  /** kubectl's exit code: `auth can-i` answers "no" with 1, so a non-zero code is not always a failure. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface KubectlOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
}

/** Runs the pinned kubectl against a kubeconfig and reports how it ended; never rejects for a non-zero exit. */
export function execKubectl(
  kubeconfigPath: string,
  args: readonly string[],
  options: KubectlOptions = {},
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      kubectlPath(),
      [`--kubeconfig=${kubeconfigPath}`, ...args],
      { timeout: options.timeoutMs ?? 120_000, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
    // kubectl may exit (a usage error, a refused request) before it reads all of its input: the
    // EPIPE that writing then raises is not the failure, its exit code and stderr are.
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input ?? '');
  });
}

/** Runs the pinned kubectl; rejects with kubectl's stderr when it exits non-zero. */
export async function runKubectl(
  kubeconfigPath: string,
  args: readonly string[],
  options: KubectlOptions = {},
): Promise<KubectlResult> {
  const result = await execKubectl(kubeconfigPath, args, options);
  if (result.code !== 0)
    throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr.trim() || `exit ${result.code}`}`);
  return result;
}
