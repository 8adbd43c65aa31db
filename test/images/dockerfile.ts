/**
 * A tiny Dockerfile emulator for checking image contents without a container engine: it parses the
 * instructions our Dockerfiles use (FROM … AS, WORKDIR, COPY [--from], RUN, ENV, USER, EXPOSE, ENTRYPOINT,
 * CMD) and assembles each stage's file tree in a temp directory — COPY from the build context (the repo)
 * or from an earlier stage, RUN executed with bash in the stage's WORKDIR on this machine's Node 24. The
 * base images' own files are not reproduced (only Node, which the caller supplies), so a COPY or RUN that
 * relies on something else from a base image fails here as it would be suspicious anyway.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  base: string;
  name: string | undefined;
  instructions: Instruction[];
}

export interface ImageConfig {
  workdir: string;
  user: string | undefined;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  expose: number[];
}

/** Parses instructions (line continuations joined, comments dropped) into stages. */
export function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`cannot parse Dockerfile line: ${line}`);
    const op = match[1]!.toUpperCase();
    const args = match[2]!.trim();
    if (op === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`cannot parse FROM ${args}`);
      stages.push({ base: from[1]!, name: from[2], instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${op} before FROM`);
      stage.instructions.push({ op, args });
    }
  }
  if (stages.length === 0) throw new Error('no FROM');
  return stages;
}

const jsonArray = (args: string): string[] => {
  const value: unknown = JSON.parse(args);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new Error(`expected a JSON string array (exec form), got ${args}`);
  return value;
};

export function imageConfig(stage: Stage): ImageConfig {
  const config: ImageConfig = { workdir: '/', user: undefined, env: {}, entrypoint: [], cmd: [], expose: [] };
  for (const { op, args } of stage.instructions) {
    if (op === 'WORKDIR') config.workdir = posix.resolve(config.workdir, args);
    else if (op === 'USER') config.user = args;
    else if (op === 'ENV') {
      const [key, ...rest] = args.split('=');
      config.env[key!] = rest.join('=');
    } else if (op === 'ENTRYPOINT') config.entrypoint = jsonArray(args);
    else if (op === 'CMD') config.cmd = jsonArray(args);
    else if (op === 'EXPOSE') config.expose.push(...args.split(/\s+/).map(Number));
  }
  return config;
}

/** COPY sources from the build context or another stage, relative to the image root of that side. */
export function copies(stage: Stage): { from: string | undefined; sources: string[]; dest: string }[] {
  return stage.instructions
    .filter((i) => i.op === 'COPY')
    .map(({ args }) => {
      const words = args.split(/\s+/);
      let from: string | undefined;
      while (words[0]?.startsWith('--')) {
        const flag = words.shift()!;
        if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
        else throw new Error(`unsupported COPY flag ${flag}`);
      }
      const dest = words.pop();
      if (!dest || words.length === 0) throw new Error(`COPY needs sources and a destination: ${args}`);
      return { from, sources: words, dest };
    });
}

export interface AssembleOptions {
  /** Build context (the repository root). */
  context: string;
  /** Environment for RUN (PATH with Node 24 and npm). */
  env: NodeJS.ProcessEnv;
  /** Stage trees already built, keyed by their instructions (identical stages are built once); the
   *  caller removes the directories. */
  cache: Map<string, string>;
  log?: (line: string) => void;
}

/**
 * Builds the stage at `index` (and the stages it copies from) and returns the directory standing for
 * its root filesystem.
 */
export function assembleStage(stages: Stage[], index: number, options: AssembleOptions): string {
  const stage = stages[index]!;
  const key = JSON.stringify([stage.base, stage.instructions]);
  const cached = options.cache.get(key);
  if (cached) return cached;
  const root = mkdtempSync(join(tmpdir(), `rmqp-image-${stage.name ?? 'final'}-`));
  let workdir = '/';
  const inRoot = (path: string) => join(root, posix.resolve(workdir, path));
  const copyList = copies(stage);
  let copyIndex = 0;
  for (const { op, args } of stage.instructions) {
    if (op === 'WORKDIR') {
      workdir = posix.resolve(workdir, args);
      mkdirSync(join(root, workdir), { recursive: true });
    } else if (op === 'COPY') {
      const { from, sources, dest } = copyList[copyIndex++]!;
      let sourceRoot = options.context;
      if (from !== undefined) {
        const fromIndex = stages.findIndex((s, i) => i < index && (s.name === from || String(i) === from));
        if (fromIndex < 0) throw new Error(`COPY --from=${from}: no earlier stage of that name`);
        sourceRoot = assembleStage(stages, fromIndex, options);
      }
      for (const source of sources) {
        const path = join(sourceRoot, source);
        if (!existsSync(path)) throw new Error(`COPY ${from ? `--from=${from} ` : ''}${source}: not found`);
        const target =
          dest.endsWith('/') || sources.length > 1
            ? join(inRoot(dest), posix.basename(source))
            : inRoot(dest);
        mkdirSync(statSync(path).isDirectory() ? target : join(target, '..'), { recursive: true });
        cpSync(path, target, { recursive: true });
      }
    } else if (op === 'RUN') {
      if (args.startsWith('[')) throw new Error('RUN in exec form is not emulated');
      if (/(^|\s)\/(?!dev\/null)/.test(args))
        throw new Error(`RUN with an absolute path is not emulated: ${args}`);
      options.log?.(`[${stage.name ?? 'final'}] RUN ${args}`);
      execFileSync('bash', ['-euo', 'pipefail', '-c', args], {
        cwd: join(root, workdir),
        env: options.env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    }
  }
  options.cache.set(key, root);
  return root;
}

export function readDockerfile(path: string): { stages: Stage[]; text: string } {
  const text = readFileSync(path, 'utf8');
  return { stages: parseDockerfile(text), text };
}
