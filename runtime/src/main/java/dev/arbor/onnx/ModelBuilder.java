package dev.arbor.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds an ONNX model: one main graph plus the model-local functions it calls, with opset imports for
 * the standard domain and for every custom domain used.
 *
 * <pre>{@code
 * ModelBuilder model = ModelBuilder.named("dense_attention");
 * GraphBuilder g = model.graph();
 * String x = g.input("x", ElementType.FLOAT, Shape.of("N", 4));
 * g.output(g.op("Relu", x), ElementType.FLOAT, Shape.of("N", 4));
 * OnnxModel built = model.build();
 * }</pre>
 *
 * <p>When the system property {@value OnnxModel#DUMP_DIR_PROPERTY} names a directory, every built model
 * is also written there as {@code <name>.onnx} for inspection in Netron.
 */
public final class ModelBuilder {
    /** The default standard opset: supported by ONNX Runtime 1.29 and has axes-as-input reductions. */
    public static final int DEFAULT_OPSET = 18;
    /** Version of every custom domain Arbor defines. */
    public static final int CUSTOM_DOMAIN_VERSION = 1;
    private static final String PRODUCER = "arbor";
    /** Protobuf's limit for one message, less room for the graph's own structure. */
    private static final long MAX_MODEL_BYTES = Integer.MAX_VALUE - (64L << 20);

    private final String name;
    private int opset = DEFAULT_OPSET;
    private String doc = "";
    private final GraphBuilder graph = new GraphBuilder();
    private final Map<String, OnnxFunction> functions = new LinkedHashMap<>();

    private ModelBuilder(String name) {
        if (name == null || !name.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("a model name must be letters, digits, '_', '.' or '-' (it names the"
                    + " dump file), got '" + name + "'");
        }
        this.name = name;
    }

    public static ModelBuilder named(String name) {
        return new ModelBuilder(name);
    }

    /** The standard ONNX opset the graph and its functions use. */
    public ModelBuilder opset(int version) {
        if (version < 13) {
            throw new IllegalArgumentException("opset " + version + " is too old: Arbor's graphs need opset 13 or later");
        }
        this.opset = version;
        return this;
    }

    public ModelBuilder doc(String doc) {
        this.doc = doc;
        return this;
    }

    /** The model's main graph, to add inputs, initializers, nodes and outputs to. */
    public GraphBuilder graph() {
        return graph;
    }

    /** Includes a function even if the graph does not call it (called functions are included anyway). */
    public ModelBuilder function(OnnxFunction function) {
        include(function);
        return this;
    }

    public OnnxModel build() {
        if (graph.initializerBytes() > MAX_MODEL_BYTES) {
            throw new IllegalStateException("model '" + name + "' embeds " + graph.initializerBytes()
                    + " bytes of weights, over the 2 GiB a protobuf model can hold; split it into smaller graphs"
                    + " (e.g. one per layer)");
        }
        graph.calledFunctions().forEach(this::include);
        List<OperatorSetIdProto> imports = opsetImports();
        ModelProto.Builder model = ModelProto.newBuilder()
                .setIrVersion(irVersion(opset))
                .setProducerName(PRODUCER)
                .setDocString(doc)
                .addAllOpsetImport(imports)
                .setGraph(graph.toProto(name));
        for (OnnxFunction function : functions.values()) {
            model.addFunctions(function.body().toBuilder().addAllOpsetImport(imports));
        }
        OnnxModel built = new OnnxModel(name, model.build().toByteArray());
        built.dumpIfRequested();
        return built;
    }

    private void include(OnnxFunction function) {
        OnnxFunction known = functions.get(function.qualifiedName());
        if (known != null && !known.equals(function)) {
            throw new IllegalArgumentException("two different functions are both named "
                    + function.qualifiedName() + " in model '" + name + "'");
        }
        if (known == null) {
            function.calls().forEach(this::include);
            functions.put(function.qualifiedName(), function);
        }
    }

    private List<OperatorSetIdProto> opsetImports() {
        Map<String, Integer> versions = new LinkedHashMap<>();
        versions.put("", opset);
        for (OnnxFunction function : functions.values()) {
            versions.put(function.domain(), CUSTOM_DOMAIN_VERSION);
        }
        return versions.entrySet().stream()
                .map(e -> OperatorSetIdProto.newBuilder().setDomain(e.getKey()).setVersion(e.getValue()).build())
                .toList();
    }

    /** The lowest IR version that admits the opset, so older tools can still open the file. */
    private static int irVersion(int opset) {
        if (opset <= 18) {
            return 8;
        }
        if (opset <= 20) {
            return 9;
        }
        return opset <= 22 ? 10 : 11;
    }
}
