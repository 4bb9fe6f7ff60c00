// Where explain() computes: compiled ONNX graphs on ONNX Runtime (the default), or the tfjs
// path, kept selectable (--backend wasm-tfjs) until it is migrated away.
export type ComputePath = 'onnxruntime' | 'tfjs';
let computePath: ComputePath = 'onnxruntime';

export function setComputePath(p: ComputePath): void {
  computePath = p;
}

export function getComputePath(): ComputePath {
  return computePath;
}
