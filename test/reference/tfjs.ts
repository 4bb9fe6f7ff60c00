// test/reference/ is the independent tfjs reference the compiled ONNX graphs are checked
// against: the engine's first implementation (forward pass, FG-CAM rules and walk, base CAMs,
// LRP), written on tfjs-core ops with tfjs's own autograd. Tests only: the product computes
// on ONNX Runtime (src/engine/compile, rules, compute.ts) and imports no tfjs. A second
// computation by other code and other kernels is what makes "the graphs agree" a check.
// This file sets tfjs up: the cpu backend (plain JavaScript, exact float32) and its gradients.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients (the tfjs umbrella package does).
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';

// The current backend from the start (tf.getBackend() is undefined until first use), without
// the "install tfjs-node" banner the cpu backend greets its first use in Node with.
void tf.engine().backend;
(tf.findBackend('cpu') as { firstUse?: boolean }).firstUse = false;

export { tf };
