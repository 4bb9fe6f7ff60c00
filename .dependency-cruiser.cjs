// The floors of the house (docs/architecture.md), checked on every import under src/:
// `npm run lint:imports` (also a step of `npm test`). Type-only imports count: a cycle of
// types is still a cycle, and a floor that names an upper floor's types depends on it.
/** Engine modules the panel's browser code may use: pure, no Node, no decoder. */
const BROWSER_SAFE_ENGINE = '^src/engine/(types|methods|image/(colormap|resize|render|types))[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No import cycles, not even through type-only imports.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'engine-imports-no-upper-floor',
      severity: 'error',
      comment: 'The engine knows nothing of the floors above it.',
      from: { path: '^src/engine/' },
      to: { path: '^src/(app|cli|extension|webview)/' },
    },
    {
      name: 'app-imports-only-the-engine',
      severity: 'error',
      comment: 'app/ is the floor both front ends stand on: it imports the engine, never a front end.',
      from: { path: '^src/app/' },
      to: { path: '^src/(cli|extension|webview)/' },
    },
    {
      name: 'cli-not-extension',
      severity: 'error',
      comment: 'The two front ends share app/, never each other.',
      from: { path: '^src/cli/' },
      to: { path: '^src/(extension|webview)/' },
    },
    {
      name: 'extension-not-cli',
      severity: 'error',
      comment: 'The two front ends share app/, never each other.',
      from: { path: '^src/extension/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'front-ends-use-the-engine-through-app',
      severity: 'error',
      comment:
        'cli/ and extension/ call app/; from the engine they import types and the method catalogue only.',
      from: { path: '^src/(cli|extension)/' },
      to: { path: '^src/engine/', pathNot: '^src/engine/methods[.]ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-tfjs-in-the-product',
      severity: 'error',
      comment:
        'The product computes on ONNX Runtime; TensorFlow.js is only the tests\' independent reference (test/reference/).',
      from: { path: '^src/' },
      to: { path: '(^|/)@tensorflow/' },
    },
    {
      name: 'vscode-only-in-extension',
      severity: 'error',
      comment: 'Only the VS Code glue imports vscode; everything else runs without it.',
      from: { path: '^src/', pathNot: '^src/extension/' },
      to: { path: '^vscode$' },
    },
    {
      name: 'webview-imports-its-own',
      severity: 'error',
      comment:
        'The panel talks to the host by messages: it imports its own files, the shared protocol types, and the pure engine modules that colour maps.',
      from: { path: '^src/webview/' },
      to: { pathNot: [`^src/webview/`, BROWSER_SAFE_ENGINE, '^src/app/(protocol|panelProtocol)[.]ts$'] },
    },
    {
      name: 'webview-protocol-types-only',
      severity: 'error',
      comment: 'From app/ the webview takes the panel protocol (types and pure key functions) and only the types of the worker replies.',
      from: { path: '^src/webview/' },
      to: { path: '^src/app/', pathNot: '^src/app/panelProtocol[.]ts$', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // node_modules stays in the graph (not followed): the no-tfjs rule must see imports of packages.
    exclude: { path: '^(out|dist)/' },
  },
};
