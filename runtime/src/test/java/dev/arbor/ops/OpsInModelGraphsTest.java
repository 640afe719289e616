package dev.arbor.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OnnxTensor;
import dev.arbor.onnx.ElementType;
import dev.arbor.onnx.GraphBuilder;
import dev.arbor.onnx.GraphSession;
import dev.arbor.onnx.ModelBuilder;
import dev.arbor.onnx.OnnxModel;
import dev.arbor.onnx.Shape;
import dev.arbor.onnx.TensorData;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ops as a model graph uses them: a query projection (weights as initializers) feeding
 * ai.arbor.SearchStep and ai.arbor.RetrievedAttention in one graph, under more than one opset.
 */
class OpsInModelGraphsTest {
    private static final int HEADS = 2;
    private static final int HIDDEN = 6;
    private static final int DIM = 4;
    private static final int ROWS = 30;
    private static final int RETRIEVED = 5;

    private static OnnxModel projectSearchAttend(float[] projection, int opset) {
        ModelBuilder model = ModelBuilder.named("project_search_attend_opset" + opset).opset(opset);
        GraphBuilder g = model.graph();
        String hidden = g.input("hidden", ElementType.FLOAT, Shape.of(1, HIDDEN));
        String keys = g.input("keys", ElementType.FLOAT, Shape.of("M", DIM));
        String values = g.input("values", ElementType.FLOAT, Shape.of("M", DIM));
        String candidates = g.input("candidates", ElementType.INT64, Shape.of(HEADS, "C"));
        String queries = g.op("Reshape", g.op("MatMul", hidden, g.initializer("wq", projection, HIDDEN, HEADS * DIM)),
                g.constant(HEADS, DIM));
        List<String> top = g.call(SearchStep.FUNCTION, queries, keys, candidates, g.constant(RETRIEVED));
        String mask = g.op("GreaterOrEqual", top.get(0), g.scalarLong(0));
        String noSummaries = g.constant(new float[0], HEADS, 0, DIM);
        String noCounts = g.constant(new float[0], HEADS, 0);
        List<String> attended = g.call(RetrievedAttention.OVER_IDS_FUNCTION, queries, keys, values, top.get(0), mask,
                noSummaries, noSummaries, noCounts, g.scalar(0.5f));
        g.output("output", attended.get(0), ElementType.FLOAT, Shape.of(HEADS, DIM));
        return model.build();
    }

    @ParameterizedTest
    @ValueSource(ints = {18, 21})
    void aGraphProjectsQueriesSearchesAndAttendsThroughTheArborOps(int opset) throws Exception {
        Random random = new Random(31);
        float[] projection = TestData.gaussian(random, HIDDEN * HEADS * DIM);
        float[] hidden = TestData.gaussian(random, HIDDEN);
        float[] keys = TestData.gaussian(random, ROWS * DIM);
        float[] values = TestData.gaussian(random, ROWS * DIM);
        long[] candidates = new long[HEADS * ROWS];
        for (int i = 0; i < candidates.length; i++) {
            candidates[i] = i % ROWS;
        }
        OnnxModel built = projectSearchAttend(projection, opset);
        ModelProto proto = built.proto();
        assertEquals(opset, proto.getOpsetImport(0).getVersion());
        assertEquals(3, proto.getFunctionsCount(), "SearchStep, AttentionOverIds and the RetrievedAttention it calls");
        proto.getFunctionsList().forEach(f -> assertEquals(opset, f.getOpsetImport(0).getVersion()));

        float[] output = new float[HEADS * DIM];
        try (GraphSession session = GraphSession.open(
                new SessionFactory(SessionSettings.builder().intraOpThreads(1).build()), built);
                var result = session.run(TensorData.floats("hidden", hidden, 1, HIDDEN),
                        TensorData.floats("keys", TestData.direct(keys), ROWS, DIM),
                        TensorData.floats("values", TestData.direct(values), ROWS, DIM),
                        TensorData.longs("candidates", candidates, HEADS, ROWS))) {
            ((OnnxTensor) result.get(0)).getFloatBuffer().get(output);
        }

        float[] queries = new float[HEADS * DIM];
        for (int j = 0; j < HEADS * DIM; j++) {
            for (int i = 0; i < HIDDEN; i++) {
                queries[j] += hidden[i] * projection[i * HEADS * DIM + j];
            }
        }
        long[] top = ReferenceOps.searchStep(queries, keys, candidates, null, HEADS, DIM, RETRIEVED);
        float[] retrievedKeys = new float[HEADS * RETRIEVED * DIM];
        float[] retrievedValues = new float[HEADS * RETRIEVED * DIM];
        for (int i = 0; i < top.length; i++) {
            System.arraycopy(keys, (int) top[i] * DIM, retrievedKeys, i * DIM, DIM);
            System.arraycopy(values, (int) top[i] * DIM, retrievedValues, i * DIM, DIM);
        }
        boolean[] all = new boolean[HEADS * RETRIEVED];
        Arrays.fill(all, true);
        double[] expected = ReferenceOps.retrievedAttention(queries, retrievedKeys, retrievedValues, all, new float[0],
                new float[0], new float[0], HEADS, RETRIEVED, 0, DIM, DIM, 0.5f)[0];
        TestData.assertClose(expected, output, 1e-5, "opset " + opset);
        assertTrue(Arrays.stream(top).allMatch(id -> id >= 0 && id < ROWS));
    }
}
