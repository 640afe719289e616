package dev.arbor.decoder;

import dev.arbor.weights.LayerWeights;
import dev.arbor.weights.LlamaConfig;
import dev.arbor.weights.LlamaWeights;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain-Java Llama forward pass with dense attention, written for the tests as an independent
 * reference: one token at a time, every loop spelt out, nothing shared with the ONNX graphs.
 */
final class ReferenceLlama {
    private final LlamaWeights w;
    private final LlamaConfig c;
    private final List<float[][]> keys = new ArrayList<>();
    private final List<float[][]> values = new ArrayList<>();
    private int position;

    ReferenceLlama(LlamaWeights weights, int maxPositions) {
        this.w = weights;
        this.c = weights.config();
        for (int l = 0; l < c.layers(); l++) {
            keys.add(new float[maxPositions][]);
            values.add(new float[maxPositions][]);
        }
    }

    float[] forward(int token) {
        int dim = c.dim();
        int hs = c.headSize();
        float[] x = new float[dim];
        System.arraycopy(w.tokenEmbedding(), token * dim, x, 0, dim);
        for (int l = 0; l < c.layers(); l++) {
            LayerWeights lw = w.layers().get(l);
            float[] xb = rmsNorm(x, lw.attentionNorm());
            float[] q = matmul(lw.wq(), xb, dim, dim);
            float[] k = matmul(lw.wk(), xb, c.kvDim(), dim);
            float[] v = matmul(lw.wv(), xb, c.kvDim(), dim);
            rope(q, position);
            rope(k, position);
            keys.get(l)[position] = k;
            values.get(l)[position] = v;
            float[] out = new float[dim];
            for (int h = 0; h < c.heads(); h++) {
                int kvHead = h / c.groupSize();
                float[] scores = new float[position + 1];
                float max = Float.NEGATIVE_INFINITY;
                for (int t = 0; t <= position; t++) {
                    float s = 0;
                    for (int i = 0; i < hs; i++) {
                        s += q[h * hs + i] * keys.get(l)[t][kvHead * hs + i];
                    }
                    scores[t] = s / (float) Math.sqrt(hs);
                    max = Math.max(max, scores[t]);
                }
                float sum = 0;
                for (int t = 0; t <= position; t++) {
                    scores[t] = (float) Math.exp(scores[t] - max);
                    sum += scores[t];
                }
                for (int t = 0; t <= position; t++) {
                    for (int i = 0; i < hs; i++) {
                        out[h * hs + i] += scores[t] / sum * values.get(l)[t][kvHead * hs + i];
                    }
                }
            }
            float[] projected = matmul(lw.wo(), out, dim, dim);
            for (int i = 0; i < dim; i++) {
                x[i] += projected[i];
            }
            float[] hb = rmsNorm(x, lw.ffnNorm());
            float[] gate = matmul(lw.gate(), hb, c.hiddenDim(), dim);
            float[] up = matmul(lw.up(), hb, c.hiddenDim(), dim);
            for (int i = 0; i < gate.length; i++) {
                gate[i] = gate[i] / (1f + (float) Math.exp(-gate[i])) * up[i];
            }
            float[] down = matmul(lw.down(), gate, dim, c.hiddenDim());
            for (int i = 0; i < dim; i++) {
                x[i] += down[i];
            }
        }
        position++;
        return matmul(w.classifier(), rmsNorm(x, w.finalNorm()), c.vocabSize(), dim);
    }

    private float[] rmsNorm(float[] x, float[] weight) {
        float ss = 0;
        for (float v : x) {
            ss += v * v;
        }
        float scale = 1f / (float) Math.sqrt(ss / x.length + c.rmsEps());
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = weight[i] * x[i] * scale;
        }
        return out;
    }

    private void rope(float[] vec, int pos) {
        int hs = c.headSize();
        for (int i = 0; i < vec.length; i += 2) {
            int headDim = i % hs;
            double angle = pos / Math.pow(c.ropeTheta(), headDim / (double) hs);
            float cos = (float) Math.cos(angle);
            float sin = (float) Math.sin(angle);
            float a = vec[i];
            float b = vec[i + 1];
            vec[i] = a * cos - b * sin;
            vec[i + 1] = a * sin + b * cos;
        }
    }

    private static float[] matmul(float[] matrix, float[] x, int rows, int cols) {
        float[] out = new float[rows];
        for (int r = 0; r < rows; r++) {
            float s = 0;
            for (int i = 0; i < cols; i++) {
                s += matrix[r * cols + i] * x[i];
            }
            out[r] = s;
        }
        return out;
    }
}
