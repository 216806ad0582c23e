import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { helmPath } from './pins.ts';

export interface HelmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface HelmOptions {
  /**
   * Helm's home for this caller: its config (registry logins), cache and data, and the kube
   * discovery cache, so no run sees another's or the user's.
   */
  readonly home: string;
  readonly kubeconfigPath?: string;
  /** More environment, e.g. SSL_CERT_FILE to trust a test registry's CA. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

/** Runs the pinned helm and reports how it ended; never rejects for a non-zero exit. */
export function execHelm(args: readonly string[], options: HelmOptions): Promise<HelmResult> {
  mkdirSync(options.home, { recursive: true });
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: options.home,
    HELM_CONFIG_HOME: join(options.home, 'config'),
    HELM_CACHE_HOME: join(options.home, 'cache'),
    HELM_DATA_HOME: join(options.home, 'data'),
    ...(options.kubeconfigPath ? { KUBECONFIG: options.kubeconfigPath } : {}),
    ...options.env,
  };
  return new Promise((resolve, reject) => {
    execFile(
      helmPath(),
      args,
      {
        env,
        ...(options.cwd ? { cwd: options.cwd } : {}),
        timeout: options.timeoutMs ?? 180_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

/** Runs the pinned helm; rejects with helm's stderr when it exits non-zero. */
export async function runHelm(args: readonly string[], options: HelmOptions): Promise<HelmResult> {
  const result = await execHelm(args, options);
  if (result.code !== 0)
    throw new Error(`helm ${args.join(' ')} failed: ${result.stderr.trim() || `exit ${result.code}`}`);
  return result;
}
