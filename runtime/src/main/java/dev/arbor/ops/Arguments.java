package dev.arbor.ops;

import dev.arbor.onnx.ElementType;
import dev.arbor.onnx.TensorData;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;

/** Argument checks shared by the op runners, phrased for the person who passed the wrong tensor. */
final class Arguments {
    private Arguments() {}

    /** Checks type and rank and returns the tensor renamed after the graph input it feeds. */
    static TensorData check(TensorData tensor, String role, ElementType type, int rank) {
        if (tensor == null) {
            throw new IllegalArgumentException("'" + role + "' must be given");
        }
        if (tensor.type() != type || tensor.rank() != rank) {
            throw new IllegalArgumentException("'" + role + "' must be a rank-" + rank + " " + type + " tensor, got "
                    + tensor.type() + " of shape " + Arrays.toString(tensor.shape()));
        }
        return tensor.withName(role);
    }

    static void sameSize(String a, TensorData ta, int axisA, String b, TensorData tb, int axisB, String meaning) {
        if (ta.dim(axisA) != tb.dim(axisB)) {
            throw new IllegalArgumentException("'" + a + "' and '" + b + "' disagree on the " + meaning + ": "
                    + Arrays.toString(ta.shape()) + " vs " + Arrays.toString(tb.shape()));
        }
    }

    /** NaN would make every comparison false and silently poison the ranking. */
    static void noNaN(TensorData floats) {
        FloatBuffer values = ((FloatBuffer) floats.data()).duplicate();
        for (int i = 0; values.hasRemaining(); i++) {
            float v = values.get();
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException("'" + floats.name() + "' holds " + v + " at element " + i
                        + "; queries must be finite numbers");
            }
        }
    }

    static void idsInRange(TensorData ids, long bound, String what) {
        LongBuffer values = ((LongBuffer) ids.data()).duplicate();
        for (int i = 0; values.hasRemaining(); i++) {
            long id = values.get();
            if (id < 0 || id >= bound) {
                throw new IllegalArgumentException("'" + ids.name() + "' element " + i + " is " + id
                        + ", outside the " + bound + " " + what);
            }
        }
    }

    static boolean isSet(TensorData mask, int index) {
        ByteBuffer bytes = (ByteBuffer) mask.data();
        return bytes.get(bytes.position() + index) != 0;
    }
}
