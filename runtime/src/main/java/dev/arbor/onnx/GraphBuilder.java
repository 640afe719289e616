package dev.arbor.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The main graph of a model: typed inputs, initializers (weights, which become session initializers in
 * ONNX Runtime), nodes and typed outputs. Obtained from {@link ModelBuilder#graph()}.
 */
public final class GraphBuilder extends Scope {
    private final List<ValueInfoProto> inputs = new ArrayList<>();
    private final List<ValueInfoProto> outputs = new ArrayList<>();
    private final List<TensorProto> initializers = new ArrayList<>();
    private long initializerBytes;

    GraphBuilder() {}

    /** Declares a graph input fed at run time, e.g. {@code input("keys", FLOAT, Shape.of("H", "N", 64))}. */
    public String input(String name, ElementType type, Shape shape) {
        inputs.add(valueInfo(define(name), type, shape));
        return name;
    }

    /** A float weight; copied into the model now, so the array may be reused afterwards. */
    public String initializer(String name, float[] values, long... shape) {
        return initializer(name, FloatBuffer.wrap(values), shape);
    }

    /** A float weight read from the buffer's remaining elements (heap, direct or mapped) without moving it. */
    public String initializer(String name, FloatBuffer values, long... shape) {
        return addInitializer(TensorProtos.floats(define(name), values, shape));
    }

    /** An int64 initializer, e.g. token ids or a shape. */
    public String initializer(String name, long[] values, long... shape) {
        return addInitializer(TensorProtos.longs(define(name), values, shape));
    }

    /** Marks a value as a graph output under its own name. */
    public void output(String value, ElementType type, Shape shape) {
        checkDefined(value);
        outputs.add(valueInfo(value, type, shape));
    }

    /** Marks a value as a graph output under the given name (adding an Identity node when the names differ). */
    public void output(String name, String value, ElementType type, Shape shape) {
        checkDefined(value);
        String exposed = name.equals(value) ? value : node("Identity").inputs(value).output(name);
        outputs.add(valueInfo(exposed, type, shape));
    }

    private String addInitializer(TensorProto tensor) {
        initializers.add(tensor);
        initializerBytes += tensor.getRawData().size();
        return tensor.getName();
    }

    /** Bytes of weights embedded so far; a model must stay under protobuf's 2 GiB. */
    long initializerBytes() {
        return initializerBytes;
    }

    GraphProto toProto(String name) {
        if (outputs.isEmpty()) {
            throw new IllegalStateException("graph '" + name + "' has no outputs; mark at least one with output(...)");
        }
        return GraphProto.newBuilder()
                .setName(name)
                .addAllInput(inputs)
                .addAllInitializer(initializers)
                .addAllNode(nodes())
                .addAllOutput(outputs)
                .build();
    }

    @Override
    String kind() {
        return "graph";
    }

    private void checkDefined(String value) {
        if (!isDefined(value)) {
            throw new IllegalArgumentException("cannot output '" + value + "': no input, initializer or node defines it");
        }
    }

    private static ValueInfoProto valueInfo(String name, ElementType type, Shape shape) {
        TypeProto.Tensor.Builder tensor = TypeProto.Tensor.newBuilder().setElemType(type.onnx().getNumber());
        if (shape.isKnown()) {
            tensor.setShape(shape.toProto());
        }
        return ValueInfoProto.newBuilder()
                .setName(name)
                .setType(TypeProto.newBuilder().setTensorType(tensor))
                .build();
    }
}
