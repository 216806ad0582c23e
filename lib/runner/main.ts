// The standalone runner's production entrypoint (config/standalone/): every function in one process.
import { createKube, dropNamespace, loadKubeConfig } from '../kube/index.ts';
import { createLogger } from '../log.ts';
import { CONFIG_DIR, readSources } from './config-files.ts';
import { startStandalone } from './standalone.ts';

const log = createLogger({ component: 'standalone' });
const namespace = dropNamespace();
const running = await startStandalone({
  kube: createKube(loadKubeConfig(), 'drop-standalone'),
  namespace,
  sources: readSources(process.env.DROP_CONFIG_DIR || CONFIG_DIR, namespace),
  log,
  port: Number(process.env.PORT) || 8080,
});
log.info('serving', { port: running.port });
const stop = () => void running.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
