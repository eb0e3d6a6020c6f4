// A short soak (test/server/soak.mjs) in make test: 8 s of 10 conversations
// in both languages, hot reloads (good and broken) every 1.5 s, an agent
// claiming and resolving. No request may fail; memory and open files must
// not grow past the bounds. `make soak` runs the long one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BIN } from './helpers.mjs';
import { soak } from './soak.mjs';

// AddressSanitizer keeps freed memory in quarantine (256 MB by default) and
// ThreadSanitizer its shadow: there the memory bound is theirs, not ours
const sanitized = BIN.includes('/san-');

test('soak: 8 s of load, reloads and handoffs without a failure or growth', async () => {
    const { report, problems } = await soak({
        seconds: 8, clients: 10, reloadMs: 1500,
        maxRssGrowthMb: sanitized ? 512 : 32, maxFdGrowth: 16, log: () => {},
    });
    assert.deepEqual(problems, [], JSON.stringify(report));
    assert.ok(report.requests > 100, `only ${report.requests} requests: ${JSON.stringify(report)}`);
    assert.ok(report.reloads >= 4 && report.broken_reloads >= 2, JSON.stringify(report));
    assert.ok(report.claims > 0 && report.resolves > 0, JSON.stringify(report));
});
