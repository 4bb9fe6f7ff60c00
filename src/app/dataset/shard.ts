// `--shard K/N`: the K-th (0-based) of N contiguous slices of the sorted listing, so N
// machines (a Kubernetes Indexed Job, a Slurm job array) each score one slice and agree on
// the split without talking to each other.
export interface Shard {
  index: number;
  count: number;
}

/** "K/N" with 0 <= K < N. Throws an Error saying what is expected. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new Error(`--shard must look like K/N, e.g. 0/4 for the first of four slices (got "${text}")`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new Error(`--shard ${text}: N must be at least 1`);
  if (index >= count) throw new Error(`--shard ${text}: K counts from 0, so it must be below N (0..${count - 1})`);
  return { index, count };
}

/** Files [floor(K*M/N), floor((K+1)*M/N)) of the sorted listing. */
export function shardSlice<T>(sorted: T[], s: Shard): T[] {
  const m = sorted.length;
  return sorted.slice(Math.floor((s.index * m) / s.count), Math.floor(((s.index + 1) * m) / s.count));
}
