import { createKube, dropNamespace, loadKubeConfig } from '../../lib/kube/index.ts';
import { serveApp } from '../../lib/serve.ts';
import { createDiscoverApp, FUNCTION } from './index.ts';

serveApp(createDiscoverApp({ kube: createKube(loadKubeConfig(), FUNCTION), namespace: dropNamespace() }));
