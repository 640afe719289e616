package dev.arbor.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelBuilderTest {
    private final SessionFactory sessions = new SessionFactory(SessionSettings.builder().intraOpThreads(1).build());
    private final OrtEnvironment env = sessions.environment();

    /** y = relu(x · W + b) with W and b as initializers, over a symbolic batch size. */
    private static OnnxModel denseLayer(float[] w, float[] b) {
        ModelBuilder model = ModelBuilder.named("dense_layer");
        GraphBuilder g = model.graph();
        String x = g.input("x", ElementType.FLOAT, Shape.of("N", 3));
        String weight = g.initializer("w", w, 3, 2);
        String bias = g.initializer("b", FloatBuffer.wrap(b), 2);
        String y = g.op("Relu", g.op("Add", g.op("MatMul", x, weight), bias));
        g.output("y", y, ElementType.FLOAT, Shape.of("N", 2));
        return model.build();
    }

    @Test
    void aBuiltGraphComputesWhatJavaArithmeticComputes() throws Exception {
        float[] w = {0.5f, -1f, 2f, 0.25f, -0.75f, 1.5f};
        float[] b = {0.1f, -0.2f};
        Random random = new Random(7);
        for (int n : new int[] {1, 5}) {
            float[] x = new float[n * 3];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            float[] expected = new float[n * 2];
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < 2; c++) {
                    float sum = b[c];
                    for (int k = 0; k < 3; k++) {
                        sum += x[r * 3 + k] * w[k * 2 + c];
                    }
                    expected[r * 2 + c] = Math.max(0f, sum);
                }
            }
            try (OrtSession session = sessions.open(denseLayer(w, b));
                    OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {n, 3});
                    OrtSession.Result result = session.run(Map.of("x", input))) {
                float[][] y = (float[][]) result.get(0).getValue();
                for (int r = 0; r < n; r++) {
                    assertArrayEquals(java.util.Arrays.copyOfRange(expected, r * 2, r * 2 + 2), y[r], 1e-6f);
                }
            }
        }
    }

    @Test
    void aFunctionInTheArborDomainIsExecutedByOnnxRuntime() throws Exception {
        FunctionBuilder f = FunctionBuilder.named("ScaledSquare").doc("scale · x²");
        String x = f.input("x");
        String scale = f.input("scale");
        f.output("y", f.op("Mul", f.op("Mul", x, x), scale));
        OnnxFunction scaledSquare = f.build();

        ModelBuilder model = ModelBuilder.named("call_function");
        GraphBuilder g = model.graph();
        String input = g.input("x", ElementType.FLOAT, Shape.of(4));
        List<String> out = g.call(scaledSquare, input, g.scalar(3f));
        g.output("y", out.get(0), ElementType.FLOAT, Shape.of(4));
        OnnxModel built = model.build();

        ModelProto proto = built.proto();
        assertEquals("ai.arbor", proto.getFunctions(0).getDomain());
        assertTrue(proto.getOpsetImportList().stream().anyMatch(o -> o.getDomain().equals("ai.arbor")));
        assertEquals("ai.arbor", proto.getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("ScaledSquare")).findFirst().orElseThrow().getDomain());
        try (OrtSession session = sessions.open(built);
                OnnxTensor tensor = OnnxTensor.createTensor(env, new float[] {1f, -2f, 0.5f, 0f});
                OrtSession.Result result = session.run(Map.of("x", tensor))) {
            assertArrayEquals(new float[] {3f, 12f, 0.75f, 0f}, (float[]) result.get(0).getValue(), 1e-6f);
        }
    }

    @Test
    void functionsCallingFunctionsTravelTogether() throws Exception {
        FunctionBuilder inner = FunctionBuilder.named("Double");
        String a = inner.input("a");
        inner.output("b", inner.op("Add", a, a));
        OnnxFunction twice = inner.build();
        FunctionBuilder outer = FunctionBuilder.named("Quadruple");
        String x = outer.input("x");
        outer.output("y", outer.call(twice, outer.call(twice, x).get(0)).get(0));

        ModelBuilder model = ModelBuilder.named("nested_functions");
        GraphBuilder g = model.graph();
        String in = g.input("x", ElementType.FLOAT, Shape.of(2));
        g.output("y", g.call(outer.build(), in).get(0), ElementType.FLOAT, Shape.of(2));
        OnnxModel built = model.build();
        assertEquals(2, built.proto().getFunctionsCount());
        try (OrtSession session = sessions.open(built);
                OnnxTensor tensor = OnnxTensor.createTensor(env, new float[] {1f, -0.5f});
                OrtSession.Result result = session.run(Map.of("x", tensor))) {
            assertArrayEquals(new float[] {4f, -2f}, (float[]) result.get(0).getValue(), 0f);
        }
    }

    @Test
    void aWrittenModelReparsesAndTheDumpDirectoryReceivesEveryBuiltModel(@TempDir Path dir) throws Exception {
        OnnxModel built = denseLayer(new float[6], new float[2]);
        Path file = built.writeTo(dir.resolve("sub/dense.onnx"));
        ModelProto reparsed = ModelProto.parseFrom(Files.readAllBytes(file));
        assertEquals("dense_layer", reparsed.getGraph().getName());
        assertEquals(2, reparsed.getGraph().getInitializerCount());
        assertEquals(ModelBuilder.DEFAULT_OPSET, reparsed.getOpsetImport(0).getVersion());

        String previous = System.getProperty(OnnxModel.DUMP_DIR_PROPERTY);
        System.setProperty(OnnxModel.DUMP_DIR_PROPERTY, dir.resolve("dump").toString());
        try {
            denseLayer(new float[6], new float[2]);
        } finally {
            if (previous == null) {
                System.clearProperty(OnnxModel.DUMP_DIR_PROPERTY);
            } else {
                System.setProperty(OnnxModel.DUMP_DIR_PROPERTY, previous);
            }
        }
        Path dumped = dir.resolve("dump/dense_layer.onnx");
        assertTrue(Files.exists(dumped), "expected " + dumped);
        try (OrtSession session = sessions.open(dumped)) {
            assertEquals(List.of("x"), List.copyOf(session.getInputNames()));
        }
    }

    @Test
    void mistakesAreNamedWhereTheyAreMade() {
        GraphBuilder g = ModelBuilder.named("mistakes").graph();
        String x = g.input("x", ElementType.FLOAT, Shape.of(2));
        IllegalArgumentException typo = assertThrows(IllegalArgumentException.class, () -> g.op("Add", x, "xx"));
        assertTrue(typo.getMessage().contains("'xx'"), typo.getMessage());
        IllegalArgumentException duplicate = assertThrows(IllegalArgumentException.class,
                () -> g.input("x", ElementType.FLOAT, Shape.of(2)));
        assertTrue(duplicate.getMessage().contains("'x' is already used"), duplicate.getMessage());
        IllegalArgumentException wrongCount = assertThrows(IllegalArgumentException.class,
                () -> g.initializer("w", new float[5], 2, 3));
        assertTrue(wrongCount.getMessage().contains("5 values but shape [2, 3] needs 6"), wrongCount.getMessage());
        assertThrows(IllegalStateException.class, () -> ModelBuilder.named("empty").build());
        assertThrows(IllegalArgumentException.class, () -> ModelBuilder.named("bad name/with slash"));
    }

    @Test
    void twoDifferentFunctionsCannotShareAName() {
        FunctionBuilder doubling = FunctionBuilder.named("Twice");
        String a = doubling.input("a");
        doubling.output("b", doubling.op("Add", a, a));
        FunctionBuilder squaring = FunctionBuilder.named("Twice");
        String x = squaring.input("a");
        squaring.output("b", squaring.op("Mul", x, x));
        ModelBuilder model = ModelBuilder.named("clash");
        GraphBuilder g = model.graph();
        String in = g.input("x", ElementType.FLOAT, Shape.of(1));
        g.call(doubling.build(), in);
        g.output(g.call(squaring.build(), in).get(0), ElementType.FLOAT, Shape.of(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, model::build);
        assertTrue(e.getMessage().contains("two different functions are both named ai.arbor.Twice"), e.getMessage());
    }

    @Test
    void functionCallsCheckTheirArity() {
        FunctionBuilder f = FunctionBuilder.named("Id");
        f.output("y", f.input("x"));
        OnnxFunction identity = f.build();
        GraphBuilder g = ModelBuilder.named("arity").graph();
        String x = g.input("x", ElementType.FLOAT, Shape.of(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.call(identity, x, x));
        assertTrue(e.getMessage().contains("ai.arbor.Id takes 1 inputs"), e.getMessage());
    }
}
