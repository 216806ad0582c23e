// npm run helm -- <args>: the pinned Helm (helm.sh/helm/v4, test/controlplane/build/helm/go.mod),
// built from the Go module proxy into the control plane's cache on first use, like kubectl.
import { spawn } from 'node:child_process';
import { ensureBinaries } from '../test/controlplane/build.ts';
import { helmPath } from '../test/controlplane/pins.ts';

async function main(args: readonly string[]): Promise<number> {
  await ensureBinaries((line) => console.error(line), ['helm']);
  const child = spawn(helmPath(), args, { stdio: 'inherit' });
  // Ctrl-C reaches helm through the terminal; a SIGTERM sent to npm is passed on.
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`drop: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
