import { describe, expect, it } from 'vitest';
import { MANIFEST_RETRY_MS, manifestCheckDue, manifestVerdict } from './manifest.ts';

const NOW = new Date('2026-01-01T00:10:00Z');
const limit = { bytes: 1024, text: '1Ki', from: 'spec.maxImageSize' };
const REF = 'h/team/app:1.0';

describe('the manifest check of maxImageSize', () => {
  it('asks only with a limit, once per reference, and again after a failed answer has aged', () => {
    expect(manifestCheckDue(undefined, REF, undefined, NOW)).toBe(false);
    expect(manifestCheckDue(undefined, REF, limit, NOW)).toBe(true);
    const answered = { reference: REF, digest: 'sha256:1', size: 10, checkedAt: '2026-01-01T00:00:00Z' };
    expect(manifestCheckDue(answered, REF, limit, NOW)).toBe(false);
    expect(manifestCheckDue(answered, 'h/team/app:2.0', limit, NOW)).toBe(true);
    const failed = (ago: number) => ({
      reference: REF,
      checkedAt: new Date(NOW.getTime() - ago).toISOString(),
      error: 'Unreachable: …',
    });
    expect(manifestCheckDue(failed(MANIFEST_RETRY_MS - 1), REF, limit, NOW)).toBe(false);
    expect(manifestCheckDue(failed(MANIFEST_RETRY_MS), REF, limit, NOW)).toBe(true);
  });

  it('refuses a size over the limit; an unknown size pulls anyway and says so', () => {
    const record = (size?: number) => ({
      reference: REF,
      checkedAt: NOW.toISOString(),
      ...(size === undefined ? { error: 'RateLimited: 429' } : { digest: 'sha256:1', size }),
    });
    expect(manifestVerdict(record(1024), REF, limit)).toEqual({ kind: 'fits' });
    expect(manifestVerdict(record(2048), REF, limit)).toMatchObject({
      kind: 'refused',
      reason: 'ImageTooLarge',
    });
    expect(manifestVerdict(record(2048), REF, undefined)).toEqual({ kind: 'fits' });
    expect(manifestVerdict(record(), REF, limit)).toEqual({
      kind: 'unknown',
      note: 'maxImageSize not checked: RateLimited: 429; pulling anyway',
    });
    expect(manifestVerdict(undefined, REF, limit).kind).toBe('unknown');
  });
});
