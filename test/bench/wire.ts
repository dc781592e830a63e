import { readFileSync } from 'node:fs';
import { hostLayout } from '../lab/layout.js';

/**
 * Bytes on the wire from host a to host b, read from the root-side veth counters of the lab
 * bridge: what a's veth received (everything a sent) and what b's veth transmitted (everything b
 * received). Each also counts a little SSH traffic between the bench and that host, so the smaller
 * of the two deltas is taken. Other runs on the lab at the same time would add to both.
 */
function counter(index: number, which: 'rx_bytes' | 'tx_bytes'): number {
  return Number(readFileSync(`/sys/class/net/${hostLayout(index).veth}/statistics/${which}`, 'utf8').trim());
}

export class WireMeter {
  private readonly aSent = counter(0, 'rx_bytes');
  private readonly bReceived = counter(1, 'tx_bytes');

  bytes(): number {
    return Math.min(counter(0, 'rx_bytes') - this.aSent, counter(1, 'tx_bytes') - this.bReceived);
  }
}
