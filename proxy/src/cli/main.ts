#!/usr/bin/env node
/** Entry point of the `rocketmq-proxy` program (package.json "bin"). */
import { runCli } from './program.ts';

let stopRequested = false;
const stopSignal = () =>
  new Promise<string>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopRequested) {
        process.stderr.write(`rocketmq-proxy: second ${signal}, exiting now\n`);
        process.exit(130);
      }
      stopRequested = true;
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  stopSignal,
});
process.exitCode = code;
