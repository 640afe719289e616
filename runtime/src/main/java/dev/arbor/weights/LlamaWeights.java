package dev.arbor.weights;

import java.nio.file.Path;
import java.util.List;

/**
 * All weights of a Llama-family decoder in one layout, whichever file they came from: matrices
 * row-major {@code [out][in]}, RoPE on adjacent pairs. Loaders check every array against the config.
 */
public record LlamaWeights(
        LlamaConfig config, float[] tokenEmbedding, List<LayerWeights> layers, float[] finalNorm, float[] classifier) {

    public LlamaWeights {
        layers = List.copyOf(layers);
    }

    /** Checks every array length against the config, naming {@code file} and the tensor that disagrees. */
    public LlamaWeights validated(Path file) {
        LlamaConfig c = config;
        expect(file, "token embedding", tokenEmbedding, (long) c.vocabSize() * c.dim());
        expect(file, "final norm", finalNorm, c.dim());
        expect(file, "classifier", classifier, (long) c.vocabSize() * c.dim());
        if (layers.size() != c.layers()) {
            throw new ModelFileException(file, "config says " + c.layers() + " layers but " + layers.size() + " were found");
        }
        for (int i = 0; i < layers.size(); i++) {
            LayerWeights l = layers.get(i);
            String p = "layer " + i + " ";
            expect(file, p + "attention norm", l.attentionNorm(), c.dim());
            expect(file, p + "query projection", l.wq(), (long) c.dim() * c.dim());
            expect(file, p + "key projection", l.wk(), (long) c.kvDim() * c.dim());
            expect(file, p + "value projection", l.wv(), (long) c.kvDim() * c.dim());
            expect(file, p + "output projection", l.wo(), (long) c.dim() * c.dim());
            expect(file, p + "ffn norm", l.ffnNorm(), c.dim());
            expect(file, p + "gate projection", l.gate(), (long) c.hiddenDim() * c.dim());
            expect(file, p + "down projection", l.down(), (long) c.dim() * c.hiddenDim());
            expect(file, p + "up projection", l.up(), (long) c.hiddenDim() * c.dim());
        }
        return this;
    }

    private static void expect(Path file, String what, float[] values, long expected) {
        if (values == null) {
            throw new ModelFileException(file, what + " is missing");
        }
        if (values.length != expected) {
            throw new ModelFileException(file, what + " has " + values.length + " values but the config implies "
                    + expected + " (config does not match the weights)");
        }
    }
}
