import type { z } from 'zod';
import { cachedImageSpecSchema, cachedImageStatusSchema } from './cached-image.ts';
import { cachedImageSetSpecSchema, cachedImageSetStatusSchema } from './cached-image-set.ts';
import { discoveryPolicySpecSchema, discoveryPolicyStatusSchema } from './discovery-policy.ts';
import { pullPolicySpecSchema, pullPolicyStatusSchema } from './pull-policy.ts';

export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'date' | 'number' | 'boolean';
  readonly jsonPath: string;
  readonly description?: string;
  readonly priority?: number;
}

export interface KindInfo {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly description: string;
  readonly spec: z.ZodType;
  readonly status: z.ZodType;
  readonly columns: readonly PrinterColumn[];
}

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
const message: PrinterColumn = { name: 'Message', type: 'string', jsonPath: '.status.message', priority: 1 };
const status: PrinterColumn = { name: 'Status', type: 'string', jsonPath: '.status.phase' };

/** The four kinds: the single source for types, validation, CRDs and clients. */
export const kinds = {
  CachedImage: {
    kind: 'CachedImage',
    plural: 'cachedimages',
    singular: 'cachedimage',
    shortNames: ['cimg'],
    description: 'Caches one image on every target node, paced by a PullPolicy.',
    spec: cachedImageSpecSchema,
    status: cachedImageStatusSchema,
    columns: [
      { name: 'Image', type: 'string', jsonPath: '.spec.image' },
      { name: 'Tag', type: 'string', jsonPath: '.spec.tag' },
      status,
      {
        name: 'Ready',
        type: 'string',
        jsonPath: '.status.ready',
        description: 'Cached target nodes / target nodes',
      },
      age,
      { name: 'Digest', type: 'string', jsonPath: '.status.resolvedDigest', priority: 1 },
      {
        name: 'Set',
        type: 'string',
        jsonPath: '.metadata.labels.drop\\.corewire\\.io/imageset',
        priority: 1,
      },
      { name: 'Policy', type: 'string', jsonPath: '.spec.policyRef.name', priority: 1 },
      message,
    ],
  },
  CachedImageSet: {
    kind: 'CachedImageSet',
    plural: 'cachedimagesets',
    singular: 'cachedimageset',
    shortNames: ['cis'],
    description: 'A group of images, static and discovered; each becomes a child CachedImage.',
    spec: cachedImageSetSpecSchema,
    status: cachedImageSetStatusSchema,
    columns: [
      status,
      { name: 'Ready', type: 'string', jsonPath: '.status.ready', description: 'Cached children / children' },
      { name: 'Managed', type: 'integer', jsonPath: '.status.imagesManaged' },
      { name: 'Source', type: 'string', jsonPath: '.spec.discoveryPolicyRef.name' },
      age,
      message,
    ],
  },
  PullPolicy: {
    kind: 'PullPolicy',
    plural: 'pullpolicies',
    singular: 'pullpolicy',
    shortNames: ['pp'],
    description: 'Pacing and safety settings shared by images.',
    spec: pullPolicySpecSchema,
    status: pullPolicyStatusSchema,
    columns: [
      { name: 'MaxNodes', type: 'integer', jsonPath: '.spec.maxConcurrentNodes' },
      { name: 'MaxPulls', type: 'integer', jsonPath: '.spec.maxConcurrentPulls' },
      { name: 'MinDelay', type: 'string', jsonPath: '.spec.minDelayBetweenPulls' },
      age,
    ],
  },
  DiscoveryPolicy: {
    kind: 'DiscoveryPolicy',
    plural: 'discoverypolicies',
    singular: 'discoverypolicy',
    shortNames: ['dp'],
    description: 'Discovers the images that matter from Prometheus metrics or registry tags.',
    spec: discoveryPolicySpecSchema,
    status: discoveryPolicyStatusSchema,
    columns: [
      status,
      { name: 'Sources', type: 'integer', jsonPath: '.status.sourceCount' },
      { name: 'Images', type: 'integer', jsonPath: '.status.imageCount' },
      { name: 'LastSync', type: 'date', jsonPath: '.status.lastSyncTime' },
      age,
      message,
    ],
  },
} as const satisfies Record<string, KindInfo>;

export type KindName = keyof typeof kinds;
