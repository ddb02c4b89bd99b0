// Type-checked by `npm run typecheck`, never run: docs/testing.md's declaration of the matchers to Vitest 4
// compiles against Vitest's own types, and expect.extend accepts snowplowMatchers.
import { expect } from 'vitest';
import type { RunningCollector } from '../../plugin/collector/index.js';
import { snowplowMatchers, type SnowplowMatchers } from '../../plugin/testing/index.js';

declare module 'vitest' {
  interface Assertion<T = any> extends SnowplowMatchers<Promise<void>> {}
}

export async function typeChecked(collector: RunningCollector): Promise<void> {
  expect.extend(snowplowMatchers);
  await expect(collector).toHaveTrackedEvent({ schema: 'iglu:com.acme/checkout/jsonschema', app_id: 'shop' }, { count: 2, timeout: 1000 });
  await expect(collector).not.toHaveTrackedEvent({ se_action: 'refund' });
  await expect(collector).toHaveNoBadEvents({ app_id: 'shop' }, { since: new Date() });
}
