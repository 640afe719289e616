package dev.arbor.ops;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.arbor.onnx.ElementType;
import dev.arbor.onnx.FunctionBuilder;
import dev.arbor.onnx.GraphBuilder;
import dev.arbor.onnx.GraphSession;
import dev.arbor.onnx.ModelBuilder;
import dev.arbor.onnx.OnnxFunction;
import dev.arbor.onnx.OnnxModel;
import dev.arbor.onnx.Shape;
import dev.arbor.onnx.TensorData;
import dev.arbor.ort.SessionFactory;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code ai.arbor.SearchStep} operator: one step of a tree search for every head at once.
 *
 * <p>Given queries {@code [H, d]}, a table of candidate vectors {@code [M, d]} (the node centroids of one
 * tree level, or a key segment of the KV store for a leaf scan), the candidate ids each head considers
 * {@code [H, C]} and a beam {@code B <= C}, it returns per head the {@code B} best candidates by
 * {@code q·v}, best first, as ids {@code [H, B]} and scores {@code [H, B]}. The bounded variant
 * ({@code ai.arbor.BoundedSearchStep}) takes per-vector optimism radii {@code [M]} and ranks by the upper
 * bound {@code q·v + |q|·r} (Cauchy–Schwarz: no key within distance {@code r} of the centroid {@code v}
 * can score higher), which is what a branch-and-bound descent through node summaries needs.
 *
 * <p>How the Java side orchestrates a descent: one {@link #run} per tree level for all heads at once.
 * Level {@code l}'s output ids select the children whose ids form level {@code l+1}'s candidates (the
 * tree knows the child ranges; only that expansion happens in Java); the last level scans the keys of
 * the reached leaf blocks with radius 0. Rows of the vector table are shared by all heads, so queries of
 * grouped heads can search one kv head's table; per-head tables are concatenated with offset ids.
 * Equal scores keep the lower candidate position first (ONNX TopK's rule). Safe for concurrent use, as
 * ONNX Runtime sessions are.
 */
public final class SearchStep implements AutoCloseable {
    /** {@code ai.arbor.SearchStep(queries, vectors, candidates, beam) -> (ids, scores)}. */
    public static final OnnxFunction FUNCTION = define("SearchStep", false);
    /** {@code ai.arbor.BoundedSearchStep(queries, vectors, candidates, radii, beam) -> (ids, scores)}. */
    public static final OnnxFunction BOUNDED_FUNCTION = define("BoundedSearchStep", true);

    private final GraphSession plain;
    private final GraphSession bounded;

    private SearchStep(GraphSession plain, GraphSession bounded) {
        this.plain = plain;
        this.bounded = bounded;
    }

    /** Opens the two sessions (with and without radii) once; reuse the instance for every search. */
    public static SearchStep open(SessionFactory sessions) throws OrtException {
        GraphSession plain = GraphSession.open(sessions, model(false));
        try {
            return new SearchStep(plain, GraphSession.open(sessions, model(true)));
        } catch (OrtException | RuntimeException e) {
            plain.close();
            throw e;
        }
    }

    /** The standalone graph around the operator, inputs named as the function's. */
    public static OnnxModel model(boolean withRadii) {
        ModelBuilder model = ModelBuilder.named(withRadii ? "arbor_bounded_search_step" : "arbor_search_step")
                .doc("Top-B candidates per head by q·v" + (withRadii ? " + |q|·r" : ""));
        GraphBuilder g = model.graph();
        String queries = g.input("queries", ElementType.FLOAT, Shape.of("H", "d"));
        String vectors = g.input("vectors", ElementType.FLOAT, Shape.of("M", "d"));
        String candidates = g.input("candidates", ElementType.INT64, Shape.of("H", "C"));
        String radii = withRadii ? g.input("radii", ElementType.FLOAT, Shape.of("M")) : null;
        String beam = g.input("beam", ElementType.INT64, Shape.of(1));
        List<String> out = withRadii
                ? g.call(BOUNDED_FUNCTION, queries, vectors, candidates, radii, beam)
                : g.call(FUNCTION, queries, vectors, candidates, beam);
        g.output("ids", out.get(0), ElementType.INT64, Shape.of("H", "B"));
        g.output("scores", out.get(1), ElementType.FLOAT, Shape.of("H", "B"));
        return model.build();
    }

    /**
     * Runs one search step.
     *
     * @param queries {@code [H, d]} float, no NaN
     * @param vectors {@code [M, d]} float; a direct buffer (e.g. a store segment) is read in place
     * @param candidates {@code [H, C]} int64 row ids into {@code vectors}
     * @param radii {@code [M]} float optimism radii, or {@code null} to rank by {@code q·v} alone
     * @param beam how many candidates to keep per head, {@code 1 <= beam <= C}
     */
    public SearchResult run(TensorData queries, TensorData vectors, TensorData candidates, TensorData radii, int beam)
            throws OrtException {
        queries = Arguments.check(queries, "queries", ElementType.FLOAT, 2);
        vectors = Arguments.check(vectors, "vectors", ElementType.FLOAT, 2);
        candidates = Arguments.check(candidates, "candidates", ElementType.INT64, 2);
        long heads = queries.dim(0);
        Arguments.sameSize("queries", queries, 1, "vectors", vectors, 1, "vector dimension d");
        Arguments.sameSize("queries", queries, 0, "candidates", candidates, 0, "head count H");
        long candidateCount = candidates.dim(1);
        if (beam < 1 || beam > candidateCount) {
            throw new IllegalArgumentException(
                    "beam must be between 1 and the candidates per head (" + candidateCount + "), got " + beam);
        }
        Arguments.noNaN(queries);
        Arguments.idsInRange(candidates, vectors.dim(0), "rows of 'vectors'");
        TensorData beamTensor = TensorData.longs("beam", new long[] {beam}, 1);
        OrtSession.Result result;
        if (radii == null) {
            result = plain.run(queries, vectors, candidates, beamTensor);
        } else {
            radii = Arguments.check(radii, "radii", ElementType.FLOAT, 1);
            Arguments.sameSize("vectors", vectors, 0, "radii", radii, 0, "row count M");
            result = bounded.run(queries, vectors, candidates, radii, beamTensor);
        }
        try (result) {
            long[] ids = new long[Math.toIntExact(heads * beam)];
            ((OnnxTensor) result.get("ids").orElseThrow()).getLongBuffer().get(ids);
            float[] scores = new float[ids.length];
            ((OnnxTensor) result.get("scores").orElseThrow()).getFloatBuffer().get(scores);
            return new SearchResult((int) heads, beam, ids, scores);
        }
    }

    @Override
    public void close() throws OrtException {
        try {
            plain.close();
        } finally {
            bounded.close();
        }
    }

    private static OnnxFunction define(String name, boolean withRadii) {
        FunctionBuilder f = FunctionBuilder.named(name).doc(withRadii
                ? "Per head, the top-B candidate ids and upper bounds q·v + |q|·r, best first."
                : "Per head, the top-B candidate ids and scores q·v, best first.");
        String queries = f.input("queries");
        String vectors = f.input("vectors");
        String candidates = f.input("candidates");
        String radii = withRadii ? f.input("radii") : null;
        String beam = f.input("beam");

        String gathered = f.node("Gather").inputs(vectors, candidates).attr("axis", 0L).output();
        String queryColumns = f.op("Unsqueeze", queries, f.constant(2));
        String dots = f.op("Squeeze", f.op("MatMul", gathered, queryColumns), f.constant(2));
        String scores = dots;
        if (withRadii) {
            String candidateRadii = f.node("Gather").inputs(radii, candidates).attr("axis", 0L).output();
            String queryNorms = f.node("ReduceL2").inputs(queries, f.constant(1)).attr("keepdims", 1L).output();
            scores = f.op("Add", dots, f.op("Mul", queryNorms, candidateRadii));
        }
        List<String> top = f.node("TopK").inputs(scores, beam)
                .attr("axis", -1L).attr("largest", 1L).attr("sorted", 1L).outputs(2);
        String ids = f.node("GatherElements").inputs(candidates, top.get(1)).attr("axis", 1L).output();
        return f.output("ids", ids).output("scores", top.get(0)).build();
    }

    /**
     * Per head, the kept candidates best first.
     *
     * @param ids {@code [heads, beam]} row-major candidate ids
     * @param scores {@code [heads, beam]} their scores (or upper bounds with radii)
     */
    public record SearchResult(int heads, int beam, long[] ids, float[] scores) {
        public long id(int head, int rank) {
            return ids[head * beam + rank];
        }

        public float score(int head, int rank) {
            return scores[head * beam + rank];
        }

        /** The kept ids of one head, best first. */
        public long[] idsOf(int head) {
            return Arrays.copyOfRange(ids, head * beam, (head + 1) * beam);
        }
    }
}
