package dev.arbor.weights;

/**
 * One transformer block. Matrices are row-major {@code [out][in]} as in llama2.c, with query and key
 * rows in the interleaved order that rotates adjacent pairs.
 */
public record LayerWeights(
        float[] attentionNorm, float[] wq, float[] wk, float[] wv, float[] wo,
        float[] ffnNorm, float[] gate, float[] down, float[] up) {}
