// The review panel's gallery logic, without the DOM: the results so far, the filter (truth,
// prediction, a confusion cell, mistakes only), the sort (loss, confidence, margin, path),
// the keyboard selection, and which rows of the virtualised grid are on screen. Pure, so
// node:test covers it; review.ts only draws what this says.
import type { ReviewResult } from '../app/protocol';

export type SortKey = 'loss' | 'confidence' | 'margin' | 'path';
export const SORT_KEYS: readonly SortKey[] = ['loss', 'confidence', 'margin', 'path'];

export interface Filter {
  /** A class index, or null for "any". */
  truth: number | null;
  predicted: number | null;
  mistakesOnly: boolean;
}

export const NO_FILTER: Filter = { truth: null, predicted: null, mistakesOnly: false };

/** The value a sort key orders by (missing values sort last). */
function sortValue(r: ReviewResult, key: SortKey): number | undefined {
  if (key === 'loss') return r.loss ?? undefined;
  if (key === 'confidence') return r.prob;
  if (key === 'margin') return r.margin;
  return undefined;
}

export function matches(r: ReviewResult, f: Filter): boolean {
  if (f.truth !== null && r.truth !== f.truth) return false;
  if (f.predicted !== null && r.predicted !== f.predicted) return false;
  if (f.mistakesOnly && (r.truth === null || r.truth === r.predicted)) return false;
  return true;
}

export interface RowWindow {
  /** Rows [firstRow, endRow) are drawn; items [first, end) of the visible list. */
  firstRow: number;
  endRow: number;
  first: number;
  end: number;
  /** Height of the whole grid, for the scroll spacer. */
  totalHeight: number;
}

export type NavKey = 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown' | 'Home' | 'End' | 'PageUp' | 'PageDown';
export const NAV_KEYS: readonly string[] = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'PageUp', 'PageDown'];

export class ReviewState {
  private results: ReviewResult[] = [];
  private byPath = new Map<string, number>();
  private shown: ReviewResult[] | undefined;
  sort: SortKey = 'loss';
  /** Descending by default: the worst (highest loss) first. */
  descending = true;
  filter: Filter = { ...NO_FILTER };
  /** Index in visible() of the selected tile, -1 for none. */
  selected = -1;

  get size(): number {
    return this.results.length;
  }

  /** Adds results (a later result for the same path replaces the earlier one). */
  add(results: readonly ReviewResult[]): void {
    for (const r of results) {
      const i = this.byPath.get(r.path);
      if (i === undefined) {
        this.byPath.set(r.path, this.results.length);
        this.results.push(r);
      } else this.results[i] = r;
    }
    if (results.length) this.changed();
  }

  /** Replaces everything (the finished review's document). */
  reset(results: readonly ReviewResult[]): void {
    const keep = this.selectedResult()?.path;
    this.results = [];
    this.byPath.clear();
    this.add(results);
    this.changed();
    this.selected = keep === undefined ? -1 : this.visible().findIndex((r) => r.path === keep);
  }

  result(path: string): ReviewResult | undefined {
    const i = this.byPath.get(path);
    return i === undefined ? undefined : this.results[i];
  }

  setSort(key: SortKey, descending = this.descending): void {
    this.sort = key;
    this.descending = descending;
    this.changed();
  }

  setFilter(patch: Partial<Filter>): void {
    this.filter = { ...this.filter, ...patch };
    this.selected = -1;
    this.changed();
  }

  /** A confusion-matrix cell: its images, or back to everything when it is already the filter. */
  toggleCell(truth: number, predicted: number): void {
    const same = this.filter.truth === truth && this.filter.predicted === predicted;
    this.setFilter(same ? { truth: null, predicted: null } : { truth, predicted });
  }

  private changed(): void {
    this.shown = undefined;
  }

  /** The filtered results in sort order (ties by path, so the order is stable). */
  visible(): ReviewResult[] {
    if (this.shown) return this.shown;
    const key = this.sort;
    const sign = this.descending ? -1 : 1;
    const list = this.results.filter((r) => matches(r, this.filter));
    list.sort((a, b) => {
      if (key !== 'path') {
        const va = sortValue(a, key);
        const vb = sortValue(b, key);
        if (va === undefined || vb === undefined) {
          if (va !== vb) return va === undefined ? 1 : -1;
        } else if (va !== vb) return sign * (va - vb);
      }
      const byPath = a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
      return key === 'path' ? sign * byPath : byPath;
    });
    this.shown = list;
    return list;
  }

  selectedResult(): ReviewResult | undefined {
    return this.selected >= 0 ? this.visible()[this.selected] : undefined;
  }

  /** Moves the selection in a grid of `columns`; a page is `pageRows` rows. Returns the new index. */
  move(key: NavKey, columns: number, pageRows: number): number {
    const n = this.visible().length;
    if (n === 0) return (this.selected = -1);
    const cols = Math.max(1, columns);
    const cur = this.selected < 0 ? -1 : this.selected;
    const step: Record<NavKey, number> = {
      ArrowLeft: -1,
      ArrowRight: 1,
      ArrowUp: -cols,
      ArrowDown: cols,
      PageUp: -cols * Math.max(1, pageRows),
      PageDown: cols * Math.max(1, pageRows),
      Home: -Infinity,
      End: Infinity,
    };
    const next = cur < 0 ? 0 : cur + step[key];
    this.selected = Math.min(n - 1, Math.max(0, Number.isFinite(next) ? next : next > 0 ? n - 1 : 0));
    return this.selected;
  }
}

/** How many tiles of `tile` px (plus `gap`) fit across `width`. */
export function columnsFor(width: number, tile: number, gap: number): number {
  return Math.max(1, Math.floor((width + gap) / (tile + gap)));
}

/** The rows of a grid of `count` items that intersect the viewport, plus `overscan` rows each side. */
export function rowWindow(count: number, columns: number, rowHeight: number, scrollTop: number, viewport: number, overscan = 2): RowWindow {
  const rows = Math.ceil(count / Math.max(1, columns));
  const firstRow = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const endRow = Math.min(rows, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return { firstRow, endRow, first: firstRow * columns, end: Math.min(count, endRow * columns), totalHeight: rows * rowHeight };
}

/** The scrollTop that brings row `row` into a viewport of `viewport` px (unchanged if it is in). */
export function scrollToRow(row: number, rowHeight: number, scrollTop: number, viewport: number): number {
  const top = row * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + viewport) return top + rowHeight - viewport;
  return scrollTop;
}
