package dev.arbor.encoder;

/** Small vector arithmetic shared by the encoder and retrieval. */
public final class Vectors {
    private Vectors() {}

    /** {@code v} scaled in place to unit length (left as is when it is all zeros), returned for chaining. */
    public static float[] normalised(float[] v) {
        double norm = Math.sqrt(dot(v, v));
        if (norm > 0) {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (v[i] / norm);
            }
        }
        return v;
    }

    public static double dot(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }
}
