import { describe, expect, it } from 'vitest';
import type { ModeAvailability } from '../../../src-main/core/api/types.js';
import { chooseMode } from '../../../src-main/cli/mode-choice.js';

const mode = (name: ModeAvailability['mode'], possible: boolean, recommended: boolean, reason: string): ModeAvailability => ({ mode: name, possible, recommended, reason });

describe('the mode Ferry picks when --mode is left out', () => {
  it('takes the recommended mode and says why, naming the others', () => {
    const choice = chooseMode('web', [mode('live', false, false, 'Not on shared storage: web.qcow2.'), mode('block', true, true, 'Copies web.qcow2 while the VM runs.'), mode('offline', true, false, 'Shuts the VM down.')]);
    expect(choice.mode).toBe('block');
    expect(choice.message).toBe('Mode: block (recommended): Copies web.qcow2 while the VM runs. Other modes: offline (--mode).');
  });

  it('falls back to a possible mode when none is recommended', () => {
    expect(chooseMode('db', [mode('live', false, false, 'The VM is not running.'), mode('offline', true, false, 'The VM is off.')]).message).toMatch(/^Mode: offline \(the only one possible\)/);
  });

  it('refuses an impossible move with every reason', () => {
    expect(() => chooseMode('db', [mode('live', false, false, 'The VM is not running.'), mode('offline', false, false, 'No disk can be read.')])).toThrow(
      expect.objectContaining({ code: 'invalid-input', message: 'db cannot be moved: live: The VM is not running. offline: No disk can be read.' }),
    );
  });
});
