import { serveApp } from '../../lib/controller/serve.ts';
import { createKube, dropNamespace, loadKubeConfig } from '../../lib/kube/index.ts';
import { createDiscoverApp, FUNCTION } from './index.ts';

serveApp(createDiscoverApp({ kube: createKube(loadKubeConfig(), FUNCTION), namespace: dropNamespace() }));
