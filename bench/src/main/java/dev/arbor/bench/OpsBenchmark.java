package dev.arbor.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.arbor.onnx.TensorData;
import dev.arbor.ops.DenseAttention;
import dev.arbor.ops.RetrievedAttention;
import dev.arbor.ops.RetrievedAttention.Summaries;
import dev.arbor.ops.SearchStep;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Times the {@code ai.arbor} ops in ONNX Runtime on the shapes one query of the attention benchmark
 * produces: dense attention over all N keys (the {@code exact_ms} baseline, one head per run because a
 * head of 1M × 64 floats already takes 256 MiB), one search step over a tree level, a leaf scan of a key
 * segment, and attention over retrieved ids with summaries. Prints one JSON object of median milliseconds
 * per query over all heads. Content does not change these costs, so keys are Gaussian.
 */
@Command(name = "ops", mixinStandardHelpOptions = true, description = "Time the ai.arbor ONNX ops")
public final class OpsBenchmark implements Callable<Integer> {
    @Option(names = "--n", description = "keys per head (default ${DEFAULT-VALUE})")
    int n = 1 << 20;

    @Option(names = "--heads", description = "heads (default ${DEFAULT-VALUE})")
    int heads = 12;

    @Option(names = "--dim", description = "key and value dimension (default ${DEFAULT-VALUE})")
    int dim = 64;

    @Option(names = "--threads", description = "ONNX Runtime intra-op threads (default ${DEFAULT-VALUE})")
    int threads = 2;

    @Option(names = "--no-spinning", description = "let idle ONNX Runtime threads sleep instead of spinning")
    boolean noSpinning;

    @Option(names = "--repeats", description = "timed repetitions per measurement (default ${DEFAULT-VALUE})")
    int repeats = 15;

    @Option(names = "--json", description = "also write the JSON to this file")
    File json;

    public static void main(String[] args) {
        System.exit(new CommandLine(new OpsBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Random random = new Random(42);
        SessionFactory sessions = new SessionFactory(SessionSettings.builder().intraOpThreads(threads).spinning(!noSpinning).build());
        FloatBuffer keys = gaussian(random, (long) n * dim);
        FloatBuffer values = gaussian(random, (long) n * dim);
        float[] query = toArray(gaussian(random, (long) heads * dim));
        float scale = (float) (1 / Math.sqrt(dim));

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("n", n);
        report.put("heads", heads);
        report.put("dim", dim);
        report.put("threads", threads);
        report.put("spinning", !noSpinning);
        try (DenseAttention dense = DenseAttention.open(sessions);
                SearchStep search = SearchStep.open(sessions);
                RetrievedAttention attention = RetrievedAttention.open(sessions)) {
            TensorData headKeys = TensorData.floats("keys", keys, 1, n, dim);
            TensorData headValues = TensorData.floats("values", values, 1, n, dim);
            report.put("dense_ms", median(() -> {
                for (int h = 0; h < heads; h++) {
                    float[] q = Arrays.copyOfRange(query, h * dim, (h + 1) * dim);
                    dense.run(TensorData.floats("q", q, 1, dim), headKeys, headValues, scale);
                }
            }));

            int centroids = Math.max(1, n / 64);
            int levelCandidates = Math.min(centroids, 1024);
            TensorData table = TensorData.floats("vectors", keys.duplicate().limit(centroids * dim), centroids, dim);
            TensorData radii = TensorData.floats("radii", gaussian(random, centroids), centroids);
            TensorData levelIds = TensorData.longs("candidates", randomIds(random, heads * levelCandidates, centroids),
                    heads, levelCandidates);
            TensorData queries = TensorData.floats("queries", query, heads, dim);
            int beam = Math.min(64, levelCandidates);
            report.put("search_step_candidates", levelCandidates);
            report.put("search_step_ms", median(() -> search.run(queries, table, levelIds, radii, beam)));

            int leafCandidates = Math.min(n, 4096);
            TensorData segment = TensorData.floats("vectors", keys, n, dim);
            TensorData leafIds = TensorData.longs("candidates", randomIds(random, heads * leafCandidates, n), heads,
                    leafCandidates);
            report.put("leaf_scan_candidates", leafCandidates);
            report.put("leaf_scan_ms", median(() -> search.run(queries, segment, leafIds, null, Math.min(64, leafCandidates))));

            int retrieved = Math.min(n, 512);
            int summaries = 64;
            boolean[] mask = new boolean[heads * retrieved];
            Arrays.fill(mask, true);
            float[] counts = new float[heads * summaries];
            Arrays.fill(counts, 64f);
            Summaries coarse = new Summaries(
                    TensorData.floats("m", gaussian(random, (long) heads * summaries * dim), heads, summaries, dim),
                    TensorData.floats("s", gaussian(random, (long) heads * summaries * dim), heads, summaries, dim),
                    TensorData.floats("c", counts, heads, summaries));
            TensorData ids = TensorData.longs("ids", randomIds(random, heads * retrieved, n), heads, retrieved);
            TensorData maskTensor = TensorData.bools("mask", mask, heads, retrieved);
            TensorData valueTable = TensorData.floats("value_table", values, n, dim);
            report.put("retrieved_keys", retrieved);
            report.put("summaries", summaries);
            report.put("retrieved_attention_ms", median(() ->
                    attention.runOverIds(queries, segment, valueTable, ids, maskTensor, coarse, scale)));
        }
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        String text = mapper.writeValueAsString(report);
        System.out.println(text);
        if (json != null) {
            mapper.writeValue(json, report);
        }
        return 0;
    }

    private interface Work {
        void run() throws Exception;
    }

    /** Median wall time of one call after two warm-up calls. */
    private double median(Work work) throws Exception {
        work.run();
        work.run();
        double[] millis = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long start = System.nanoTime();
            work.run();
            millis[i] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(millis);
        return Math.round(millis[repeats / 2] * 1000) / 1000.0;
    }

    private static FloatBuffer gaussian(Random random, long count) {
        FloatBuffer buffer = ByteBuffer.allocateDirect(Math.toIntExact(count * Float.BYTES))
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (long i = 0; i < count; i++) {
            buffer.put((float) random.nextGaussian());
        }
        return buffer.flip();
    }

    private static float[] toArray(FloatBuffer buffer) {
        float[] values = new float[buffer.remaining()];
        buffer.duplicate().get(values);
        return values;
    }

    private static long[] randomIds(Random random, int count, int bound) {
        long[] ids = new long[count];
        for (int i = 0; i < count; i++) {
            ids[i] = random.nextInt(bound);
        }
        return ids;
    }
}
