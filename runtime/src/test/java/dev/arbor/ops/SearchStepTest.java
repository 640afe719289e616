package dev.arbor.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.arbor.onnx.TensorData;
import dev.arbor.ops.SearchStep.SearchResult;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SearchStepTest {
    private static final int HEADS = 4;
    private static final int DIM = 16;
    private static final int ROWS = 300;
    private static final int CANDIDATES = 40;
    private static SearchStep search;

    @BeforeAll
    static void open() throws Exception {
        search = SearchStep.open(new SessionFactory(SessionSettings.builder().intraOpThreads(1).build()));
    }

    @AfterAll
    static void close() throws Exception {
        search.close();
    }

    private static long[] randomCandidates(Random random, int heads, int perHead, int rows) {
        long[] ids = new long[heads * perHead];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextInt(rows);
        }
        return ids;
    }

    /** Every reported id really has the reported score, and the ranking equals the brute-force one. */
    private static void assertMatchesReference(SearchResult result, float[] queries, float[] vectors, long[] candidates,
            float[] radii, int beam) {
        long[] expected = ReferenceOps.searchStep(queries, vectors, candidates, radii, HEADS, DIM, beam);
        for (int h = 0; h < HEADS; h++) {
            for (int r = 0; r < beam; r++) {
                double expectedScore = ReferenceOps.score(queries, h, vectors, expected[h * beam + r], radii, DIM);
                double scoreOfReportedId = ReferenceOps.score(queries, h, vectors, result.id(h, r), radii, DIM);
                assertEquals(expectedScore, result.score(h, r), 1e-5, "score of head " + h + " rank " + r);
                assertEquals(expectedScore, scoreOfReportedId, 1e-5, "id of head " + h + " rank " + r);
            }
        }
    }

    @Test
    void topCandidatesEqualTheJavaReference() throws Exception {
        Random random = new Random(11);
        float[] queries = TestData.gaussian(random, HEADS * DIM);
        float[] vectors = TestData.gaussian(random, ROWS * DIM);
        long[] candidates = randomCandidates(random, HEADS, CANDIDATES, ROWS);
        for (int beam : new int[] {1, 8, CANDIDATES}) {
            SearchResult result = search.run(
                    TensorData.floats("q", queries, HEADS, DIM),
                    TensorData.floats("v", vectors, ROWS, DIM),
                    TensorData.longs("c", candidates, HEADS, CANDIDATES), null, beam);
            assertEquals(HEADS, result.heads());
            assertEquals(beam, result.beam());
            assertMatchesReference(result, queries, vectors, candidates, null, beam);
        }
    }

    @Test
    void radiiRankByTheUpperBound() throws Exception {
        Random random = new Random(12);
        float[] queries = TestData.gaussian(random, HEADS * DIM);
        float[] centroids = TestData.gaussian(random, ROWS * DIM);
        float[] radii = new float[ROWS];
        for (int i = 0; i < ROWS; i++) {
            radii[i] = random.nextFloat() * 3;
        }
        long[] candidates = randomCandidates(random, HEADS, CANDIDATES, ROWS);
        SearchResult result = search.run(
                TensorData.floats("q", queries, HEADS, DIM),
                TensorData.floats("v", centroids, ROWS, DIM),
                TensorData.longs("c", candidates, HEADS, CANDIDATES),
                TensorData.floats("r", radii, ROWS), 10);
        assertMatchesReference(result, queries, centroids, candidates, radii, 10);
        SearchResult unbounded = search.run(
                TensorData.floats("q", queries, HEADS, DIM),
                TensorData.floats("v", centroids, ROWS, DIM),
                TensorData.longs("c", candidates, HEADS, CANDIDATES), null, 10);
        assertTrue(result.score(0, 0) > unbounded.score(0, 0), "radii add optimism to the best bound");
    }

    @Test
    void directBuffersAreReadInPlaceAndGiveTheSameAnswer() throws Exception {
        Random random = new Random(13);
        float[] queries = TestData.gaussian(random, HEADS * DIM);
        float[] vectors = TestData.gaussian(random, ROWS * DIM);
        long[] candidates = randomCandidates(random, HEADS, CANDIDATES, ROWS);
        TensorData segment = TensorData.floats("v", TestData.direct(vectors), ROWS, DIM);
        assertTrue(segment.zeroCopy());
        SearchResult fromDirect = search.run(TensorData.floats("q", TestData.direct(queries), HEADS, DIM), segment,
                TensorData.longs("c", TestData.direct(candidates), HEADS, CANDIDATES), null, 5);
        SearchResult fromHeap = search.run(TensorData.floats("q", queries, HEADS, DIM),
                TensorData.floats("v", vectors, ROWS, DIM), TensorData.longs("c", candidates, HEADS, CANDIDATES), null, 5);
        assertArrayEquals(fromHeap.ids(), fromDirect.ids());
        assertArrayEquals(fromHeap.scores(), fromDirect.scores());
    }

    @Test
    void duplicateKeysTieAndKeepTheLowerCandidatePositionFirst() throws Exception {
        float[] queries = new float[HEADS * DIM];
        java.util.Arrays.fill(queries, 1f);
        float[] vectors = new float[4 * DIM];
        for (int row = 0; row < 4; row++) {
            java.util.Arrays.fill(vectors, row * DIM, (row + 1) * DIM, row == 2 ? 0.5f : 0.25f);
        }
        // Rows 0, 1 and 3 are identical; candidates list them out of id order.
        long[] candidates = new long[HEADS * 4];
        for (int h = 0; h < HEADS; h++) {
            System.arraycopy(new long[] {3, 0, 2, 1}, 0, candidates, h * 4, 4);
        }
        SearchResult result = search.run(TensorData.floats("q", queries, HEADS, DIM),
                TensorData.floats("v", vectors, 4, DIM), TensorData.longs("c", candidates, HEADS, 4), null, 4);
        for (int h = 0; h < HEADS; h++) {
            assertArrayEquals(new long[] {2, 3, 0, 1}, result.idsOf(h), "head " + h);
        }
    }

    @Test
    void badArgumentsAreExplained() {
        Random random = new Random(14);
        TensorData queries = TensorData.floats("q", TestData.gaussian(random, HEADS * DIM), HEADS, DIM);
        TensorData vectors = TensorData.floats("v", TestData.gaussian(random, ROWS * DIM), ROWS, DIM);
        TensorData candidates = TensorData.longs("c", randomCandidates(random, HEADS, CANDIDATES, ROWS), HEADS, CANDIDATES);

        assertMessage("beam must be between 1 and the candidates per head (40), got 0",
                () -> search.run(queries, vectors, candidates, null, 0));
        assertMessage("got 41", () -> search.run(queries, vectors, candidates, null, 41));
        TensorData wrongDim = TensorData.floats("v", new float[ROWS * (DIM + 1)], ROWS, DIM + 1);
        assertMessage("disagree on the vector dimension d", () -> search.run(queries, wrongDim, candidates, null, 3));
        float[] nan = new float[HEADS * DIM];
        nan[5] = Float.NaN;
        assertMessage("holds NaN at element 5",
                () -> search.run(TensorData.floats("q", nan, HEADS, DIM), vectors, candidates, null, 3));
        long[] outOfRange = new long[HEADS * CANDIDATES];
        outOfRange[7] = ROWS;
        assertMessage("element 7 is 300, outside the 300 rows of 'vectors'", () -> search.run(queries, vectors,
                TensorData.longs("c", outOfRange, HEADS, CANDIDATES), null, 3));
        assertMessage("disagree on the row count M", () -> search.run(queries, vectors, candidates,
                TensorData.floats("r", new float[ROWS - 1], ROWS - 1), 3));
        assertMessage("must be a rank-2 INT64 tensor", () -> search.run(queries, vectors,
                TensorData.floats("c", new float[HEADS * CANDIDATES], HEADS, CANDIDATES), null, 3));
    }

    static void assertMessage(String fragment, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), "message was: " + e.getMessage());
    }
}
