import type { z } from 'zod';
import { cachedImageSchema, cachedImageSpecSchema, cachedImageStatusSchema } from './cached-image.ts';
import {
  cachedImageSetSchema,
  cachedImageSetSpecSchema,
  cachedImageSetStatusSchema,
} from './cached-image-set.ts';
import { discoveryPolicySchema, discoveryPolicySpecSchema } from './discovery-policy.ts';
import { discoveryPolicyStatusSchema } from './discovery-status.ts';
import { IMAGESET_LABEL, PLURAL } from './group.ts';
import { pullPolicySchema, pullPolicySpecSchema, pullPolicyStatusSchema } from './pull-policy.ts';

/** A column of `kubectl get`, as a CRD's additionalPrinterColumns entry (NAME comes first by itself). */
export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'date' | 'number' | 'boolean';
  readonly jsonPath: string;
  readonly description?: string;
  /** 1: only with `-o wide`. */
  readonly priority?: number;
}

export interface KindInfo {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  /** The whole object: apiVersion, kind, metadata, spec, status. */
  readonly schema: z.ZodObject;
  readonly spec: z.ZodType;
  readonly status: z.ZodType;
  readonly columns: readonly PrinterColumn[];
}

const AGE: PrinterColumn = { name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' };
const STATUS: PrinterColumn = {
  name: 'STATUS',
  type: 'string',
  jsonPath: '.status.phase',
  description: 'One word a person can act on',
};
/** The STATUS word of a kind whose phase is Go Drop's coarse state: the Ready condition's reason, as Go reads it. */
const READY_REASON: PrinterColumn = {
  ...STATUS,
  jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
};
const MESSAGE: PrinterColumn = {
  name: 'MESSAGE',
  type: 'string',
  jsonPath: '.status.message',
  description: 'What is wrong or happening',
  priority: 1,
};
const labelPath = (label: string) => `.metadata.labels.${label.replaceAll('.', '\\.')}`;

/** The four kinds: the single source for types, validation, CRDs and clients. */
export const kinds = {
  CachedImage: {
    kind: 'CachedImage',
    plural: PLURAL.CachedImage,
    singular: 'cachedimage',
    // `ci` and `cimg`: neither is taken by a built-in resource.
    shortNames: ['ci', 'cimg'],
    schema: cachedImageSchema,
    spec: cachedImageSpecSchema,
    status: cachedImageStatusSchema,
    columns: [
      { name: 'IMAGE', type: 'string', jsonPath: '.spec.image' },
      // status.tag, not spec.tag: without tag and digest the image is pulled as latest, and says so.
      { name: 'TAG', type: 'string', jsonPath: '.status.tag' },
      READY_REASON,
      {
        name: 'READY',
        type: 'string',
        jsonPath: '.status.ready',
        description: 'Target nodes holding the image',
      },
      AGE,
      {
        name: 'OUTDATED',
        type: 'string',
        jsonPath: '.status.outdated',
        priority: 1,
        description: 'Cached nodes holding an older digest than the registry names for the tag',
      },
      { name: 'DIGEST', type: 'string', jsonPath: '.status.resolvedDigest', priority: 1 },
      { name: 'SET', type: 'string', jsonPath: labelPath(IMAGESET_LABEL), priority: 1 },
      { name: 'POLICY', type: 'string', jsonPath: '.spec.policyRef.name', priority: 1 },
      MESSAGE,
    ],
  },
  CachedImageSet: {
    kind: 'CachedImageSet',
    plural: PLURAL.CachedImageSet,
    singular: 'cachedimageset',
    shortNames: ['cis'],
    schema: cachedImageSetSchema,
    spec: cachedImageSetSpecSchema,
    status: cachedImageSetStatusSchema,
    columns: [
      READY_REASON,
      { name: 'READY', type: 'string', jsonPath: '.status.ready', description: 'Cached children / children' },
      { name: 'MANAGED', type: 'integer', jsonPath: '.status.imagesManaged' },
      { name: 'SOURCE', type: 'string', jsonPath: '.spec.discoveryPolicyRef.name' },
      AGE,
      MESSAGE,
    ],
  },
  PullPolicy: {
    kind: 'PullPolicy',
    plural: PLURAL.PullPolicy,
    singular: 'pullpolicy',
    shortNames: ['pp'],
    schema: pullPolicySchema,
    spec: pullPolicySpecSchema,
    status: pullPolicyStatusSchema,
    columns: [
      { name: 'MAXNODES', type: 'integer', jsonPath: '.spec.maxConcurrentNodes' },
      { name: 'MAXPULLS', type: 'integer', jsonPath: '.spec.maxConcurrentPulls' },
      { name: 'MINDELAY', type: 'string', jsonPath: '.spec.minDelayBetweenPulls' },
      AGE,
    ],
  },
  DiscoveryPolicy: {
    kind: 'DiscoveryPolicy',
    plural: PLURAL.DiscoveryPolicy,
    singular: 'discoverypolicy',
    shortNames: ['dp'],
    schema: discoveryPolicySchema,
    spec: discoveryPolicySpecSchema,
    status: discoveryPolicyStatusSchema,
    columns: [
      STATUS,
      { name: 'SOURCES', type: 'integer', jsonPath: '.status.sourceCount' },
      { name: 'IMAGES', type: 'integer', jsonPath: '.status.imageCount' },
      { name: 'LASTSYNC', type: 'date', jsonPath: '.status.lastSyncTime' },
      AGE,
      {
        name: 'RANKING',
        type: 'string',
        jsonPath: '.status.ranking.summary',
        description: 'The ranking formula and the first image’s score',
        priority: 1,
      },
      MESSAGE,
    ],
  },
} as const satisfies Record<string, KindInfo>;

export type KindName = keyof typeof kinds;
export const KIND_NAMES = Object.keys(kinds) as readonly KindName[];
