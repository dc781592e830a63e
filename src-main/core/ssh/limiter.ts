/**
 * Caps concurrent session channels on one connection: OpenSSH refuses more than MaxSessions
 * (10 by default) and a refused channel would surface as a confusing open failure.
 */
export class Limiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly max: number) {}

  /**
   * Takes a slot, waiting for one if all are taken, until the returned function is called. A
   * slot can outlive the work's result: a killed command holds its session until sshd lets go.
   */
  async acquire(): Promise<() => void> {
    // A freed slot passes straight to the next waiter, so a newcomer cannot take it in between.
    if (this.active >= this.max) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next === undefined) this.active--;
      else next();
    };
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      release();
    }
  }
}
