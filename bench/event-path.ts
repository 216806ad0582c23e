// What reading one event costs a function: the CPU of turning an ApiServerSource event (Reference
// mode, a pull pod's update, as the adapter sends it) into a DropEvent. Measured as CPU microseconds
// per event (process.cpuUsage), so a busy machine changes it little; the figure to read is the
// ratio to the CloudEvents SDK's reader, which parseEvent used for binary mode before. (The request
// around it is not measured here: Hono's in-process app.request builds a full fetch Request, which
// @hono/node-server's lightweight request does not, so it would overstate what a function pays.)
import { type CloudEvent, HTTP } from 'cloudevents';
import { parseEvent } from '../lib/controller/event.ts';
import { knativeEvent } from '../test/fixtures/knative-events.ts';

const EVENTS = 20_000;
const WARM_UP = 2_000;

export interface EventPathResult {
  /** parseEvent, binary mode. */
  readonly parseUs: number;
  /** The SDK's binary-mode reader and validation (HTTP.toEvent + validate) on the same event. */
  readonly sdkUs: number;
}

/** CPU microseconds per call of `f`, after a warm-up. */
async function cpuPer(f: () => unknown | Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARM_UP; i++) await f();
  const before = process.cpuUsage();
  for (let i = 0; i < EVENTS; i++) await f();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / EVENTS;
}

export async function benchEventPath(): Promise<EventPathResult> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'drop-pull-5f2c9', namespace: 'drop-system' },
  };
  const event = knativeEvent('update', pod, { plural: 'pods', mode: 'Reference' });
  const headers = Object.fromEntries(
    Object.entries(event.headers as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const body = String(event.body ?? '');
  const parsed = parseEvent(headers, body);
  if (!parsed.ok) throw new Error(`the bench's event does not parse: ${parsed.message}`);
  const parseUs = await cpuPer(() => parseEvent(headers, body));
  const sdkUs = await cpuPer(() => (HTTP.toEvent({ headers, body }) as CloudEvent<unknown>).validate());
  return { parseUs, sdkUs };
}
