package dev.arbor.weights;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads llama2.c's legacy checkpoint ({@code run.c}'s format): seven int32 header fields, then float32
 * arrays grouped by kind across layers. A positive vocabulary size means the classifier is the
 * token embedding; a negative one means a separate classifier follows the RoPE tables.
 */
public final class Llama2cCheckpoint {
    private static final int HEADER_BYTES = 7 * Integer.BYTES;
    private static final int VERSIONED_MAGIC = 0x616b3432;

    private Llama2cCheckpoint() {}

    public static LlamaWeights load(Path path) {
        try (MappedFile file = MappedFile.open(path)) {
            ByteBuffer header = file.map(0, HEADER_BYTES, "the 28-byte header");
            if (header.getInt(0) == VERSIONED_MAGIC) {
                throw new ModelFileException(path, "llama2.c export version " + header.getInt(4)
                        + " is not supported; export with the legacy (version 0) format");
            }
            int dim = header.getInt(0);
            int hidden = header.getInt(4);
            int layers = header.getInt(8);
            int heads = header.getInt(12);
            int kvHeads = header.getInt(16);
            int vocabField = header.getInt(20);
            int seqLen = header.getInt(24);
            LlamaConfig config = config(path, dim, hidden, layers, heads, kvHeads, Math.abs(vocabField), seqLen);
            return new Reader(file, config).read(vocabField > 0).validated(path);
        }
    }

    private static LlamaConfig config(Path path, int dim, int hidden, int layers, int heads, int kvHeads, int vocab, int seqLen) {
        try {
            return new LlamaConfig(dim, hidden, layers, heads, kvHeads, vocab, seqLen, 1e-5f, 10000f);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(path, "not a llama2.c checkpoint, its header is implausible: " + e.getMessage(), e);
        }
    }

    /** Walks the file front to back; each array's offset follows from the ones before it. */
    private static final class Reader {
        private final MappedFile file;
        private final LlamaConfig c;
        private long offset = HEADER_BYTES;

        Reader(MappedFile file, LlamaConfig config) {
            this.file = file;
            this.c = config;
            long expected = HEADER_BYTES + 4L * parameterCount();
            if (file.size() < expected) {
                throw new ModelFileException(file.path(), "truncated: the header describes " + expected
                        + " bytes of weights but the file has " + file.size());
            }
        }

        LlamaWeights read(boolean sharedClassifier) {
            int dim = c.dim();
            float[] embedding = next((long) c.vocabSize() * dim, "token embedding");
            float[][] attNorm = perLayer(dim, "rms_att");
            float[][] wq = perLayer((long) dim * dim, "wq");
            float[][] wk = perLayer((long) c.kvDim() * dim, "wk");
            float[][] wv = perLayer((long) c.kvDim() * dim, "wv");
            float[][] wo = perLayer((long) dim * dim, "wo");
            float[][] ffnNorm = perLayer(dim, "rms_ffn");
            float[][] w1 = perLayer((long) c.hiddenDim() * dim, "w1");
            float[][] w2 = perLayer((long) dim * c.hiddenDim(), "w2");
            float[][] w3 = perLayer((long) c.hiddenDim() * dim, "w3");
            float[] finalNorm = next(dim, "rms_final");
            offset += 4L * c.trainedContext() * c.headSize(); // freq_cis_real and _imag: RoPE is computed instead
            float[] classifier = sharedClassifier ? embedding : next((long) c.vocabSize() * dim, "wcls");
            List<LayerWeights> layers = new ArrayList<>();
            for (int l = 0; l < c.layers(); l++) {
                layers.add(new LayerWeights(attNorm[l], wq[l], wk[l], wv[l], wo[l], ffnNorm[l], w1[l], w2[l], w3[l]));
            }
            return new LlamaWeights(c, embedding, layers, finalNorm, classifier);
        }

        private long parameterCount() {
            long dim = c.dim();
            long perLayer = 2 * dim + 2 * dim * dim + 2 * c.kvDim() * dim + 3 * c.hiddenDim() * dim;
            return c.vocabSize() * dim + c.layers() * perLayer + dim;
        }

        private float[][] perLayer(long count, String what) {
            float[][] out = new float[c.layers()][];
            for (int l = 0; l < c.layers(); l++) {
                out[l] = next(count, what + "[" + l + "]");
            }
            return out;
        }

        private float[] next(long count, String what) {
            if (count > Integer.MAX_VALUE) {
                throw new ModelFileException(file.path(), what + " has more than 2^31 values");
            }
            float[] values = file.floats(offset, (int) count, TensorType.F32, what);
            offset += 4L * count;
            return values;
        }
    }
}
