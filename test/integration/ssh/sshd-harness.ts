import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  path: string;
  publicLine: string;
  fingerprint: string;
}

export interface TestSshdOptions {
  /** ssh-keygen -t values, one host key each; the first is `hostKey`. Default: ed25519 only. */
  hostKeyTypes?: string[];
}

/** A throwaway OpenSSH server on 127.0.0.1: its own host keys, key-only root login, all in a tmp dir. */
export class TestSshd {
  readonly dir: string;
  port = 0;
  hostKeys: KeyPair[] = [];
  private process: ChildProcess | undefined;
  private generation = 0;

  private constructor(private readonly hostKeyTypes: string[]) {
    this.dir = mkdtempSync(join(tmpdir(), 'ferry-sshd-'));
  }

  static async start(options: TestSshdOptions = {}): Promise<TestSshd> {
    const sshd = new TestSshd(options.hostKeyTypes ?? ['ed25519']);
    // sshd insists on its privilege-separation directory, which minimal containers lack.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    sshd.port = await freePort();
    sshd.hostKeys = sshd.generateHostKeys();
    writeFileSync(join(sshd.dir, 'authorized_keys'), '');
    await sshd.launch();
    return sshd;
  }

  generateKey(name: string, type: string, passphrase = ''): KeyPair {
    const path = join(this.dir, name);
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', name, '-f', path]);
    const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
    return { path, publicLine: readFileSync(`${path}.pub`, 'utf8').trim(), fingerprint };
  }

  get hostKey(): KeyPair {
    const first = this.hostKeys[0];
    if (first === undefined) throw new Error('the test sshd has no host key');
    return first;
  }

  authorize(key: KeyPair): void {
    writeFileSync(join(this.dir, 'authorized_keys'), `${key.publicLine}\n`, { flag: 'a' });
  }

  /** The server's pid; per-connection sshd processes are its children. */
  get pid(): number {
    return this.process?.pid ?? -1;
  }

  /** Kills the processes serving current connections, so clients see the connection drop. */
  killConnections(): number {
    return this.killConnectionsOf(this.process?.pid);
  }

  /** Restarts on the same port, optionally with brand-new host keys of the same types. */
  async restart(options: { newHostKey?: boolean } = {}): Promise<void> {
    await this.stop();
    if (options.newHostKey === true) {
      this.generation++;
      this.hostKeys = this.generateHostKeys();
    }
    await this.launch();
  }

  private generateHostKeys(): KeyPair[] {
    return this.hostKeyTypes.map((type) => this.generateKey(`host-key-${this.generation}-${type}`, type));
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (child === undefined) return;
    this.process = undefined;
    this.killConnectionsOf(child.pid);
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve();
        return;
      }
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private killConnectionsOf(pid: number | undefined): number {
    if (pid === undefined) return 0;
    let children: string[] = [];
    try {
      children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter((c) => c !== '');
    } catch {
      // pgrep exits 1 when there are no children.
    }
    for (const child of children) process.kill(Number(child), 'SIGKILL');
    return children.length;
  }

  private async launch(): Promise<void> {
    const config = join(this.dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        ...this.hostKeys.map((key) => `HostKey ${key.path}`),
        `PidFile ${join(this.dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'AllowStreamLocalForwarding yes',
        'AllowTcpForwarding yes',
        'Subsystem sftp internal-sftp',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    this.process = child;
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(this.port))) {
      if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${log}`);
      if (Date.now() > deadline) throw new Error(`sshd did not start listening: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
