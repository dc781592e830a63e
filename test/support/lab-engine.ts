import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FerryEngine } from '../../src-main/core/engine.js';
import { labStatus, type LabHost, type LabStatus } from '../lab/lab.js';
import { sshRun } from '../lab/ssh.js';

/** The running lab, or a clear failure: lab tests never skip. */
export function requireLab(): LabStatus {
  const status = labStatus();
  if (!status) throw new Error('The test lab is not up: run `npm run lab -- up` as root first (test/run-all.sh does it).');
  return status;
}

export interface LabEngine {
  lab: LabStatus;
  engine: FerryEngine;
  home: string;
  /** Saved host names in the engine, one per lab host: "a", "b", … */
  hostNames: string[];
  labHost(name: string): LabHost;
  /** Runs a shell command on a lab host through the system ssh client (outside Ferry). */
  sh(name: string, command: string): Promise<string>;
}

/**
 * A FerryEngine with its own FERRY_HOME whose known_hosts already trusts the lab hosts, with each
 * lab host saved as "a", "b", …. Ferry's own state on the hosts is shared between tests, so each
 * test file uses VM, pool and volume names of its own.
 */
export async function labEngine(options: { addHosts?: boolean } = {}): Promise<LabEngine> {
  const lab = requireLab();
  const home = mkdtempSync(join(tmpdir(), 'ferry-test-home-'));
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'known_hosts'), `${lab.hosts.map((host) => host.knownHostsLine).join('\n')}\n`, { mode: 0o600 });
  const engine = new FerryEngine({ home, userKnownHosts: null, sshConfigPath: join(home, 'no-ssh-config') });
  const hostNames = lab.hosts.map((_, index) => String.fromCharCode(97 + index));
  if (options.addHosts !== false) {
    for (const [index, host] of lab.hosts.entries()) {
      await engine.call('hosts.add', { transport: 'ssh', name: hostNames[index], address: host.address, port: host.port, user: host.user, identityFile: host.identityFile, useAgent: false });
    }
  }
  const labHost = (name: string): LabHost => {
    const host = lab.hosts[hostNames.indexOf(name)];
    if (!host) throw new Error(`no lab host ${name}`);
    return host;
  };
  return {
    lab,
    engine,
    home,
    hostNames,
    labHost,
    sh: async (name, command) => {
      const result = await sshRun(lab, labHost(name), command, { allowFail: true });
      if (result.code !== 0) throw new Error(`${command} on ${name} failed (${result.code}): ${result.stderr}`);
      return result.stdout;
    },
  };
}
