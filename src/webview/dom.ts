// The panel's elements: a small element builder and every control, canvas and box the views
// fill. Ids and data-testid attributes are a contract with the integration tests.
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
}

export function icon(name: string): HTMLElement {
  return el('span', { class: `codicon codicon-${name}`, 'aria-hidden': 'true' });
}

export function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  return el('label', { class: 'field' }, el('span', { class: 'field-label' }, text), control);
}

export const ui = {
  status: el('span', { id: 'status', 'data-testid': 'status', role: 'status' }, 'Waiting for an image…'),
  progress: el('div', { class: 'progress', 'data-testid': 'progress', role: 'progressbar', 'aria-label': 'Explaining', hidden: '' }, el('div', { class: 'progress-bar' })),
  cancel: el('button', { id: 'cancel', 'data-testid': 'cancel', class: 'secondary', hidden: '', title: 'Stop the running explanation' }, icon('debug-stop'), ' Cancel'),
  layer: el('select', { id: 'layer', 'data-testid': 'layer-picker', title: 'Layer whose FG-CAM map is shown' }),
  klass: el('select', { id: 'class', 'data-testid': 'class-picker', title: 'Class to explain' }),
  compareClass: el('select', { id: 'compare-class', 'data-testid': 'compare-class-picker', title: 'A second class explained beside it at the same layer: why one class and not the other' }),
  base: el('select', { id: 'base', 'data-testid': 'base', title: 'Base CAM method FG-CAM starts from' }),
  denoise: el('input', { id: 'denoise', type: 'checkbox', 'data-testid': 'denoise' }),
  colormap: el('select', { id: 'colormap', 'data-testid': 'colormap' }),
  opacity: el('input', { id: 'opacity', type: 'range', min: '0', max: '1', step: '0.05', 'data-testid': 'opacity', 'aria-label': 'Heatmap opacity' }),
  sideBySide: el('input', { id: 'side-by-side', type: 'checkbox', 'data-testid': 'side-by-side' }),
  exportBtn: el('button', { id: 'export', 'data-testid': 'export', title: 'Write the heatmap and overlay PNGs next to the image' }, icon('save'), ' Export'),
  error: el('div', { id: 'error', class: 'error', 'data-testid': 'error', role: 'alert', hidden: '' }),
  retry: el('button', { id: 'retry', 'data-testid': 'retry', class: 'secondary' }, icon('refresh'), ' Retry'),
  canvas: el('canvas', { id: 'heatmap', 'data-testid': 'heatmap-canvas', 'data-rendered': '0', role: 'img', 'aria-label': 'Heatmap over the image' }),
  caption: el('figcaption', { id: 'caption' }),
  /** "Why X and not Y": the heading and the titles above the two maps (hidden for one map). */
  contrastHeading: el('h3', { id: 'contrast-heading', class: 'contrast-heading', 'data-testid': 'contrast-heading', hidden: '' }),
  mapTitle: el('h4', { id: 'map-title', class: 'map-title', 'data-testid': 'map-title', hidden: '' }),
  contrastTitle: el('h4', { id: 'contrast-title', class: 'map-title', 'data-testid': 'contrast-title' }),
  contrastCanvas: el('canvas', { id: 'contrast-heatmap', 'data-testid': 'contrast-canvas', 'data-rendered': '0', role: 'img', 'aria-label': 'Heatmap of the compared class over the image' }),
  contrastCaption: el('figcaption', { id: 'contrast-caption' }),
  contrastFigure: el('figure', { class: 'main-figure contrast-figure', 'data-testid': 'contrast-figure', hidden: '' }),
  notice: el('div', { id: 'notice', class: 'notice', 'data-testid': 'notice', role: 'status', hidden: '' }),
  predictions: el('ol', { id: 'predictions', 'data-testid': 'predictions', 'aria-label': 'Top-5 predictions' }),
  compare: el('section', { id: 'compare', 'data-testid': 'compare', hidden: '' }),
  faithToggle: el('input', { id: 'faithfulness-toggle', type: 'checkbox', 'data-testid': 'faithfulness-toggle', 'aria-controls': 'faithfulness' }),
  faith: el('section', { id: 'faithfulness', class: 'faithfulness', 'data-testid': 'faithfulness', 'aria-label': 'Faithfulness', hidden: '' }),
  faithTitle: el('h3', {}, 'Faithfulness'),
  faithPlot: el('canvas', { id: 'faithfulness-plot', 'data-testid': 'faithfulness-plot', 'data-rendered': '0', role: 'img', 'aria-label': 'Deletion and insertion curves' }),
  faithAuc: el('p', { id: 'faithfulness-auc', class: 'faith-auc', 'data-testid': 'faithfulness-auc', 'aria-live': 'polite' }),
  compareMethods: el('button', { id: 'compare-methods', 'data-testid': 'compare-methods', title: 'Score every method on this image at this layer' }, icon('table'), ' Compare methods'),
  methodsProgress: el('div', { class: 'progress', 'data-testid': 'methods-progress', role: 'progressbar', 'aria-label': 'Comparing methods', 'aria-valuemin': '0', hidden: '' }, el('div', { class: 'progress-fill' })),
  methodsStatus: el('span', { class: 'methods-status', 'data-testid': 'methods-status', role: 'status' }),
  methodsCancel: el('button', { class: 'secondary', 'data-testid': 'methods-cancel', hidden: '', title: 'Stop the comparison' }, icon('debug-stop'), ' Cancel'),
  methods: el('div', { id: 'methods', class: 'methods-box' }),
  content: el('div', { class: 'content', 'data-testid': 'content' }),
};
