package dev.arbor.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.arbor.onnx.TensorData;
import dev.arbor.ops.DenseAttention;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import dev.arbor.store.HeadStore;
import dev.arbor.store.Segment;
import dev.arbor.tree.AttentionResult;
import dev.arbor.tree.AttentionTree;
import dev.arbor.tree.MultiHeadAttention;
import dev.arbor.tree.SearchParams;
import dev.arbor.tree.TreeSettings;
import io.github.jbellis.jvector.graph.GraphSearcher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code arbor bench attention}: tree attention against dense attention in ONNX Runtime and against a
 * JVector graph, on the same keys, in one run. Heads are built one after another and measured exactly
 * (ONNX Runtime, 2 threads; a query's exact time over all heads is the sum of its per-head times);
 * then every head stays resident, as in a server, and one query over all heads is timed through
 * {@link MultiHeadAttention}, on one thread ({@code tree_ms}, the default) and on {@code --tree-threads}
 * ({@code tree_ms_parallel}). 12 heads of a million keys take about 8 GB (6 GB of it direct memory).
 *
 * <p>The growth target compares {@code tree_ms} at two sizes. Separate runs minutes apart
 * disagree by more than the target's margin (on the 2-core build machine, 1M alone took 20-29 ms per
 * query within 20 minutes), so {@code --baseline-n} also builds every head over its first keys (the
 * keys, queries and cache sweeps a run with {@code --n} that size would have) and times both sizes in
 * alternating blocks of the same run.
 */
@Command(
        name = "attention",
        mixinStandardHelpOptions = true,
        description = "Measure tree attention against exact dense attention (ONNX Runtime) and JVector.")
public final class AttentionBenchmark implements Callable<Integer> {
    /** The narrower beams {@link #treeAtRecall} tries, in order, before the default. */
    private static final int[] BEAMS_AT_RECALL = {4, 5, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48};
    /**
     * Timed queries per block when a baseline takes turns with the full trees: long enough that only a
     * block's first query finds the caches holding the other size's nodes, short enough that a drift of
     * the machine's speed falls on both sizes.
     */
    private static final int GROWTH_BLOCK = 10;

    @Spec
    CommandSpec spec;

    @Option(names = "--n", description = "Keys per head (default: ${DEFAULT-VALUE}).", defaultValue = "65536")
    int n;

    @Option(names = "--heads", description = "Key/value heads (default: ${DEFAULT-VALUE}).", defaultValue = "12")
    int heads;

    @Option(names = "--dim", description = "Key and value dimension (default: ${DEFAULT-VALUE}).", defaultValue = "64")
    int dim;

    @Option(names = "--k", description = "Keys retrieved per query (default: ${DEFAULT-VALUE}).", defaultValue = "64")
    int k;

    @Option(names = "--keys", description = "synthetic or corpus (default: ${DEFAULT-VALUE}).", defaultValue = "synthetic")
    String keys;

    @Option(names = "--corpus", description = "Text file(s), read in order, whose MiniLM token vectors are the keys"
            + " (--keys corpus; repeat the option for more files).")
    List<Path> corpus;

    @Option(names = "--vector-cache", description = "Directory of cached corpus token vectors (--keys corpus; default:"
            + " $ARBOR_CACHE_DIR/vectors or ~/.cache/arbor/vectors). A run needing fewer tokens reads a prefix.")
    Path vectorCache;

    @Option(names = "--cache-vectors", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Read and store corpus token vectors in the vector cache (default: ${DEFAULT-VALUE}).")
    boolean cacheVectors;

    @Option(names = "--json", description = "Write the result object to this file as well as to stdout.")
    Path json;

    @Option(names = "--queries", description = "Timed queries per head (default: ${DEFAULT-VALUE}).",
            defaultValue = "100")
    int queries;

    @Option(names = "--warmup", description = "Untimed queries per head first (default: ${DEFAULT-VALUE}).",
            defaultValue = "20")
    int warmup;

    @Option(names = "--seed", description = "Seed of the synthetic keys and queries (default: ${DEFAULT-VALUE}).",
            defaultValue = "42")
    long seed;

    @Option(names = "--beam", description = "Override the default search beam (default: SearchParams.defaults()).")
    Integer beam;

    @Option(names = "--leaf", description = "Override the tree's leaf capacity (default: TreeSettings.defaults()).")
    Integer leaf;

    @Option(names = "--tree-threads", description = "Threads the parallel multi-head tree attention uses"
            + " (reported as tree_ms_parallel; tree_ms is one thread, the default) (default: ${DEFAULT-VALUE}).",
            defaultValue = "2")
    int treeThreads;

    @Option(names = "--baseline-n", description = "Also build every head over its first N keys and time those trees"
            + " in alternating blocks with the full ones: tree_growth = tree_ms / the baseline's tree_ms, measured"
            + " side by side in this run (0 = no baseline) (default: ${DEFAULT-VALUE}).", defaultValue = "0")
    int baselineN;

    @Option(names = "--jvector", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Build and measure the JVector baseline on head 0 (default: ${DEFAULT-VALUE}).")
    boolean jvector;

    public static void main(String[] args) {
        System.exit(new CommandLine(new AttentionBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        checkArguments();
        float scale = (float) (1 / Math.sqrt(dim));
        SearchParams.Builder paramsBuilder = SearchParams.defaults().toBuilder().k(k);
        if (beam != null) {
            paramsBuilder.beam(beam);
        }
        SearchParams params = paramsBuilder.build();
        Map<String, Object> result = new LinkedHashMap<>();
        CorpusKeys corpusKeys = keys.equals("corpus") ? new CorpusKeys(corpus, n, warmup + queries,
                cacheVectors ? new VectorCache(vectorCache != null ? vectorCache : VectorCache.defaultDirectory()) : null)
                : null;
        if (corpusKeys != null) {
            // The retrieval workload is one head of encoder vectors, whatever --heads and --dim say.
            heads = 1;
            dim = corpusKeys.dim;
        }
        float[] keyRows = corpusKeys != null ? corpusKeys.keys : new float[n * dim];
        float[] valueRows = corpusKeys != null ? corpusKeys.keys : new float[n * dim];
        MeasuredTrees full = new MeasuredTrees(n);
        MeasuredTrees baseline = baselineN > 0 ? new MeasuredTrees(baselineN) : null;
        SessionFactory sessions = new SessionFactory(SessionSettings.builder().intraOpThreads(2).build());
        try (DenseAttention dense = DenseAttention.open(sessions)) {
            warmUpInserts();
            for (int head = 0; head < heads; head++) {
                SyntheticKeys source = new SyntheticKeys(dim, seed * 1000 + head);
                SplittableRandom noise = new SplittableRandom(seed * 7919 + head);
                for (int t = 0; corpusKeys == null && t < n; t++) {
                    source.keyValue(t, noise, keyRows, t * dim, valueRows, t * dim);
                }
                double insertSeconds = full.addHead(head, keyRows, valueRows, source, corpusKeys, dense, scale, params);
                if (head == 0) {
                    measureHeadZero(result, full.trees.get(0), keyRows, full.timedQueries(0), params, insertSeconds);
                }
                if (baseline != null) {
                    // The first keys of the same head, queried as a run with --n baselineN would query them.
                    baseline.addHead(head, keyRows, valueRows, source, corpusKeys, dense, scale, params);
                }
                System.err.printf("head %d/%d built and measured exactly%n", head + 1, heads);
            }
        }

        // Tree attention as a server runs it: every head resident, one token's query over all heads. With
        // a baseline, its trees and the full ones take turns in blocks of queries, the first of each
        // round alternating, so that both sizes see the same minutes of a machine whose speed drifts.
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, treeThreads - 1));
        List<Double> growthByBlock = new ArrayList<>();
        try {
            full.startAttending(pool, scale, params);
            if (baseline != null) {
                baseline.startAttending(pool, scale, params);
            }
            int block = baseline == null ? queries : GROWTH_BLOCK;
            for (int from = 0; from < queries; from += block) {
                int to = Math.min(queries, from + block);
                if (baseline == null) {
                    full.attend(from, to, keyRows, scale, params);
                    continue;
                }
                boolean baselineFirst = from / block % 2 == 0;
                (baselineFirst ? baseline : full).attend(from, to, keyRows, scale, params);
                (baselineFirst ? full : baseline).attend(from, to, keyRows, scale, params);
                growthByBlock.add(median(Arrays.copyOfRange(full.treeNanos, from, to))
                        / median(Arrays.copyOfRange(baseline.treeNanos, from, to)));
            }
        } finally {
            pool.shutdown();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("n", n);
        out.put("heads", heads);
        out.put("dim", dim);
        out.put("k", k);
        out.put("keys", keys);
        out.put("exact_ms", median(full.exactNanos) / 1e6);
        out.put("tree_ms", median(full.treeNanos) / 1e6);
        out.put("tree_threads", 1);
        out.put("tree_ms_parallel", median(full.parallelNanos) / 1e6);
        out.put("tree_parallel_threads", treeThreads);
        out.put("recall_at_k", full.meanRecall());
        out.put("rel_error", full.meanRelativeError());
        if (baseline != null) {
            Map<String, Object> base = new LinkedHashMap<>();
            base.put("n", baselineN);
            base.put("exact_ms", median(baseline.exactNanos) / 1e6);
            base.put("tree_ms", median(baseline.treeNanos) / 1e6);
            base.put("tree_ms_parallel", median(baseline.parallelNanos) / 1e6);
            base.put("recall_at_k", baseline.meanRecall());
            base.put("rel_error", baseline.meanRelativeError());
            out.put("baseline", base);
            out.put("tree_growth", median(full.treeNanos) / median(baseline.treeNanos));
            out.put("tree_growth_parallel", median(full.parallelNanos) / median(baseline.parallelNanos));
            out.put("tree_growth_by_block", growthByBlock);
        }
        out.putAll(result);
        out.put("queries", queries);
        out.put("seed", seed);
        out.put("leaf_capacity", treeSettings().leafCapacity());
        out.put("search", Map.of("mode", params.mode().toString(), "beam", params.beam(), "sinks", params.sinks(),
                "window", params.window()));
        String text = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(out);
        System.out.println(text);
        if (json != null) {
            Files.writeString(json, text + System.lineSeparator());
        }
        return 0;
    }

    /**
     * The trees of every head over the first {@code size} keys, and what is measured on them: their
     * queries, the exact answers (top-k and dense output, timed) and the tree's times and quality.
     */
    private final class MeasuredTrees {
        final int size;
        final List<AttentionTree> trees = new ArrayList<>();
        final float[][][] warmupQueries = new float[warmup][heads][];
        final float[][][] timedQueries = new float[queries][heads][];
        final long[][][] exactTopK = new long[queries][heads][];
        final float[][][] exactOutputs = new float[queries][heads][];
        final double[] exactNanos = new double[queries];
        final double[] treeNanos = new double[queries];
        final double[] parallelNanos = new double[queries];
        private double recallSum;
        private double errorSum;
        private MultiHeadAttention serial;
        private MultiHeadAttention parallel;

        MeasuredTrees(int size) {
            this.size = size;
        }

        /** Builds head {@code head} over the first {@link #size} rows and times its queries exactly; returns the insert seconds. */
        double addHead(int head, float[] keyRows, float[] valueRows, SyntheticKeys source, CorpusKeys corpusKeys,
                DenseAttention dense, float scale, SearchParams params) throws Exception {
            HeadStore store = HeadStore.builder().keyDim(dim).valueDim(dim).build();
            AttentionTree tree = AttentionTree.builder().store(store).settings(treeSettings()).build();
            double insertSeconds = appendAll(tree, keyRows, valueRows, size);
            List<TensorData> keySegments = tensors("keys", store.keySegments());
            List<TensorData> valueSegments = tensors("values", store.valueSegments());
            SplittableRandom queryRandom = new SplittableRandom(seed * 104729 + head);
            for (int i = 0; i < warmup; i++) {
                float[] query = corpusKeys != null ? corpusKeys.queries[queries + i] : source.query(size, queryRandom);
                warmupQueries[i][head] = query;
                // Also compiles the search before head 0's search-only figures are measured.
                tree.attend(query, scale, params);
                dense.runSegments(queryTensor(query), keySegments, valueSegments, scale);
            }
            for (int i = 0; i < queries; i++) {
                float[] query = corpusKeys != null ? corpusKeys.queries[i] : source.query(size, queryRandom);
                timedQueries[i][head] = query;
                // The brute-force top-k (the recall reference) also sweeps the caches before the timed run.
                exactTopK[i][head] = bruteForceTopK(keyRows, size, query);
                long start = System.nanoTime();
                exactOutputs[i][head] = dense.runSegments(queryTensor(query), keySegments, valueSegments, scale);
                exactNanos[i] += System.nanoTime() - start;
            }
            trees.add(tree);
            return insertSeconds;
        }

        List<float[]> timedQueries(int head) {
            return Arrays.stream(timedQueries).map(perHead -> perHead[head]).toList();
        }

        void startAttending(ExecutorService pool, float scale, SearchParams params) {
            serial = MultiHeadAttention.builder().trees(trees).build();
            parallel = MultiHeadAttention.builder().trees(trees).executor(pool, treeThreads).build();
            for (int i = 0; i < warmup; i++) {
                serial.attend(warmupQueries[i], scale, params);
                parallel.attend(warmupQueries[i], scale, params);
            }
        }

        /**
         * Times timed queries {@code from .. to} over all heads, on one thread and on {@code --tree-threads},
         * each after a sweep of the caches over this set's keys (the recall reference's scan), and checks
         * both against each other and the exact answers.
         */
        void attend(int from, int to, float[] keyRows, float scale, SearchParams params) {
            for (int i = from; i < to; i++) {
                bruteForceTopK(keyRows, size, timedQueries[i][0]);
                long start = System.nanoTime();
                AttentionResult[] attended = serial.attend(timedQueries[i], scale, params);
                treeNanos[i] = System.nanoTime() - start;
                bruteForceTopK(keyRows, size, timedQueries[i][0]);
                start = System.nanoTime();
                AttentionResult[] attendedInParallel = parallel.attend(timedQueries[i], scale, params);
                parallelNanos[i] = System.nanoTime() - start;
                for (int head = 0; head < heads; head++) {
                    // Equal up to rounding: code compiled between the two calls may round exp differently.
                    double difference = relativeError(attendedInParallel[head].output(), attended[head].output());
                    if (difference > 1e-4) {
                        throw new IllegalStateException("head " + head + " attends differently on " + treeThreads
                                + " threads than on one: relative difference " + difference);
                    }
                    recallSum += recall(exactTopK[i][head], attended[head].positions());
                    errorSum += relativeError(attended[head].output(), exactOutputs[i][head]);
                }
            }
        }

        double meanRecall() {
            return recallSum / (heads * queries);
        }

        double meanRelativeError() {
            return errorSum / (heads * queries);
        }
    }

    private void measureHeadZero(Map<String, Object> result, AttentionTree tree, float[] keyRows,
            List<float[]> timed, SearchParams params, double insertSeconds) {
        double[] searchNanos = new double[timed.size()];
        double treeRecall = 0;
        for (int i = 0; i < timed.size(); i++) {
            long start = System.nanoTime();
            long[] found = tree.search(timed.get(i), params).positions();
            searchNanos[i] = System.nanoTime() - start;
            treeRecall += recall(bruteForceTopK(keyRows, n, timed.get(i)), found);
        }
        result.put("tree_ms_per_head", median(searchNanos) / 1e6);
        result.put("tree_recall_per_head", treeRecall / timed.size());
        if (jvector) {
            System.err.println("building the JVector index over head 0 ...");
            JVectorBaseline baseline = new JVectorBaseline(keyRows, n, dim);
            GraphSearcher searcher = baseline.searcher();
            for (int i = 0; i < Math.min(warmup, timed.size()); i++) {
                baseline.search(searcher, timed.get(i), k);
            }
            double[] jvectorNanos = new double[timed.size()];
            double jvectorRecall = 0;
            for (int i = 0; i < timed.size(); i++) {
                long start = System.nanoTime();
                long[] found = baseline.search(searcher, timed.get(i), k);
                jvectorNanos[i] = System.nanoTime() - start;
                jvectorRecall += recall(bruteForceTopK(keyRows, n, timed.get(i)), found);
            }
            result.put("jvector_ms_per_head", median(jvectorNanos) / 1e6);
            result.put("jvector_recall", jvectorRecall / timed.size());
            result.put("tree_at_jvector_recall", treeAtRecall(tree, keyRows, timed, params,
                    jvectorRecall / timed.size()));
            result.put("insert_per_s", n / insertSeconds);
            result.put("jvector_insert_per_s", n / baseline.insertSeconds());
        } else {
            result.put("insert_per_s", n / insertSeconds);
        }
        long raw = 2L * dim * Float.BYTES;
        result.put("bytes_per_key", (double) (tree.store().allocatedBytes() + tree.treeBytes()) / n);
        result.put("raw_bytes_per_key", raw);
    }

    /**
     * Builds and drops a tree over other keys first, so head 0's timed inserts run compiled code, as
     * they would in a server that has been up for a while (the Vector API is slow until compiled).
     */
    private void warmUpInserts() {
        int count = Math.min(n, 1 << 16);
        float[] keyRows = new float[count * dim];
        float[] valueRows = new float[count * dim];
        SyntheticKeys source = new SyntheticKeys(dim, ~seed);
        SplittableRandom noise = new SplittableRandom(~seed);
        for (int t = 0; t < count; t++) {
            source.keyValue(t, noise, keyRows, t * dim, valueRows, t * dim);
        }
        AttentionTree tree = AttentionTree.builder()
                .store(HeadStore.builder().keyDim(dim).valueDim(dim).build())
                .build();
        appendAll(tree, keyRows, valueRows, count);
    }

    /**
     * The tree with the smallest beam (of {@link #BEAMS_AT_RECALL}, then the default) whose recall reaches
     * {@code target}: compares speed with JVector at equal recall, where the default beam buys more recall
     * than JVector's. The beams step by about a quarter, so the one found overshoots JVector's recall
     * little (with steps of 2×, beam 16 on MiniLM keys reached 0.80 against JVector's 0.72).
     */
    private Map<String, Object> treeAtRecall(AttentionTree tree, float[] keyRows, List<float[]> timed,
            SearchParams params, double target) {
        Map<String, Object> point = new LinkedHashMap<>();
        for (int candidate : beamsUpTo(params.beam())) {
            SearchParams narrower = params.toBuilder().beam(candidate).build();
            double[] nanos = new double[timed.size()];
            double recall = 0;
            for (int i = 0; i < timed.size(); i++) {
                long start = System.nanoTime();
                long[] found = tree.search(timed.get(i), narrower).positions();
                nanos[i] = System.nanoTime() - start;
                recall += recall(bruteForceTopK(keyRows, n, timed.get(i)), found);
            }
            point.put("beam", candidate);
            point.put("ms_per_head", median(nanos) / 1e6);
            point.put("recall", recall / timed.size());
            if (recall / timed.size() >= target) {
                break;
            }
        }
        return point;
    }

    /** The beams up to (and ending at) {@code beam}, for {@link #treeAtRecall}. */
    private static int[] beamsUpTo(int beam) {
        return IntStream.concat(IntStream.of(BEAMS_AT_RECALL).filter(b -> b < beam), IntStream.of(beam)).toArray();
    }

    private double appendAll(AttentionTree tree, float[] keyRows, float[] valueRows, int count) {
        float[] key = new float[dim];
        float[] value = new float[dim];
        long start = System.nanoTime();
        for (int t = 0; t < count; t++) {
            System.arraycopy(keyRows, t * dim, key, 0, dim);
            System.arraycopy(valueRows, t * dim, value, 0, dim);
            tree.append(key, value);
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private TreeSettings treeSettings() {
        TreeSettings.Builder settings = TreeSettings.builder();
        if (leaf != null) {
            settings.leafCapacity(leaf);
        }
        return settings.build();
    }

    private List<TensorData> tensors(String name, List<Segment> segments) {
        List<TensorData> tensors = new ArrayList<>();
        for (Segment segment : segments) {
            tensors.add(TensorData.floats(name, segment.rows(), 1, segment.rowCount(), dim));
        }
        return tensors;
    }

    private TensorData queryTensor(float[] query) {
        return TensorData.floats("queries", query, 1, dim);
    }

    /** The exact top-k positions among the first {@code count} keys by a plain scan, higher score first, lower position on ties. */
    private long[] bruteForceTopK(float[] keyRows, int count, float[] query) {
        int size = Math.min(k, count);
        // A min-heap of (score, position) holding the best seen; the root is the worst kept.
        float[] scores = new float[size];
        int[] positions = new int[size];
        int kept = 0;
        for (int t = 0; t < count; t++) {
            float score = 0;
            for (int d = 0; d < dim; d++) {
                score += keyRows[t * dim + d] * query[d];
            }
            if (kept < size) {
                scores[kept] = score;
                positions[kept] = t;
                siftUp(scores, positions, kept++);
            } else if (score > scores[0]) {
                scores[0] = score;
                positions[0] = t;
                siftDown(scores, positions, size);
            }
        }
        return Arrays.stream(positions).asLongStream().toArray();
    }

    private static void siftUp(float[] scores, int[] positions, int i) {
        while (i > 0 && worse(scores, positions, i, (i - 1) / 2)) {
            swap(scores, positions, i, (i - 1) / 2);
            i = (i - 1) / 2;
        }
    }

    private static void siftDown(float[] scores, int[] positions, int size) {
        int i = 0;
        while (true) {
            int worst = i;
            for (int child = 2 * i + 1; child <= 2 * i + 2 && child < size; child++) {
                if (worse(scores, positions, child, worst)) {
                    worst = child;
                }
            }
            if (worst == i) {
                return;
            }
            swap(scores, positions, i, worst);
            i = worst;
        }
    }

    private static boolean worse(float[] scores, int[] positions, int a, int b) {
        return scores[a] < scores[b] || (scores[a] == scores[b] && positions[a] > positions[b]);
    }

    private static void swap(float[] scores, int[] positions, int a, int b) {
        float s = scores[a];
        scores[a] = scores[b];
        scores[b] = s;
        int p = positions[a];
        positions[a] = positions[b];
        positions[b] = p;
    }

    /** Fraction of the exact top-k among the first k retrieved positions. */
    private double recall(long[] exact, long[] retrieved) {
        int limit = Math.min(k, retrieved.length);
        int hits = 0;
        for (long e : exact) {
            for (int i = 0; i < limit; i++) {
                if (retrieved[i] == e) {
                    hits++;
                    break;
                }
            }
        }
        return (double) hits / exact.length;
    }

    private static double relativeError(float[] approximate, float[] exact) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < exact.length; i++) {
            double d = approximate[i] - exact[i];
            diff += d * d;
            norm += (double) exact[i] * exact[i];
        }
        return Math.sqrt(diff / norm);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private void checkArguments() {
        if (n <= 0 || heads <= 0 || dim <= 0 || k <= 0 || queries <= 0 || warmup < 0 || treeThreads <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--n, --heads, --dim, --k, --queries"
                    + " and --tree-threads must be positive and --warmup zero or more");
        }
        if (baselineN < 0 || baselineN >= n) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--baseline-n must be 0 (no baseline) or a size below --n (" + n + "), got " + baselineN);
        }
        if ((long) n * dim > Integer.MAX_VALUE - 8) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--n x --dim must stay below 2^31 floats per head in this harness");
        }
        switch (keys) {
            case "synthetic" -> { }
            case "corpus" -> {
                if (corpus == null || corpus.isEmpty()) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            "--keys corpus needs --corpus FILE (a text file, e.g. ../shared/data/<book>.txt)");
                }
                for (Path file : corpus) {
                    if (!Files.isRegularFile(file)) {
                        throw new CommandLine.ParameterException(spec.commandLine(),
                                "--corpus " + file + " is not a readable file");
                    }
                }
            }
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    "--keys must be synthetic or corpus, got '" + keys + "'");
        }
    }
}
