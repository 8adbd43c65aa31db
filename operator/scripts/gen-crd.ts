/** Writes crds/rocketmqproxies.rmqproxy.io.yaml from the schema (`make crds`); `--check` fails on drift. */
import { readFileSync, writeFileSync } from 'node:fs';
import { CRD_FILE, renderCrdYaml } from '../src/api/crd.ts';

const rendered = renderCrdYaml();
if (process.argv.includes('--check')) {
  const current = readFileSync(CRD_FILE, 'utf8');
  if (current !== rendered) {
    process.stderr.write(`${CRD_FILE} is out of date: run make crds\n`);
    process.exit(1);
  }
} else {
  writeFileSync(CRD_FILE, rendered);
  process.stdout.write(`wrote ${CRD_FILE}\n`);
}
