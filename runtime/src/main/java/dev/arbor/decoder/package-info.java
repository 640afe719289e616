/**
 * The Llama-family decoder: {@link dev.arbor.decoder.Checkpoint} loads weights and tokenizer from GGUF,
 * llama2.c or Hugging Face files; {@link dev.arbor.decoder.LlamaModel} builds per-layer ONNX graphs from
 * the weights and runs them in ONNX Runtime, appending each layer's keys and values to a
 * {@link dev.arbor.decoder.DecoderContext}; {@link dev.arbor.decoder.Generator} samples text from it.
 *
 * <p>Each request chooses {@link dev.arbor.decoder.AttentionMode#EXACT} (dense attention over every
 * cached key, in an ONNX graph reading the store without a copy) or
 * {@link dev.arbor.decoder.AttentionMode#TREE} (sinks + window + top-k + coarse summaries through one
 * {@link dev.arbor.tree.AttentionTree} per layer and kv head), so every quality claim of tree attention
 * can be checked against exact attention in the same process.
 */
package dev.arbor.decoder;
