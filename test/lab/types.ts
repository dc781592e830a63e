// Shapes shared by the lab CLI, the lab tests and the benchmarks that drive the two-host lab.

export type Accel = 'tcg' | 'kvm';

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
  /** Progress lines; the CLI prints them, tests usually leave this out. */
  log?: (line: string) => void;
}

/** What `up` remembers in the lab dir so that `status` can be answered without root tools. */
export interface LabState {
  hosts: number;
  accel: Accel;
}
