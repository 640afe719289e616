package dev.arbor.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;

/**
 * A host tensor about to be fed to ONNX Runtime: a buffer's remaining elements plus a shape. Checked on
 * construction, so a mismatch is reported with the tensor's name rather than by the native library.
 *
 * <p>Zero copy: a <em>direct</em> buffer (including a memory-mapped KV store segment) is handed to ONNX
 * Runtime as it is, starting at its position; it must be in native byte order, which is checked because
 * ONNX Runtime would silently misread it otherwise. Heap buffers are copied once per tensor.
 *
 * <p>ONNX Runtime's Java API addresses one tensor's bytes with an {@code int}, so no tensor may exceed
 * {@value #MAX_BYTES} bytes (just under 2 GiB); bigger stores are fed in segments.
 *
 * @param name what the tensor is called in error messages (usually the graph input's name)
 * @param type element type: FLOAT, INT64 or BOOL (one byte per element)
 * @param data the elements, from the buffer's position to its limit
 * @param shape the tensor's dimensions
 */
public record TensorData(String name, ElementType type, Buffer data, long[] shape) {
    /** Largest tensor, in bytes, that ONNX Runtime's Java API accepts from a buffer. */
    public static final long MAX_BYTES = Integer.MAX_VALUE - 64L;

    public TensorData {
        shape = shape.clone();
        Class<? extends Buffer> expected = switch (type) {
            case FLOAT -> FloatBuffer.class;
            case INT64 -> LongBuffer.class;
            case BOOL -> ByteBuffer.class;
            default -> throw new IllegalArgumentException(
                    "tensor '" + name + "': " + type + " tensors cannot be fed from a buffer; use FLOAT, INT64 or BOOL");
        };
        if (!expected.isInstance(data)) {
            throw new IllegalArgumentException("tensor '" + name + "' is " + type + " but its data is a "
                    + data.getClass().getSimpleName() + "; expected a " + expected.getSimpleName());
        }
        long count = elementCount(name, shape);
        long bytes = count * elementBytes(type);
        if (count > MAX_BYTES || bytes > MAX_BYTES) {
            throw new IllegalArgumentException("tensor '" + name + "' of shape " + Arrays.toString(shape) + " would take "
                    + (count > MAX_BYTES ? "over 2 GiB" : bytes + " bytes") + "; ONNX Runtime takes at most "
                    + MAX_BYTES + " bytes (2 GiB) per tensor, so feed the store in smaller segments");
        }
        if (data.remaining() != count) {
            throw new IllegalArgumentException("tensor '" + name + "' of shape " + Arrays.toString(shape) + " needs "
                    + count + " elements, but its buffer holds " + data.remaining());
        }
        if (data.isDirect() && byteOrder(data) != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("tensor '" + name + "' is a direct buffer in " + byteOrder(data)
                    + " byte order; ONNX Runtime reads it in place and needs " + ByteOrder.nativeOrder()
                    + " (use ByteBuffer.order(ByteOrder.nativeOrder()) before asFloatBuffer())");
        }
    }

    public static TensorData floats(String name, FloatBuffer data, long... shape) {
        return new TensorData(name, ElementType.FLOAT, data, shape);
    }

    public static TensorData floats(String name, float[] data, long... shape) {
        return floats(name, FloatBuffer.wrap(data), shape);
    }

    public static TensorData longs(String name, LongBuffer data, long... shape) {
        return new TensorData(name, ElementType.INT64, data, shape);
    }

    public static TensorData longs(String name, long[] data, long... shape) {
        return longs(name, LongBuffer.wrap(data), shape);
    }

    /** A boolean tensor stored one byte per element (0 is false), as ONNX Runtime lays it out. */
    public static TensorData bools(String name, ByteBuffer data, long... shape) {
        return new TensorData(name, ElementType.BOOL, data, shape);
    }

    public static TensorData bools(String name, boolean[] data, long... shape) {
        ByteBuffer bytes = ByteBuffer.allocateDirect(data.length).order(ByteOrder.nativeOrder());
        for (boolean value : data) {
            bytes.put((byte) (value ? 1 : 0));
        }
        return bools(name, bytes.flip(), shape);
    }

    /** The same data and shape under another name, e.g. the graph input it feeds. */
    public TensorData withName(String newName) {
        return new TensorData(newName, type, data, shape);
    }

    /** The size of dimension {@code axis}. */
    public long dim(int axis) {
        return shape[axis];
    }

    public int rank() {
        return shape.length;
    }

    /** Whether ONNX Runtime will read this tensor in place rather than from a copy. */
    public boolean zeroCopy() {
        return data.isDirect();
    }

    /** Wraps the data as an ONNX Runtime tensor; the caller closes it. */
    public OnnxTensor toOrt(OrtEnvironment environment) throws OrtException {
        return switch (type) {
            case FLOAT -> OnnxTensor.createTensor(environment, (FloatBuffer) data, shape);
            case INT64 -> OnnxTensor.createTensor(environment, (LongBuffer) data, shape);
            case BOOL -> OnnxTensor.createTensor(environment, (ByteBuffer) data, shape, OnnxJavaType.BOOL);
            default -> throw new IllegalStateException("unreachable: the constructor admits only FLOAT, INT64 and BOOL");
        };
    }

    @Override
    public String toString() {
        return name + type + Arrays.toString(shape);
    }

    private static long elementCount(String name, long[] shape) {
        long count = 1;
        for (long dimension : shape) {
            if (dimension < 0) {
                throw new IllegalArgumentException(
                        "tensor '" + name + "' has a negative dimension in shape " + Arrays.toString(shape));
            }
            count = dimension != 0 && count > Long.MAX_VALUE / dimension ? Long.MAX_VALUE : count * dimension;
        }
        return count;
    }

    private static int elementBytes(ElementType type) {
        return switch (type) {
            case FLOAT, INT32 -> 4;
            case INT64 -> 8;
            case FLOAT16 -> 2;
            case BOOL -> 1;
        };
    }

    private static ByteOrder byteOrder(Buffer buffer) {
        return switch (buffer) {
            case FloatBuffer b -> b.order();
            case LongBuffer b -> b.order();
            case ByteBuffer b -> ByteOrder.nativeOrder();
            default -> ByteOrder.nativeOrder();
        };
    }
}
