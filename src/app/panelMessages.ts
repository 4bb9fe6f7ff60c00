// Every message from the panel's webview is checked here before the host acts on it: the
// webview renders model-provided text (layer names, labels) and is not trusted. A message is
// accepted only in the shapes of app/panelProtocol.ts, with enums from their one source
// (methods catalogue, colormaps), layer names the host itself sent (a Set, so "__proto__" is
// just a string), and a class index in the model's range. The result is a fresh object built
// from the checked fields only. No vscode: unit-tested under node:test (panelMessages.test.ts).
import { BASES } from '../engine/methods';
import { COLORMAPS } from '../engine/image/colormap';
import type { ViewState, WebviewToHost } from './panelProtocol';

/** What the host has told the webview, against which its messages are checked. */
export interface HostKnowledge {
  /** Layer names the host sent (layers of the current model, and the current view's layer). */
  layers: ReadonlySet<string>;
  /** The model's class count, when known. */
  classes?: number;
}

export class InvalidMessage extends Error {
  constructor(message: string) {
    super(`ignored a malformed message from the panel: ${message}`);
    this.name = 'InvalidMessage';
  }
}

const BARE = new Set(['ready', 'export', 'cancel', 'retry']);
const VIEW = new Set(['viewChanged', 'recompute']);
const LAYERED = new Set(['requestBaseMap', 'requestFaithfulness', 'compareMethods']);
const BASE_SET: ReadonlySet<string> = new Set(BASES);
const COLORMAP_SET: ReadonlySet<string> = new Set(COLORMAPS);
const MAX_KEY = 4096;

type Obj = Record<string, unknown>;
const own = (o: Obj, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Obj, k: string, max = MAX_KEY): string {
  const v = own(o, k);
  if (typeof v !== 'string' || v.length > max) throw new InvalidMessage(`"${k}" must be a string`);
  return v;
}

function bool(o: Obj, k: string): boolean {
  const v = own(o, k);
  if (typeof v !== 'boolean') throw new InvalidMessage(`"${k}" must be true or false`);
  return v;
}

function layer(o: Obj, known: HostKnowledge): string {
  const l = str(o, 'layer');
  if (!known.layers.has(l)) throw new InvalidMessage(`unknown layer ${JSON.stringify(l.slice(0, 80))}`);
  return l;
}

/** An optional class index field (absent or null: undefined), in the model's range. */
function classIn(o: Obj, k: string, known: HostKnowledge): number | undefined {
  const c = own(o, k);
  if (c === undefined || c === null) return undefined;
  const max = known.classes;
  if (!Number.isInteger(c) || (c as number) < 0 || (max !== undefined && (c as number) >= max)) {
    const what = k === 'classIndex' ? 'class index' : `"${k}"`;
    throw new InvalidMessage(`${what} ${JSON.stringify(c)} is out of range${max !== undefined ? ` (0..${max - 1})` : ''}`);
  }
  return c as number;
}

function checkView(v: unknown, known: HostKnowledge): ViewState {
  if (!isObject(v)) throw new InvalidMessage('"view" must be an object');
  const base = str(v, 'base');
  if (!BASE_SET.has(base)) throw new InvalidMessage(`unknown base method ${JSON.stringify(base.slice(0, 40))}`);
  const colormap = str(v, 'colormap');
  if (!COLORMAP_SET.has(colormap)) throw new InvalidMessage(`unknown colormap ${JSON.stringify(colormap.slice(0, 40))}`);
  const opacity = own(v, 'opacity');
  if (typeof opacity !== 'number' || !(opacity >= 0 && opacity <= 1)) throw new InvalidMessage('"opacity" must be a number in [0, 1]');
  const c = classIn(v, 'classIndex', known);
  const compare = classIn(v, 'compareClass', known);
  const view: ViewState = {
    base: base as ViewState['base'],
    denoise: bool(v, 'denoise'),
    layer: layer(v, known),
    colormap: colormap as ViewState['colormap'],
    opacity,
    sideBySide: bool(v, 'sideBySide'),
  };
  if (c !== undefined) view.classIndex = c;
  if (compare !== undefined) view.compareClass = compare;
  const f = own(v, 'faithfulness');
  if (f !== undefined) {
    if (typeof f !== 'boolean') throw new InvalidMessage('"faithfulness" must be true or false');
    view.faithfulness = f;
  }
  // imagePath and trueClass are the host's own: a view from the webview never sets them.
  return view;
}

/** The message, checked and rebuilt; throws InvalidMessage for anything else. */
export function checkWebviewMessage(m: unknown, known: HostKnowledge): WebviewToHost {
  if (!isObject(m)) throw new InvalidMessage('not an object');
  const type = own(m, 'type');
  if (typeof type !== 'string') throw new InvalidMessage('no "type"');
  if (BARE.has(type)) return { type } as WebviewToHost;
  if (VIEW.has(type)) return { type: type as 'viewChanged' | 'recompute', view: checkView(own(m, 'view'), known) };
  if (LAYERED.has(type)) {
    return { type: type as 'requestBaseMap' | 'requestFaithfulness' | 'compareMethods', key: str(m, 'key'), layer: layer(m, known) };
  }
  throw new InvalidMessage(`unknown type ${JSON.stringify(type.slice(0, 40))}`);
}
