package dev.arbor.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import ai.onnx.proto.OnnxMl.NodeProto;
import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One node being configured: inputs, attributes, then outputs. The node joins its scope when its
 * outputs are requested, e.g. {@code g.node("Softmax").inputs(logits).attr("axis", -1).output()}.
 */
public final class NodeBuilder {
    private final Scope scope;
    private final NodeProto.Builder node;

    NodeBuilder(Scope scope, String opType) {
        if (opType == null || opType.isBlank()) {
            throw new IllegalArgumentException("a node needs an operator type such as 'MatMul'");
        }
        this.scope = scope;
        this.node = NodeProto.newBuilder().setOpType(opType).setName(scope.freshName(opType));
    }

    /** The operator's domain; the standard ONNX domain unless set (e.g. {@code ai.arbor}). */
    public NodeBuilder domain(String domain) {
        node.setDomain(domain);
        return this;
    }

    public NodeBuilder inputs(String... names) {
        for (String name : names) {
            node.addInput(name);
        }
        return this;
    }

    public NodeBuilder attr(String name, long value) {
        return attribute(AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(value));
    }

    public NodeBuilder attr(String name, float value) {
        return attribute(AttributeProto.newBuilder().setName(name).setType(AttributeType.FLOAT).setF(value));
    }

    public NodeBuilder attr(String name, String value) {
        return attribute(AttributeProto.newBuilder().setName(name).setType(AttributeType.STRING)
                .setS(ByteString.copyFrom(value, StandardCharsets.UTF_8)));
    }

    public NodeBuilder attrInts(String name, long... values) {
        AttributeProto.Builder attribute = AttributeProto.newBuilder().setName(name).setType(AttributeType.INTS);
        for (long value : values) {
            attribute.addInts(value);
        }
        return attribute(attribute);
    }

    /** Any attribute the typed helpers do not cover, e.g. a tensor or a graph. */
    public NodeBuilder attribute(AttributeProto.Builder attribute) {
        node.addAttribute(attribute);
        return this;
    }

    /** Adds the node with one output and returns the output's generated name. */
    public String output() {
        return outputs(1).get(0);
    }

    /** Adds the node with one output of the given name (useful for graph outputs). */
    public String output(String name) {
        node.addOutput(name);
        scope.add(node.build());
        return name;
    }

    /** Adds the node with {@code count} outputs and returns their generated names in order. */
    public List<String> outputs(int count) {
        List<String> names = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String name = node.getName() + (count == 1 ? "" : "_" + i);
            names.add(name);
            node.addOutput(name);
        }
        scope.add(node.build());
        return List.copyOf(names);
    }
}
