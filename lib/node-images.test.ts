import { describe, expect, it } from 'vitest';
import type { Node } from './kube/core.ts';
import {
  IMAGE_LIST_LAG_MS,
  imageReportOf,
  KUBELET_MAX_IMAGES,
  listVerdict,
  namesFor,
} from './node-images.ts';

const DIGEST = `sha256:${'b'.repeat(64)}`;
const PULLED = '2026-12-03T10:00:00Z';
const AFTER_LAG = new Date(Date.parse(PULLED) + IMAGE_LIST_LAG_MS).toISOString();

function node(images: string[][], heartbeat = AFTER_LAG): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n' },
    status: {
      conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: heartbeat }],
      images: images.map((names) => ({ names, sizeBytes: 1 })),
    },
  };
}

const filler = (n: number) => Array.from({ length: n }, (_, i) => [`registry.example/other-${i}:1`]);
const nginx = namesFor('docker.io/library/nginx:1.25', [DIGEST]);

describe('what a node image list says about an image', () => {
  it('a complete list that names the image by tag, by digest or by a short name lists it', () => {
    expect(listVerdict(imageReportOf(node([['docker.io/library/nginx:1.25']])), nginx, PULLED)).toBe(
      'listed',
    );
    expect(listVerdict(imageReportOf(node([[`docker.io/library/nginx@${DIGEST}`]])), nginx, PULLED)).toBe(
      'listed',
    );
    expect(listVerdict(imageReportOf(node([['nginx:1.25']])), nginx, PULLED)).toBe('listed');
  });

  it('a complete list reported after the lag that names it nowhere proves it gone', () => {
    expect(listVerdict(imageReportOf(node(filler(3))), nginx, PULLED)).toBe('absent');
    expect(listVerdict(imageReportOf(node(filler(KUBELET_MAX_IMAGES - 1))), nginx, PULLED)).toBe('absent');
  });

  it('a list at the kubelet maximum may be cut, so its silence proves nothing', () => {
    expect(listVerdict(imageReportOf(node(filler(KUBELET_MAX_IMAGES))), nginx, PULLED)).toBe('unknown');
  });

  it('a node that lists no images (kwok, a runtime that does not say) proves nothing', () => {
    expect(imageReportOf(node([]))).toBeUndefined();
    expect(listVerdict(undefined, nginx, PULLED)).toBe('unknown');
  });

  it('a list reported within the lag after the last pull may predate it', () => {
    const early = new Date(Date.parse(PULLED) + IMAGE_LIST_LAG_MS - 1).toISOString();
    expect(listVerdict(imageReportOf(node(filler(3), early)), nginx, PULLED)).toBe('unknown');
    expect(listVerdict(imageReportOf(node(filler(3), early)), nginx, undefined)).toBe('absent');
  });

  it('another tag of the same repository is not the image', () => {
    expect(listVerdict(imageReportOf(node([['docker.io/library/nginx:1.26']])), nginx, PULLED)).toBe(
      'absent',
    );
  });
});
