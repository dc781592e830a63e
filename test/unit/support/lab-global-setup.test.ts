import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setup } from '../../support/lab-global-setup.js';

describe('lab tests without the lab', () => {
  const before = process.env.FERRY_LAB_DIR;
  afterEach(() => {
    vi.restoreAllMocks();
    if (before === undefined) delete process.env.FERRY_LAB_DIR;
    else process.env.FERRY_LAB_DIR = before;
  });

  it('stop at once, not root, saying how to bring the lab up or run only the unit tests', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ferry-no-lab-'));
    process.env.FERRY_LAB_DIR = empty;
    vi.spyOn(process, 'getuid').mockReturnValue(1000);
    try {
      await expect(setup()).rejects.toThrow(/sudo npm run lab -- up.*npm run test:unit/s);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
