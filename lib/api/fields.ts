import { z } from 'zod';
import { DURATION_PATTERN } from '../duration.ts';
import { DIGEST_PATTERN, IMAGE_NAME_PATTERN, MAX_NAME_LENGTH, TAG_PATTERN } from '../image-ref.ts';
import { conditionSchema, localObjectReferenceSchema, tolerationSchema } from './core.ts';
import { labelMapSchema } from './labels.ts';
import { patternString } from './patterns.ts';

// Fields that several Drop kinds share, so that a CachedImageSet entry and the CachedImage it
// becomes accept exactly the same input.

/** What a duration is, in the words both `kubectl apply` and the status use. */
export const DURATION_RULE_TEXT =
  'a Go duration: a number and a unit (ns, us, ms, s, m, h), e.g. 30s, 5m, 1h30m or 1.5h; no spaces, no sign, no days';

/** A Go-style duration string; the CRD rejects anything else at `kubectl apply`, in words. */
export const durationSchema = (description: string) =>
  patternString({
    pattern: DURATION_PATTERN,
    maxLength: 64,
    problem: `is not ${DURATION_RULE_TEXT}`,
    description: `${description} A Go duration such as 30s, 5m or 1h30m.`,
  });

export const imagePullPolicySchema = z.enum(['Always', 'IfNotPresent', 'Never']).meta({
  description:
    'When the kubelet contacts the registry: Always (default) checks for a newer digest even when the tag is present; IfNotPresent pulls only when the node lacks the image; Never only uses what is there.',
});

export const imagePullSecretsSchema = z
  .array(
    localObjectReferenceSchema.meta({
      description: 'A Secret of type kubernetes.io/dockerconfigjson in the Drop namespace (drop-system).',
      'x-kubernetes-map-type': 'atomic',
    }),
  )
  .max(16)
  .meta({
    description: 'Secrets in the Drop namespace used to pull the image.',
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
  });

export const nodeSelectorSchema = labelMapSchema(
  'Only nodes with all these labels get the image. Empty: every Ready, schedulable node.',
  { 'x-kubernetes-map-type': 'atomic' },
);

// Bounded so that the API server can bound what the CEL rules of each toleration cost.
export const tolerationsSchema = z.array(tolerationSchema).max(32).meta({
  description:
    'Lets pull pods run on nodes with these taints (NoSchedule and NoExecute taints must be tolerated).',
  'x-kubernetes-list-type': 'atomic',
});

export const policyRefSchema = localObjectReferenceSchema.meta({
  description:
    'The PullPolicy that paces the pulls. Unset: the PullPolicy named default if it exists, else the built-in defaults.',
  'x-kubernetes-map-type': 'atomic',
});

/** CEL and zod agree on the rule and its message, so `kubectl apply` and status say the same. */
export const TAG_XOR_DIGEST = {
  rule: '!(has(self.tag) && has(self.digest))',
  message: 'tag and digest are mutually exclusive: set one of them (neither means latest)',
} as const;

// CEL rules rather than a `pattern`, so that `kubectl apply` answers the common mistakes (a tag
// or digest in image) in words instead of quoting a 300-character regex. Each rule only speaks
// when the ones before it are satisfied, so one mistake gives one message.
const TAG_AT_END = ':[^/]*$';
const TAG_AT_END_RE = new RegExp(TAG_AT_END);
const IMAGE_NAME_RE = new RegExp(IMAGE_NAME_PATTERN);
const IMAGE_RULES = [
  { rule: "!self.contains('@')", message: 'image must not contain a digest: put it in digest' },
  {
    rule: `self.contains('@') || !self.matches('${TAG_AT_END}')`,
    message:
      'image must not contain a tag: put it in tag (a registry port such as registry:5000/app is fine)',
  },
  {
    rule: `self.contains('@') || self.matches('${TAG_AT_END}') || self.matches(r'${IMAGE_NAME_PATTERN}')`,
    message:
      'image must be a repository name: an optional registry host[:port]/ and lowercase path components (a-z, 0-9, separated by . _ __ or -), e.g. docker.io/library/golang',
  },
] as const;

/** Why `image` is not a repository name without tag or digest, in the words of the CRD rules. */
export function imageNameProblem(image: string): string | undefined {
  if (image.includes('@')) return IMAGE_RULES[0].message;
  if (TAG_AT_END_RE.test(image)) return IMAGE_RULES[1].message;
  if (!IMAGE_NAME_RE.test(image)) return IMAGE_RULES[2].message;
  return undefined;
}

/** image + tag|digest, as in a CachedImage spec and each CachedImageSet entry. */
export const imageFields = {
  image: z
    .string()
    .min(1)
    .max(MAX_NAME_LENGTH)
    .superRefine((image, ctx) => {
      const problem = imageNameProblem(image);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({
      description:
        'Image repository without tag or digest, e.g. docker.io/library/golang or registry:5000/team/app. Short Docker Hub names (golang) work too.',
      'x-kubernetes-validations': [...IMAGE_RULES],
    }),
  tag: patternString({
    pattern: TAG_PATTERN,
    maxLength: 128,
    problem: 'is not a tag: 1-128 letters, digits, _ . - that does not start with . or -',
    description: 'Tag to pull, e.g. 1.22-bookworm; mutually exclusive with digest. Neither: latest.',
  }).optional(),
  digest: patternString({
    pattern: DIGEST_PATTERN,
    maxLength: 71,
    problem: 'is not a digest: sha256: followed by 64 lowercase hex digits',
    description: 'Digest to pull, sha256:<64 hex digits>; mutually exclusive with tag.',
  }).optional(),
};

/** Fields every Drop status has. */
export const statusFields = {
  phase: z
    .string()
    .optional()
    .meta({ description: 'One word a person can act on (the STATUS column), also the Ready reason.' }),
  message: z
    .string()
    .optional()
    .meta({ description: 'Details for the STATUS in words (the MESSAGE column of kubectl get -o wide).' }),
  conditions: z
    .array(conditionSchema)
    .optional()
    .meta({
      description: 'Standard conditions; Ready carries the STATUS word as reason and a human message.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    }),
  observedGeneration: z
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: 'The metadata.generation this status describes.' }),
};

/** Counts in status are never negative. */
export const countSchema = (description: string) => z.number().int().min(0).optional().meta({ description });

/**
 * `status.phase` of a kind whose phase is Go Drop's coarse state (what Argo CD health checks read);
 * the STATUS word a person acts on is the Ready condition's reason.
 */
export const coarsePhaseSchema = <const P extends readonly [string, ...string[]]>(phases: P) =>
  z
    .enum(phases)
    .optional()
    .meta({
      description: `${phases.join(', ')}: the state tools such as Argo CD read. The STATUS column is the Ready condition's reason, a more precise word.`,
    });
