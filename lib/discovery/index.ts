export { bearerChallenge, type Challenge, parseChallenges } from './challenge.ts';
export {
  ANONYMOUS,
  authorizationOf,
  basicAuthorization,
  type Credentials,
  credentialsFrom,
  type ReadCredentials,
  requestHeaders,
} from './credentials.ts';
export { type HttpRequest, type HttpResult, send } from './http.ts';
export { DEFAULT_IMAGE_TEMPLATE, imageTemplate } from './image-template.ts';
export type { QueryIo, QueryOutcome } from './io.ts';
export { kubePullEvents } from './kube-events.ts';
export { nextLink } from './link.ts';
export { LOKI_LIMIT, lokiRequest, queryLoki } from './loki.ts';
export { lokiImageLines, lokiPullEvents, readLokiAnswer } from './loki-result.ts';
export { countReadyNodes, matchesNodeSelector, readyNodesMatching } from './node-count.ts';
export { normaliseImageLabel } from './normalise.ts';
export {
  type ImageId,
  type ImageObservations,
  imageIdOf,
  ObservationsBuilder,
  type PullEvent,
  type QueryData,
  type Sample,
} from './observations.ts';
export {
  type NodesNeeded,
  nodesNeeded,
  type Pipeline,
  type PipelineQuery,
  pipelineOf,
  strategyOf,
} from './pipeline.ts';
export { prometheusRequest, queryPrometheus } from './prometheus.ts';
export { describeSeries, observeSeries, readPrometheusAnswer, type Series } from './prometheus-result.ts';
export { readPullMessage } from './pull-events.ts';
export { observePulls } from './pull-observations.ts';
export { quantityValue } from './quantity.ts';
export { eventReasons, type QueryDeps, runQuery } from './query.ts';
export { byRank, formulaOf, type RankedImage, type Ranking, rankDiscovered } from './rank.ts';
export { type Part, type Strategy, scoreAll } from './ranking.ts';
export {
  displayUrl,
  FAILURE_REASONS,
  type FailureReason,
  failure,
  type SourceFailure,
  type SyncReason,
} from './reasons.ts';
export { queryRegistry, type RegistryQueryConfig } from './registry.ts';
export { type Listed, PAGE_SIZE, RegistryClient, type RegistryIo } from './registry-client.ts';
export { registryHost, registryObservations, type TagList } from './registry-result.ts';
export { finalScoreText, shortNumber } from './score-text.ts';
export { signalValues } from './signals.ts';
export { aggregate, eventStatistic, percentile } from './statistics.ts';
export {
  compareVersions,
  newestTags,
  oldestFirst,
  parseVersion,
  type Version,
  versionReader,
} from './tag-order.ts';
