/**
 * Loading decoder weights into one layout, {@link dev.arbor.weights.LlamaWeights}: GGUF v2/v3
 * ({@link dev.arbor.weights.GgufFile}), llama2.c checkpoints ({@link dev.arbor.weights.Llama2cCheckpoint})
 * and Hugging Face {@code config.json} + {@code model.safetensors}
 * ({@link dev.arbor.weights.HuggingFaceCheckpoint}). Files are memory-mapped; F32, F16 and BF16 tensors are
 * widened to float32. Every failure is a {@link dev.arbor.weights.ModelFileException} naming the file.
 */
package dev.arbor.weights;
