// The local control plane Drop is tested and run against: pinned etcd, kube-apiserver,
// kube-controller-manager and kwok,
// plus the real Knative ApiServerSource adapter and the optional per-node bandwidth model. See README.md in this folder.

export type { ApiServerSource, ApiServerSourceOptions, WatchedResource } from './apiserversource.ts';
export { optionsOfSource, startApiServerSource } from './apiserversource.ts';
export type { BandwidthModel, BandwidthModelOptions } from './bandwidth.ts';
export { startBandwidthModel } from './bandwidth.ts';
export {
  BANDWIDTH_ANNOTATION,
  DEFAULT_BANDWIDTH,
  IMAGE_SIZE_ANNOTATION,
  MODELLED_PULL_TIME_ANNOTATION,
  PULL_DELAY_ANNOTATION,
  PULL_DONE_AT_ANNOTATION,
} from './bandwidth-model.ts';
export { DROP_NAMESPACE, installCrds } from './bootstrap.ts';
export { ensureBinaries, missingBinaries } from './build.ts';
export { FAKE_NODE_ANNOTATION } from './components.ts';
export type { HelmOptions, HelmResult } from './helm.ts';
export { execHelm, runHelm } from './helm.ts';
export type { ImageStore } from './image-store.ts';
export { COLLECTED_ANNOTATION, collectImage, PRESENT_ANNOTATION, startImageStore } from './image-store.ts';
export { ensureKnativeCrds, installKnativeCrds, knativeCrdsDir } from './knative.ts';
export type { KubectlOptions, KubectlResult } from './kubectl.ts';
export { execKubectl, runKubectl } from './kubectl.ts';
export type { CreateNodesOptions, FakeNodeSpec, Taint } from './nodes.ts';
export {
  applyNodes,
  BUILD_ROLE_LABEL,
  createNodes,
  defaultNodeSpecs,
  deleteNodes,
  fakeNode,
  NODE_SET_LABEL,
  reportNodeImages,
  resumeHeartbeat,
  STOPPED_HEARTBEAT_HOLDER,
  stopHeartbeat,
  waitNodesReady,
} from './nodes.ts';
export { binaryPath, helmPath, kubectlPath, readPins } from './pins.ts';
export { ensureServiceMonitorCrd, installServiceMonitorCrd } from './prometheus-operator.ts';
export type { RegistryPulls, RegistryPullsOptions } from './registry-pulls.ts';
export { KUBELET_CONFIG_SECRET, startRegistryPulls } from './registry-pulls.ts';
export {
  IMAGE_DIGEST_ANNOTATION,
  MANIFEST_SIZE_ANNOTATION,
  REGISTRY_MESSAGE_ANNOTATION,
  REGISTRY_OUTCOME_ANNOTATION,
  REGISTRY_RESOLVED_ANNOTATION,
} from './registry-pulls-model.ts';
export type { ControlPlane, ControlPlaneOptions } from './start.ts';
export { healthyState, startControlPlane } from './start.ts';
export { DEFAULT_STATE_DIR, readState, stopComponents as stopControlPlane } from './state.ts';
