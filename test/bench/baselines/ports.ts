import { randomInt } from 'node:crypto';

/**
 * A port for a hand-run listener: below Ferry's own range (49152+), random so that runs of other
 * agents on the same lab rarely collide; callers retry on "in use".
 */
export const handPort = (): number => randomInt(40_000, 48_000);

export const LAB_KEY_ARGS = '-i /var/lib/ferry-lab/id_ed25519 -o IdentitiesOnly=yes -o UserKnownHostsFile=/var/lib/ferry-lab/known_hosts -o BatchMode=yes';
