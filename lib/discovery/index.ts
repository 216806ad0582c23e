export { type Candidate, candidateOf, type SourceType } from './candidate.ts';
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
export { nextLink } from './link.ts';
export { normaliseImageLabel } from './normalise.ts';
export { prometheusQuery, queryPrometheus, type SourceIo, type SourceOutcome } from './prometheus.ts';
export { describeScores, readPrometheusAnswer, type Series, scoreSeries } from './prometheus-result.ts';
export { byRank, type Ranking, rankImages } from './rank.ts';
export {
  displayUrl,
  FAILURE_REASONS,
  type FailureReason,
  failure,
  type SourceFailure,
  type SyncReason,
} from './reasons.ts';
export { queryRegistry } from './registry.ts';
export { type Listed, PAGE_SIZE, RegistryClient, type RegistryIo } from './registry-client.ts';
export { registryCandidates, registryHost, type TagList } from './registry-result.ts';
export { querySource } from './source.ts';
export { compareVersions, newestTags, oldestFirst, parseVersion, type Version } from './tag-order.ts';
