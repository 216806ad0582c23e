// The standalone runner's production entrypoint (config/standalone/): every function in one process.
// No top-level await: the image runs it as a CommonJS bundle (scripts/build-functions.ts).
import { replicaIdentity } from '../lib/controller/lease-holder.ts';
import { RUNNER_SERVING_NODE_FLAGS, servingFlags } from '../lib/entrypoint/runtime.ts';
import { createKube, dropNamespace, loadKubeConfig } from '../lib/kube/index.ts';
import { createLogger } from '../lib/log.ts';
import { configDir, readSources } from './config-files.ts';
import { startStandalone } from './standalone.ts';

const log = createLogger({ component: 'standalone' });

async function main(): Promise<void> {
  const namespace = dropNamespace();
  const running = await startStandalone({
    kube: createKube(loadKubeConfig(), 'drop-standalone'),
    namespace,
    sources: readSources(configDir(), namespace),
    log,
    port: Number(process.env.PORT) || 8080,
    hostname: process.env.HOST || '0.0.0.0',
    // Set by the chart when it runs more than one replica (charts/drop, leaderElection.enabled).
    ...(process.env.DROP_LEADER_ELECTION === 'true'
      ? { leaderElection: { identity: replicaIdentity() } }
      : {}),
  });
  log.info('serving', { port: running.port });
  // Its start flags are startFlags('standalone'); once serving it turns --optimize-for-size off
  // (RUNNER_SERVING_NODE_FLAGS says why; DROP_SERVING_NODE_FLAGS replaces them, `none` for none).
  const { refused } = servingFlags(process.env, RUNNER_SERVING_NODE_FLAGS);
  if (refused.length > 0)
    log.warn('DROP_SERVING_NODE_FLAGS: flags Node takes only at start, not applied', { refused });
  const stop = () => void running.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  log.error('standalone runner failed to start', {
    error: error instanceof Error ? error.message : String(error),
  });
  process.exit(1);
});
