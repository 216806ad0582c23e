import { createKube, loadKubeConfig } from '../../lib/kube/index.ts';
import { serveApp } from '../../lib/serve.ts';
import { createReconcileSetApp, FUNCTION } from './index.ts';

serveApp(createReconcileSetApp({ kube: createKube(loadKubeConfig(), FUNCTION) }));
