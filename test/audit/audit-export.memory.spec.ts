import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { NewEvent } from '../../src/kernel/event-envelope.js';
import { startHarness, type Harness } from '../support/http-harness.js';

const EVENTS = 100_000;
const PER_APPEND = 1_000;
const PADDING = 'x'.repeat(600);
const MB = 1024 * 1024;

/** Garbage is not growth: measure what survives a full collection (gc exposed at run time). */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
function retainedHeap(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/**
 * The export streams page by page: memory must not grow with the size of the history. 100,000
 * events of about 1 KB each make a ~100 MB export; building it in memory would show here.
 */
describe('audit export of 100,000 events', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    const store = h.service.runtime.eventStore;
    for (let batch = 0; batch < EVENTS / PER_APPEND; batch++) {
      const events: NewEvent[] = Array.from({ length: PER_APPEND }, (_, i) => ({
        type: 'AuditLoadRecorded',
        data: { n: batch * PER_APPEND + i, note: PADDING },
        metadata: { eventId: `load-${batch}-${i}`, occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, batch)).toISOString(), actor: { id: 'loader', roles: [] }, correlationId: 'load', causationId: 'load', schemaVersion: 1 },
      }));
      await store.append(`load-${batch % 10}`, events, 'any');
    }
    // Projections skim the new events in the background; let them finish so they do not count.
    expect(await h.service.runtime.progress.waitFor((await store.headPosition())!, 60_000)).toBe(true);
    // Loading 100,000 events on a busy machine: a bound against hanging, not a timing assertion.
  }, 120_000);
  afterAll(() => h.dispose());

  it('streams every event while heap growth stays bounded far below the export size', async () => {
    const token = await h.token('auditor-1', 'auditor');
    const baseline = retainedHeap();
    let peak = baseline;
    const response = await fetch(`${h.url}/v1/audit/export?format=jsonl&type=AuditLoadRecorded`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let lines = 0;
    let bytes = 0;
    let tail = '';
    let lastN = -1;
    let inOrder = true;
    for (let chunks = 0; chunks < 10_000_000; chunks++) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      const text = tail + decoder.decode(value, { stream: true });
      const parts = text.split('\n');
      tail = parts.pop()!;
      for (const line of parts) {
        const n = JSON.parse(line).data.n as number;
        inOrder &&= n === lastN + 1;
        lastN = n;
        lines += 1;
      }
      if (chunks % 200 === 0) peak = Math.max(peak, retainedHeap());
    }
    expect(tail).toBe('');
    expect(lines).toBe(EVENTS);
    expect(inOrder).toBe(true);
    expect(bytes).toBeGreaterThan(80 * MB);
    process.stdout.write(`export: ${(bytes / MB).toFixed(0)} MB streamed, retained heap growth peak ${((peak - baseline) / MB).toFixed(1)} MB\n`);
    expect(peak - baseline).toBeLessThan(32 * MB);
  });
});
