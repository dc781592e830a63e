import { labDown, labStatus, labUp } from '../lab/lab.js';

// The "lab" test project runs against the two-host lab. `npm test` on its own brings the lab up
// when it can (root) and takes it down again afterwards; otherwise it stops with what to do,
// instead of every lab test failing on its own.
let broughtUp = false;

export async function setup(): Promise<void> {
  if (labStatus()) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'The lab tests (integration, lab, e2e) need the two-host test lab, which needs root. Bring it up with `sudo npm run lab -- up`, ' +
        'or run only the unit tests: `npm run test:unit`.',
    );
  }
  console.log('The lab tests need the two-host lab: bringing it up (and down again at the end).');
  await labUp({ log: (line) => console.log(line) });
  broughtUp = true;
}

export async function teardown(): Promise<void> {
  if (broughtUp) await labDown({ log: (line) => console.log(line) });
}
