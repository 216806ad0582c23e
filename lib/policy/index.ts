export {
  backoffDelayMs,
  backoffEndsAt,
  type FailureBackoff,
  type NodeFailure,
} from './backoff.ts';
export { formatBytes, type SizeLimit, sizeLimitOf, sizeProblem } from './image-size.ts';
export { DEFAULT_PACING_LIMITS, type PacingLimits } from './limits.ts';
export {
  DEFAULT_POLICY,
  type PolicySettings,
  policyOf,
  type StartupTaintSetting,
  settingsOf,
  startupTaintOf,
} from './settings.ts';
