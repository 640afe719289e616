package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnxruntime.OrtException;
import dev.arbor.onnx.TensorData;
import dev.arbor.ops.SearchStep;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import dev.arbor.store.Segment;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The tree's node buffers and store segments, fed to the ai.arbor ONNX ops, agree with the Java tree. */
class OnnxTreeOpsTest {
    private static final int DIM = 16;
    private static SearchStep step;

    @BeforeAll
    static void open() throws OrtException {
        step = SearchStep.open(new SessionFactory(SessionSettings.builder().intraOpThreads(1).build()));
    }

    @AfterAll
    static void close() throws OrtException {
        step.close();
    }

    @Test
    void scanningEveryLeafInOnnxRuntimeEqualsExactTreeSearch() throws OrtException {
        List<float[]> keys = TestVectors.clustered(3000, DIM, 8, 51);
        AttentionTree tree = TestVectors.treeOf(keys, keys, TreeSettings.builder().leafCapacity(16).build());
        long[] candidates = allLeafPositionsAscending(tree);
        Segment segment = tree.store().keySegments().get(0);
        for (float[] query : TestVectors.clustered(5, DIM, 8, 52)) {
            SearchStep.SearchResult onnx = step.run(TensorData.floats("queries", query, 1, DIM),
                    TensorData.floats("vectors", segment.rows(), segment.rowCount(), DIM),
                    TensorData.longs("candidates", candidates, 1, candidates.length), null, 20);
            SearchParams exact = SearchParams.builder().mode(SearchMode.EXACT).k(20).sinks(0).window(0).build();
            assertArrayEquals(tree.search(query, exact).positions(), onnx.idsOf(0));
        }
    }

    @Test
    void aBoundedStepOverNodeBuffersRanksChildrenByMeanPlusRadiusBound() throws OrtException {
        List<float[]> keys = TestVectors.clustered(4000, DIM, 8, 53);
        AttentionTree tree = TestVectors.treeOf(keys, keys, TreeSettings.defaults());
        int[] children = tree.children(tree.root());
        FloatBuffer means = tree.meanKeys();
        FloatBuffer radii = tree.radii();
        float[] query = TestVectors.gaussian(1, DIM, 54).get(0);
        double norm = Math.sqrt(BruteForce.dot(query, query));
        long[] expected = IntStream.of(children)
                .boxed()
                .sorted(Comparator.<Integer>comparingDouble(child -> -bound(means, radii, child, query, norm)))
                .mapToLong(Integer::longValue)
                .toArray();
        long[] candidates = IntStream.of(children).asLongStream().toArray();
        SearchStep.SearchResult onnx = step.run(TensorData.floats("queries", query, 1, DIM),
                TensorData.floats("vectors", means, tree.nodeCount(), DIM),
                TensorData.longs("candidates", candidates, 1, candidates.length),
                TensorData.floats("radii", radii, tree.nodeCount()), children.length);
        assertArrayEquals(expected, onnx.idsOf(0));
        assertEquals(bound(means, radii, (int) expected[0], query, norm), onnx.scores()[0], 1e-3);
    }

    private static double bound(FloatBuffer means, FloatBuffer radii, int node, float[] query, double norm) {
        float[] mean = new float[DIM];
        means.get(node * DIM, mean);
        return BruteForce.dot(query, mean) + norm * radii.get(node);
    }

    private static long[] allLeafPositionsAscending(AttentionTree tree) {
        return IntStream.range(0, tree.nodeCount())
                .filter(node -> tree.level(node) == 0)
                .mapToObj(tree::leafPositions)
                .flatMapToLong(Arrays::stream)
                .sorted()
                .toArray();
    }
}
