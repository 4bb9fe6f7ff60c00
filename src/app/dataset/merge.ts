// `fgcam predict --merge`: the review.json of every shard of one run, combined into one
// document equal to the whole-folder run's. Refuses mixed models, splits, gaps and overlaps.
import { buildDocument, type Failed, type ReviewDocument } from './document';
import type { ImageResult } from './summary';
import type { Truth } from './truth';

/** One document from shard outputs: the same model, classes and split; every shard present, none twice. */
export function mergeReviews(docs: { dir: string; doc: ReviewDocument }[]): ReviewDocument {
  if (!docs.length) throw new Error('nothing to merge');
  const [first] = docs;
  for (const { dir, doc } of docs) {
    if (doc.modelKey !== first.doc.modelKey) throw new Error(`${dir} was scored with another model or preprocessing than ${first.dir}; merge only shards of one run`);
    if (JSON.stringify(doc.classes) !== JSON.stringify(first.doc.classes)) throw new Error(`${dir} has other class names than ${first.dir}`);
    if (doc.truthSource !== first.doc.truthSource) throw new Error(`${dir} took its truth from ${doc.truthSource}, ${first.dir} from ${first.doc.truthSource}`);
  }
  const parts = docs.flatMap(({ dir, doc }) => (doc.shards.length ? doc.shards : doc.shard ? [doc.shard] : []).map((s) => ({ dir, s })));
  if (parts.length) {
    const n = parts[0].s.count;
    if (parts.length !== docs.length && docs.some((d) => !d.doc.shard && !d.doc.shards.length)) throw new Error('cannot merge whole-folder reviews with shards');
    if (parts.some((p) => p.s.count !== n)) throw new Error(`the shards were cut in different numbers of slices (${[...new Set(parts.map((p) => p.s.count))].join(', ')})`);
    const seen = new Map<number, string>();
    for (const p of parts) {
      if (seen.has(p.s.index)) throw new Error(`shard ${p.s.index}/${n} is given twice (${seen.get(p.s.index)} and ${p.dir})`);
      seen.set(p.s.index, p.dir);
    }
    const absent = Array.from({ length: n }, (_, i) => i).filter((i) => !seen.has(i));
    if (absent.length) throw new Error(`shard${absent.length > 1 ? 's' : ''} ${absent.map((i) => `${i}/${n}`).join(', ')} missing: merge the outputs of all ${n} shards`);
  }
  const byPath = new Map<string, string>();
  const results: ImageResult[] = [];
  const failed: Failed[] = [];
  for (const { dir, doc } of docs) {
    for (const r of [...doc.results, ...doc.failed]) {
      if (byPath.has(r.path)) throw new Error(`${r.path} is in both ${byPath.get(r.path)} and ${dir}`);
      byPath.set(r.path, dir);
    }
    results.push(...doc.results);
    failed.push(...doc.failed);
  }
  const unmatched = new Map<string, Truth['unmatched'][number]>();
  for (const { doc } of docs) {
    for (const u of doc.unmatched) {
      const e = unmatched.get(u.name);
      unmatched.set(u.name, e ? { ...e, images: e.images + u.images } : { ...u });
    }
  }
  return buildDocument(
    {
      root: first.doc.root,
      model: first.doc.model,
      modelKey: first.doc.modelKey,
      truthSource: first.doc.truthSource,
      shard: null,
      shards: parts.map((p) => p.s).sort((a, b) => a.index - b.index),
      unmatched: [...unmatched.values()],
      missing: docs.flatMap((d) => d.doc.missing),
    },
    first.doc.classes,
    results,
    failed,
  );
}
