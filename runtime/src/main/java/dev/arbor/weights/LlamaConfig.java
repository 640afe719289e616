package dev.arbor.weights;

/**
 * The shape of a Llama-family decoder: RMSNorm, rotary positions on adjacent pairs, SwiGLU MLP and
 * grouped-query attention.
 *
 * @param dim model width
 * @param hiddenDim SwiGLU hidden width
 * @param layers number of transformer blocks
 * @param heads query heads
 * @param kvHeads key/value heads; each serves {@code heads / kvHeads} query heads
 * @param vocabSize tokens in the vocabulary
 * @param trainedContext sequence length the model was trained on (positions beyond it still work)
 * @param rmsEps epsilon inside RMSNorm
 * @param ropeTheta base of the rotary frequencies
 */
public record LlamaConfig(
        int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocabSize, int trainedContext,
        float rmsEps, float ropeTheta) {

    public LlamaConfig {
        if (dim <= 0 || hiddenDim <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocabSize <= 0) {
            throw new IllegalArgumentException("every model dimension must be positive: " + describe(
                    dim, hiddenDim, layers, heads, kvHeads, vocabSize));
        }
        if (dim % heads != 0) {
            throw new IllegalArgumentException("dim " + dim + " is not divisible by " + heads + " heads");
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(heads + " query heads cannot be shared evenly by " + kvHeads + " kv heads");
        }
        if ((dim / heads) % 2 != 0) {
            throw new IllegalArgumentException("head size " + dim / heads + " must be even for rotary positions");
        }
    }

    public int headSize() {
        return dim / heads;
    }

    public int kvDim() {
        return kvHeads * headSize();
    }

    /** Query heads that share one key/value head. */
    public int groupSize() {
        return heads / kvHeads;
    }

    private static String describe(int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocab) {
        return "dim=" + dim + " hidden=" + hiddenDim + " layers=" + layers + " heads=" + heads
                + " kvHeads=" + kvHeads + " vocab=" + vocab;
    }
}
