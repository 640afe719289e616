package dev.arbor.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Where nodes are added: the body of a graph or of a function. Values are referred to by name; every
 * method that adds a node returns the names of its outputs, so graphs read like the arithmetic they do:
 * {@code String scores = g.op("MatMul", keys, query);}.
 *
 * <p>A node may only read values already defined in its scope (inputs, initializers, earlier nodes), so
 * a typo fails here with the name spelt out instead of later inside ONNX Runtime.
 */
public abstract sealed class Scope permits GraphBuilder, FunctionBuilder {
    private final List<NodeProto> nodes = new ArrayList<>();
    private final Set<String> defined = new HashSet<>();
    private final List<OnnxFunction> calledFunctions = new ArrayList<>();
    private int nodeCount;

    Scope() {}

    /** Starts a node of the given standard operator; finish it with {@link NodeBuilder#output()} or siblings. */
    public NodeBuilder node(String opType) {
        return new NodeBuilder(this, opType);
    }

    /** Adds a single-output node without attributes, e.g. {@code op("Add", a, b)}, and returns its output. */
    public String op(String opType, String... inputs) {
        return node(opType).inputs(inputs).output();
    }

    /** Adds a constant int64 vector (axes, shapes, sizes) and returns its name. */
    public String constant(long... values) {
        return constantNode(TensorProtos.longs(null, values, values.length));
    }

    /** Adds a constant int64 scalar (rank 0), e.g. a TopK size or a Gather index that drops an axis. */
    public String scalarLong(long value) {
        return constantNode(TensorProtos.longs(null, new long[] {value}));
    }

    /** Adds a constant float scalar (rank 0), which broadcasts against any tensor. */
    public String scalar(float value) {
        return constantNode(TensorProtos.floats(null, FloatBuffer.wrap(new float[] {value})));
    }

    /** Adds a constant float tensor of the given shape. */
    public String constant(float[] values, long... shape) {
        return constantNode(TensorProtos.floats(null, FloatBuffer.wrap(values), shape));
    }

    /**
     * Calls a model-local function (e.g. one of the {@code ai.arbor} tree ops) and returns its outputs in
     * declaration order. The function travels with the model: the model builder includes it.
     */
    public List<String> call(OnnxFunction function, String... inputs) {
        if (inputs.length != function.inputs().size()) {
            throw new IllegalArgumentException(function.qualifiedName() + " takes " + function.inputs().size()
                    + " inputs " + function.inputs() + ", got " + inputs.length + ": " + Arrays.toString(inputs));
        }
        if (!calledFunctions.contains(function)) {
            calledFunctions.add(function);
        }
        return node(function.name()).domain(function.domain()).inputs(inputs).outputs(function.outputs().size());
    }

    /** {@link #call(OnnxFunction, String...)} with the inputs in a list. */
    public List<String> call(OnnxFunction function, List<String> inputs) {
        return call(function, inputs.toArray(String[]::new));
    }

    private String constantNode(ai.onnx.proto.OnnxMl.TensorProto value) {
        return node("Constant")
                .attribute(AttributeProto.newBuilder()
                        .setName("value")
                        .setType(AttributeProto.AttributeType.TENSOR)
                        .setT(value))
                .output();
    }

    /** A fresh value or node name derived from a hint, unique within this scope. */
    String freshName(String hint) {
        String base = hint.toLowerCase(Locale.ROOT);
        String name;
        do {
            name = base + "_" + nodeCount++;
        } while (defined.contains(name));
        return name;
    }

    /** Declares a named value (input or initializer); names must be unique within a scope. */
    String define(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a value needs a non-blank name");
        }
        if (!defined.add(name)) {
            throw new IllegalArgumentException("the name '" + name + "' is already used in this "
                    + kind() + "; every value needs its own name");
        }
        return name;
    }

    boolean isDefined(String name) {
        return defined.contains(name);
    }

    void add(NodeProto node) {
        for (String input : node.getInputList()) {
            // An empty name is ONNX's way to skip an optional input.
            if (!input.isEmpty() && !defined.contains(input)) {
                throw new IllegalArgumentException("node " + node.getOpType() + " ('" + node.getName()
                        + "') reads '" + input + "', which no input, initializer or earlier node of this "
                        + kind() + " defines");
            }
        }
        for (String output : node.getOutputList()) {
            if (!output.isEmpty()) {
                define(output);
            }
        }
        nodes.add(node);
    }

    List<NodeProto> nodes() {
        return nodes;
    }

    List<OnnxFunction> calledFunctions() {
        return calledFunctions;
    }

    abstract String kind();
}
