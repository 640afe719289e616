/**
 * Arbor's tree operations as ONNX operators in the {@code ai.arbor} domain, defined as model-local
 * functions composed of standard ops so ONNX Runtime runs them without native code:
 * {@link dev.arbor.ops.SearchStep} (one level of a tree descent, all heads at once),
 * {@link dev.arbor.ops.RetrievedAttention} (attention over retrieved keys plus subtree summaries, also
 * straight from store tables by id) and {@link dev.arbor.ops.DenseAttention} (the exact baseline).
 * Model graphs call them through {@code Scope.call(SearchStep.FUNCTION, ...)} etc.; each class also
 * carries a thin runner that owns one session per graph and feeds it {@link dev.arbor.onnx.TensorData},
 * zero-copy for direct buffers.
 */
package dev.arbor.ops;
