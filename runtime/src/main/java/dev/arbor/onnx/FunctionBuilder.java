package dev.arbor.onnx;

import ai.onnx.proto.OnnxMl.FunctionProto;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a model-local ONNX function: a named operator in a custom domain (by default {@code ai.arbor})
 * whose body is composed of standard ops. ONNX Runtime inlines the body when it loads the model, so a
 * custom op costs nothing at run time and needs no native code.
 *
 * <pre>{@code
 * FunctionBuilder f = FunctionBuilder.named("ScaledDot");
 * String q = f.input("q"), k = f.input("k"), s = f.input("scale");
 * f.output("score", f.op("Mul", f.op("MatMul", k, q), s));
 * OnnxFunction scaledDot = f.build();
 * }</pre>
 *
 * <p>Function inputs carry no types: ONNX infers them from the call site.
 */
public final class FunctionBuilder extends Scope {
    /** The domain of Arbor's own operators. */
    public static final String ARBOR_DOMAIN = "ai.arbor";

    private final String name;
    private String domain = ARBOR_DOMAIN;
    private String doc = "";
    private final List<String> inputs = new ArrayList<>();
    private final List<String> outputs = new ArrayList<>();

    private FunctionBuilder(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a function needs a name, e.g. 'SearchStep'");
        }
        this.name = name;
    }

    public static FunctionBuilder named(String name) {
        return new FunctionBuilder(name);
    }

    public FunctionBuilder domain(String domain) {
        if (domain == null || domain.isBlank()) {
            throw new IllegalArgumentException("a function needs a custom domain such as '" + ARBOR_DOMAIN + "'");
        }
        this.domain = domain;
        return this;
    }

    /** Documentation shown by Netron and other tools. */
    public FunctionBuilder doc(String doc) {
        this.doc = doc;
        return this;
    }

    /** Declares the next formal input and returns its name for use in the body. */
    public String input(String name) {
        inputs.add(define(name));
        return name;
    }

    /** Declares the next formal output, computed as {@code value} (renamed through Identity if needed). */
    public FunctionBuilder output(String name, String value) {
        if (!isDefined(value)) {
            throw new IllegalArgumentException("function " + domain + "." + this.name + " cannot output '"
                    + value + "': nothing in its body defines it");
        }
        outputs.add(name.equals(value) ? value : node("Identity").inputs(value).output(name));
        return this;
    }

    public OnnxFunction build() {
        if (outputs.isEmpty()) {
            throw new IllegalStateException("function " + domain + "." + name + " has no outputs");
        }
        FunctionProto body = FunctionProto.newBuilder()
                .setName(name)
                .setDomain(domain)
                .setDocString(doc)
                .addAllInput(inputs)
                .addAllOutput(outputs)
                .addAllNode(nodes())
                .build();
        return new OnnxFunction(domain, name, List.copyOf(inputs), List.copyOf(outputs), body,
                List.copyOf(calledFunctions()));
    }

    @Override
    String kind() {
        return "function " + domain + "." + name;
    }
}
