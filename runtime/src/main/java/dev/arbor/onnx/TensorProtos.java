package dev.arbor.onnx;

import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/** Encodes Java arrays and buffers as ONNX tensors (little-endian raw data, as the format requires). */
final class TensorProtos {
    private TensorProtos() {}

    static TensorProto floats(String name, FloatBuffer values, long... shape) {
        FloatBuffer source = values.duplicate();
        checkCount(name, source.remaining(), shape);
        ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(source.remaining(), Float.BYTES))
                .order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(source);
        return tensor(name, ElementType.FLOAT, bytes, shape);
    }

    static TensorProto longs(String name, long[] values, long... shape) {
        checkCount(name, values.length, shape);
        ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(values.length, Long.BYTES))
                .order(ByteOrder.LITTLE_ENDIAN);
        bytes.asLongBuffer().put(values);
        return tensor(name, ElementType.INT64, bytes, shape);
    }

    private static TensorProto tensor(String name, ElementType type, ByteBuffer bytes, long[] shape) {
        TensorProto.Builder tensor = TensorProto.newBuilder().setDataType(type.onnx().getNumber()).setRawData(
                ByteString.copyFrom(bytes.array()));
        if (name != null) {
            tensor.setName(name);
        }
        for (long dimension : shape) {
            tensor.addDims(dimension);
        }
        return tensor.build();
    }

    private static void checkCount(String name, long count, long[] shape) {
        long expected = 1;
        for (long dimension : shape) {
            if (dimension < 0) {
                throw new IllegalArgumentException(
                        "tensor '" + name + "' has a negative dimension in shape " + Arrays.toString(shape));
            }
            expected = Math.multiplyExact(expected, dimension);
        }
        if (expected != count) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + count + " values but shape "
                    + Arrays.toString(shape) + " needs " + expected);
        }
    }
}
