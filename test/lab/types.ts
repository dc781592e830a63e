// Shapes shared by the lab CLI, the lab tests and the benchmarks that drive the two-host lab.

export type Accel = 'tcg' | 'kvm';

/** The QEMU a lab host runs: Debian 12's, or 10.0 from bookworm-backports (test/lab/qemu-versions.ts). */
export type LabQemu = '7.2' | '10.0';

export interface LabGuest {
  kernel: string;
  initrd: string;
  accel: Accel;
}

export interface LabHost {
  name: string;
  netns: string;
  address: string;
  port: number;
  user: string;
  identityFile: string;
  knownHostsLine: string;
  hostKeyFingerprint: string;
  imageDir: string;
  stateDir: string;
  runDir: string;
  sharedDir: string;
  sshdPid: number;
  qemu: LabQemu;
}

export interface LabStatus {
  up: true;
  bridge: string;
  gateway: string;
  labDir: string;
  knownHostsFile: string;
  guest: LabGuest;
  hosts: LabHost[];
}

export interface LabUpOptions {
  hosts?: number;
  /** QEMU per host, by index (0 = a); hosts not named run Debian's 7.2. */
  qemu?: Partial<Record<number, LabQemu>>;
  /** Progress lines; the CLI prints them, tests usually leave this out. */
  log?: (line: string) => void;
}

/** What `up` remembers in the lab dir so that `status` can be answered without root tools. */
export interface LabState {
  hosts: number;
  accel: Accel;
  /** Per host; absent in a lab brought up before hosts could differ (all 7.2). */
  qemu?: LabQemu[];
}
