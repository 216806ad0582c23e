import { describe, expect, it } from 'vitest';
import { DNS_SUBDOMAIN_PATTERN } from '../../lib/api/index.ts';
import { childName } from './naming.ts';

const DNS = new RegExp(DNS_SUBDOMAIN_PATTERN);

describe('childName', () => {
  it('reads as set, image and tag, with a short hash', () => {
    expect(childName('ci-tools', 'docker.io/library/golang:1.22-bookworm')).toMatch(
      /^ci-tools-golang-1-22-bookworm-[0-9a-f]{8}$/,
    );
  });

  it('is the same for the same set and reference, and differs for another reference', () => {
    const a = childName('ci', 'docker.io/library/golang:1.22');
    expect(childName('ci', 'docker.io/library/golang:1.22')).toBe(a);
    expect(childName('ci', 'docker.io/library/golang:1.23')).not.toBe(a);
  });

  it('keeps two images with the same last path component and tag apart', () => {
    const a = childName('ci', 'registry.a.example/team/golang:1.22');
    const b = childName('ci', 'registry.b.example/team/golang:1.22');
    expect(a.replace(/-[0-9a-f]{8}$/, '')).toBe(b.replace(/-[0-9a-f]{8}$/, ''));
    expect(a).not.toBe(b);
  });

  it('names a digest by its algorithm and first hex digits', () => {
    const name = childName('ci', `registry:5000/app@sha256:${'ab'.repeat(32)}`);
    expect(name).toMatch(/^ci-app-sha256-abab/);
    expect(name).toMatch(DNS);
  });

  it('turns odd characters into dashes and never ends the slug with one', () => {
    const name = childName('set', 'registry:5000/x/Y__z:V1.0_');
    expect(name).toMatch(DNS);
    expect(name).not.toMatch(/--/);
  });

  it('stays within 253 characters for the longest set names, as a valid DNS subdomain', () => {
    const set = `${'a'.repeat(62)}.${'b'.repeat(62)}.${'c'.repeat(62)}.${'d'.repeat(63)}`;
    expect(set).toHaveLength(252);
    const name = childName(set, `docker.io/${'x'.repeat(100)}:${'t'.repeat(120)}`);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(DNS);
  });
});
