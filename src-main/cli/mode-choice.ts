import type { ModeAvailability } from '../core/api/types.js';
import { FerryError } from '../core/errors.js';

export interface ModeChoice {
  mode: ModeAvailability['mode'];
  /** What the user is told: the mode and why it was picked. */
  message: string;
}

/** The mode Ferry recommends for this move, or a FerryError naming why no mode can do it. */
export function chooseMode(vm: string, modes: ModeAvailability[]): ModeChoice {
  const chosen = modes.find((entry) => entry.recommended && entry.possible) ?? modes.find((entry) => entry.possible);
  if (!chosen) {
    throw new FerryError('invalid-input', `${vm} cannot be moved: ${modes.map((entry) => `${entry.mode}: ${entry.reason}`).join(' ')}`, {
      hint: 'Fix what is named above, then run `ferry migrate` again (or pick a mode with --mode).',
    });
  }
  const others = modes.filter((entry) => entry !== chosen && entry.possible).map((entry) => entry.mode);
  return {
    mode: chosen.mode,
    message: `Mode: ${chosen.mode} (${chosen.recommended ? 'recommended' : 'the only one possible'}): ${chosen.reason}${others.length > 0 ? ` Other modes: ${others.join(', ')} (--mode).` : ''}`,
  };
}
