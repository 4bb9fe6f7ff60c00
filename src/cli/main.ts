#!/usr/bin/env node
// `fgcam` entry point: parse, dispatch, map errors to exit codes (1 failures, 2 usage).
import { MAIN_USAGE, parseCommand, UsageError, type Command } from './args';
import { packageVersion } from './root';
import { print, printable, printableJson } from './print';

async function runLayers(c: Extract<Command, { cmd: 'layers' }>): Promise<number> {
  // Loaded lazily so --help and usage errors never pay for the engine's start-up.
  const { startBackend, warningsToShow } = await import('../app/backend');
  const { ModelSession } = await import('../app/session');
  const backend = await startBackend(c.backend);
  for (const w of warningsToShow(c.backend, backend)) print(`fgcam: warning: ${w}\n`, process.stderr);
  let layers;
  try {
    layers = (await ModelSession.open(c.model)).layers;
  } catch (e) {
    print(`fgcam: error: cannot load the model ${c.model}: ${(e as Error).message}\n`, process.stderr);
    return 1;
  }
  if (c.json) {
    process.stdout.write(printableJson({ backend: backend.name, model: c.model, layers }) + '\n');
    return 0;
  }
  const names = layers.map((l) => printable(l.name));
  const classes = layers.map((l) => printable(l.className));
  const w = Math.max(...names.map((n) => n.length), 4);
  const cw = Math.max(...classes.map((n) => n.length), 5);
  print(`backend ${backend.name}; model ${c.model}; "*" = explainable with --layer\n`);
  for (const [i, l] of layers.entries()) {
    print(`${l.spatial ? '*' : ' '} ${names[i].padEnd(w)}  ${classes[i].padEnd(cw)}  [${l.shape.join(', ')}]\n`);
  }
  return 0;
}

const c0 = (argv: string[]) => argv[0] ?? '';

async function run(argv: string[]): Promise<number> {
  let c: Command;
  try {
    if (argv[0] === 'evaluate') return await (await import('./evaluate')).runEvaluate(argv.slice(1)); // issue 7: own parser in evaluate.ts
    if (['help', '-h', '--help'].includes(c0(argv)) && argv[1] === 'evaluate') return await (await import('./evaluate')).runEvaluate(['--help']);
    if (argv[0] === 'predict') return await (await import('./predict')).runPredict(argv.slice(1));
    if (['help', '-h', '--help'].includes(c0(argv)) && argv[1] === 'predict') return await (await import('./predict')).runPredict(['--help']);
    c = parseCommand(argv);
    switch (c.cmd) {
      case 'help':
        process.stdout.write(c.text + '\n');
        return 0;
      case 'version':
        process.stdout.write(`fgcam ${packageVersion()}\n`);
        return 0;
      case 'layers':
        return await runLayers(c);
      case 'explain':
        return await (await import('./run')).runExplain(c.args);
      case 'demo':
        return await (await import('./demo')).runDemo(c);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      // Short usage on errors: the command's synopsis and where the full help is.
      const short = e.usage === MAIN_USAGE ? e.usage : `${e.usage.split('\n')[0]}\nRun "fgcam ${c0(argv)} --help" for all options.`;
      print(`fgcam: ${e.message}\n\n${short}\n`, process.stderr);
      return 2;
    }
    print(`fgcam: error: ${(e as Error).stack ?? e}\n`, process.stderr);
    return 1;
  }
}

if (require.main === module) {
  run(process.argv.slice(2)).then(
    // Exit explicitly once stdout has drained: the wasm backend's thread pool would
    // otherwise keep the process alive.
    (code) => process.stdout.write('', () => process.exit(code)),
    (e) => process.stderr.write(printable(`fgcam: error: ${e}\n`), () => process.exit(1)),
  );
}

export { run };
