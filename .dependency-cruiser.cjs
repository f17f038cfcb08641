/**
 * The layering of src/, checked by `npm run lint` (dependency-cruiser). A module may import from its
 * own layer and the layers below it, never above; no cycles anywhere; product code never imports
 * the testing entry point. Layers, lowest first (see README.md, "Layout"):
 */
const layers = [
  ['util', 'errors.ts'], // leaf helpers: clock, logger, generic parsers; one error class per condition
  ['wg', 'net', 'native'], // protocol (pure), network helpers, the typed raw addon
  ['dataplane', 'contract'], // the validating Dataplane; what crosses controller <-> device
  ['paths'],
  ['gateway'],
  ['uapi', 'config'], // the wg/wg-quick surfaces over a Gateway
  ['agent', 'ap', 'controller', 'testing'],
  ['cli'],
  ['lab', 'index.ts'],
];

const pattern = (names) => `^src/(${names.map((n) => n.replace('.', '\\.')).join('|')})($|/)`;

// agent, ap and controller talk only through src/contract: none imports another.
const siblings = ['agent', 'ap', 'controller'];

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    ...layers.slice(0, -1).map((layer, i) => ({
      name: `layer-${layer.join('-').replace('.ts', '')}`,
      comment: `${layer.join(', ')} may not import from a higher layer`,
      severity: 'error',
      from: { path: pattern(layer) },
      to: { path: pattern(layers.slice(i + 1).flat()) },
    })),
    ...siblings.map((name) => ({
      name: `no-sibling-${name}`,
      comment: `${name} imports no other daemon; shared types and the client live in src/contract`,
      severity: 'error',
      from: { path: pattern([name]) },
      to: { path: pattern(siblings.filter((s) => s !== name)) },
    })),
    {
      name: 'contract-is-low',
      comment: 'src/contract imports only util, errors and net',
      severity: 'error',
      from: { path: pattern(['contract']) },
      to: { path: '^src/', pathNot: pattern(['contract', 'util', 'errors.ts', 'net']) },
    },
    {
      name: 'no-testing-in-product',
      comment: 'test doubles are reached only through the sag/testing entry point',
      severity: 'error',
      from: { path: '^src/', pathNot: pattern(['testing']) },
      to: { path: pattern(['testing']) },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
