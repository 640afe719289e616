package dev.arbor.onnx;

import ai.onnx.proto.OnnxMl.TensorShapeProto;
import java.util.Arrays;
import java.util.List;

/**
 * The declared shape of a graph input or output. Each dimension is either a fixed size or a symbolic
 * name such as {@code "N"}: inputs that share a symbol must agree at run time, which ONNX Runtime checks.
 *
 * @param dimensions {@link Long} sizes or {@link String} symbols; {@code null} when even the rank is unknown
 */
public record Shape(List<Object> dimensions) {

    public Shape {
        if (dimensions != null) {
            for (Object d : dimensions) {
                boolean fixed = d instanceof Long size && size >= 0;
                boolean symbolic = d instanceof String symbol && !symbol.isBlank();
                if (!fixed && !symbolic) {
                    throw new IllegalArgumentException(
                            "a dimension must be a size >= 0 or a non-blank symbol, got " + d + " in " + dimensions);
                }
            }
            dimensions = List.copyOf(dimensions);
        }
    }

    /** A shape from sizes ({@code Integer} or {@code Long}) and symbols ({@code String}); no arguments is a scalar. */
    public static Shape of(Object... dimensions) {
        return new Shape(Arrays.stream(dimensions)
                .map(d -> d instanceof Integer i ? (Object) i.longValue() : d)
                .toList());
    }

    /** A value whose rank and sizes are only known at run time. */
    public static Shape unknown() {
        return new Shape(null);
    }

    boolean isKnown() {
        return dimensions != null;
    }

    TensorShapeProto toProto() {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dimensions) {
            TensorShapeProto.Dimension.Builder dim = shape.addDimBuilder();
            if (d instanceof Long size) {
                dim.setDimValue(size);
            } else {
                dim.setDimParam((String) d);
            }
        }
        return shape.build();
    }

    @Override
    public String toString() {
        return dimensions == null ? "[?]" : dimensions.toString();
    }
}
