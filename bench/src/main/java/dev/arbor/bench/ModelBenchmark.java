package dev.arbor.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.arbor.decoder.AttentionMode;
import dev.arbor.decoder.Checkpoint;
import dev.arbor.decoder.DecoderContext;
import dev.arbor.decoder.LlamaModel;
import dev.arbor.decoder.Sampler;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import dev.arbor.tree.HeadWorkers;
import dev.arbor.tree.SearchParams;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Decoder benchmark: prefill throughput, decode time per token at long contexts with exact and tree
 * attention side by side, and perplexity with both over text the model wrote itself.
 *
 * <p>The evaluation text is a run of stories sampled from the model with exact attention (temperature
 * 1, seed 42, BOS between stories). Long contexts are filled by running that text (repeated) through
 * the model as a chunked tree-attention prefill with a narrow search ({@link #FILL_SEARCH}: dense
 * prefill of 64K tokens is quadratic, and only the keys' presence matters for timing), one context per
 * length, all filled before any is timed. Decode time is then the median over steps on those contexts,
 * exact and tree attention (the decoder's default tree search unless --top-k/--beam/--sinks/--window say
 * otherwise) in blocks of consecutive steps of one mode: {@link #DECODE_ROUNDS} timed rounds after
 * {@link #UNTIMED_ROUNDS} untimed, each timing a block of one mode at every length in turn and then a
 * block of the other mode at every length, tree first in even rounds and exact first in odd ones. The
 * blocks a ratio between lengths compares thus run back to back: a round's tree blocks take about
 * 0.15 s together, where its exact block at 64K alone takes about 1 s and used to sit between them, so
 * drift in the machine's speed falls on every length alike (the JSON gives each round's block medians
 * too, {@code decode_ms_*_by_round}, to show that drift). Blocks, not alternate
 * steps, because a user decodes with one mode: an exact step at 64K streams the whole 80 MB cache and
 * left the next tree step's nodes and leaves out of cache (a helper's CPU-time
 * probe: 3.1-3.5 ms per tree step at 64K in a row, 4.6-4.7 ms right after exact steps). Before any
 * context is timed, {@link #WARMUP_STEPS} steps of each mode on a throwaway context let the JIT compile
 * the decode path, as JMH's warm-up iterations do. Perplexity with
 * tree attention runs the text as one tree prefill (chunks of 64 tokens, each searching the trees as
 * they were before it).
 */
@Command(name = "model", mixinStandardHelpOptions = true,
        description = "Measures a decoder: prefill_tokens_per_s, decode_ms_exact/decode_ms_tree, ppl_exact/ppl_tree.")
public final class ModelBenchmark implements Callable<Integer> {
    /**
     * Untimed decode steps per mode, on a throwaway context of the first length, before anything is timed.
     * With 8 untimed steps per context instead, the 1K figure was taken while the decode path was still
     * being compiled: a helper's probe found the first 1K block 10-50 % costlier in CPU than a later one,
     * and three idle runs within an hour gave 64K/1K = 1.00x, 1.62x and 2.10x, the 1K figure moving most.
     */
    private static final int WARMUP_STEPS = 256;
    /**
     * Untimed steps at the start of each block, so the steps after a switch of mode, which find the tree's
     * nodes and leaves evicted by the other mode's steps, are not timed. Measured at 64K (one JVM, median of
     * 12 repetitions, tree steps by their index after 18 exact steps): 3.46, 2.62, 2.39, 2.27, 2.25 ms, ...,
     * 2.07 at the tenth and 2.0 from then on; at 1K only the first two steps are slower.
     */
    private static final int BLOCK_LEAD_IN = 8;
    /**
     * Rounds over every context length, each a block of each mode per length, so that all lengths are
     * timed within the same few seconds and a ratio between them does not measure the machine's drift
     * from one minute to the next. Timing each length after filling it put a minute or more between the
     * 1K and 64K figures; on this shared VM exact decode at 64K moved between 26 and 44 ms from one run
     * to the next, and tree 64K/1K between 0.7 and 2.5 in single runs of the same code.
     */
    private static final int DECODE_ROUNDS = 4;
    /**
     * Rounds over every length and mode run untimed before the timed ones, once all contexts are filled,
     * as JMH's warm-up iterations run under the measured conditions: the fills run the prefill path
     * after {@link #WARMUP_STEPS}, and the first timed round after them took 1.5-2.2x the later rounds'
     * time per tree step at 1K, 8K and 64K alike (tenth round, one run on an idle machine: 2.20 / 2.60 / 4.06 ms
     * against 1.43-1.68 / 1.61-1.65 / 1.81-1.96).
     */
    private static final int UNTIMED_ROUNDS = 1;
    /** Search used only while filling long contexts: a handful of leaves keeps the fill affordable. */
    static final SearchParams FILL_SEARCH = SearchParams.builder().k(16).beam(4).build();
    /** Tokens per fill call; the decoder prefills them in its own chunks. */
    private static final int FILL_CHUNK = 4096;

    @Option(names = "--model", required = true,
            description = "minilm (the embedded encoder), a .gguf file, a llama2.c .bin (tokenizer beside it) or a Hugging Face folder.")
    String model;

    @Option(names = "--json", description = "Write the result as one JSON object to this file.")
    Path json;

    @Option(names = "--contexts", split = ",", defaultValue = "1024,8192,65536",
            description = "Context lengths for decode timing (default: ${DEFAULT-VALUE}).")
    int[] contexts;

    @Option(names = "--ppl-contexts", split = ",", defaultValue = "512,4096",
            description = "Context lengths for perplexity (default: ${DEFAULT-VALUE}).")
    int[] pplContexts;

    @Option(names = "--decode-steps", defaultValue = "128", description = "Timed decode steps per context, the two modes"
            + " together: half per mode, in one block per mode and round, 4 rounds (default: ${DEFAULT-VALUE}).")
    int decodeSteps;

    @Option(names = "--top-k", description = "Tree attention: keys retrieved per query head (default: the decoder's).")
    Integer topK;

    @Option(names = "--beam", description = "Tree attention: nodes kept per tree level (default: the decoder's).")
    Integer beam;

    @Option(names = "--sinks", description = "Tree attention: first positions always attended (default: the decoder's).")
    Integer sinks;

    @Option(names = "--window", description = "Tree attention: recent positions always attended (default: the decoder's).")
    Integer window;

    @Option(names = "--threads", defaultValue = "1", description = "ONNX Runtime intra-op threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--attention-threads", description = "Threads tree attention searches the kv heads on"
            + " (default: the processors available, as the server's attention-threads).")
    Integer attentionThreads;

    @Override
    public Integer call() throws IOException {
        if (model.equals("minilm")) {
            // The embedded encoder has no decode loop or perplexity: its figure is encoding throughput.
            String[] encoderArgs = json == null ? new String[0] : new String[] {"--json", json.toString()};
            return new CommandLine(new EncoderBenchmark()).execute(encoderArgs);
        }
        int searchThreads = attentionThreads == null ? Runtime.getRuntime().availableProcessors() : attentionThreads;
        if (searchThreads < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this),
                    "--attention-threads must be at least 1, got " + searchThreads);
        }
        SessionFactory sessions = new SessionFactory(SessionSettings.builder().intraOpThreads(threads).build());
        Map<String, Object> result = new LinkedHashMap<>();
        ExecutorService searchPool = Executors.newFixedThreadPool(Math.max(1, searchThreads - 1), task -> {
            Thread thread = new Thread(task, "attention-search");
            thread.setDaemon(true);
            return thread;
        });
        try (searchPool; LlamaModel decoder = LlamaModel.open(Checkpoint.load(Path.of(model)), sessions,
                HeadWorkers.on(searchPool, searchThreads))) {
            int textLength = Arrays.stream(pplContexts).max().orElse(512);
            int[] text = storiesWrittenByTheModel(decoder, textLength);
            SearchParams tree = treeSearch();
            result.put("model", model);
            result.put("intra_op_threads", threads);
            result.put("attention_threads", searchThreads);
            result.put("tree_search", Map.of("sinks", tree.sinks(), "window", tree.window(), "top_k", tree.k(),
                    "mode", tree.mode().toString(), "beam", tree.beam()));
            result.put("prefill_tokens_per_s", prefillTokensPerSecond(decoder, Arrays.copyOf(text, 512)));
            Map<String, Double> pplExact = new LinkedHashMap<>();
            Map<String, Double> pplTree = new LinkedHashMap<>();
            for (int context : pplContexts) {
                int[] window = Arrays.copyOf(text, context);
                pplExact.put(Integer.toString(context), round(perplexity(decoder, window, null), 4));
                pplTree.put(Integer.toString(context), round(perplexity(decoder, window, tree), 4));
                log("perplexity at " + context + ": exact " + pplExact.get(Integer.toString(context))
                        + ", tree " + pplTree.get(Integer.toString(context)));
            }
            result.put("ppl_exact", pplExact);
            result.put("ppl_tree", pplTree);
            decodeTimes(decoder, text, tree, result);
        }
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        String out = mapper.writeValueAsString(result);
        System.out.println(out);
        if (json != null) {
            mapper.writeValue(json.toFile(), result);
        }
        return 0;
    }

    /** The decoder's default tree search with the options given on the command line. */
    private SearchParams treeSearch() {
        SearchParams defaults = LlamaModel.DEFAULT_TREE_SEARCH;
        return defaults.toBuilder()
                .k(topK == null ? defaults.k() : topK)
                .beam(beam == null ? defaults.beam() : beam)
                .sinks(sinks == null ? defaults.sinks() : sinks)
                .window(window == null ? defaults.window() : window)
                .build();
    }

    /** Stories sampled with exact attention, BOS-separated, exactly {@code length} tokens. */
    static int[] storiesWrittenByTheModel(LlamaModel decoder, int length) {
        long start = System.nanoTime();
        DecoderContext context = decoder.newContext();
        Sampler sampler = new Sampler(1f, 1f, 42);
        int[] tokens = new int[length];
        tokens[0] = decoder.tokenizer().bos();
        for (int i = 1; i < length; i++) {
            tokens[i] = sampler.next(decoder.forward(context, new int[] {tokens[i - 1]}, AttentionMode.EXACT)[0]);
            if (tokens[i] == decoder.tokenizer().eos()) {
                tokens[i] = decoder.tokenizer().bos();
            }
        }
        log("sampled " + length + " tokens of stories in " + seconds(start) + " s");
        return tokens;
    }

    private static double prefillTokensPerSecond(LlamaModel decoder, int[] prompt) {
        List<Double> rates = new ArrayList<>();
        for (int run = 0; run < 5; run++) {
            long start = System.nanoTime();
            decoder.forward(decoder.newContext(), prompt, AttentionMode.EXACT);
            rates.add(prompt.length / ((System.nanoTime() - start) / 1e9));
        }
        return round(median(rates.subList(1, rates.size())), 1);
    }

    /**
     * exp of the mean negative log-likelihood of each next token, each predicted from all before it;
     * with exact attention when {@code tree} is null, else with tree attention searching by it.
     */
    static double perplexity(LlamaModel decoder, int[] tokens, SearchParams tree) {
        AttentionMode mode = tree == null ? AttentionMode.EXACT : AttentionMode.TREE;
        DecoderContext context = tree == null ? decoder.newContext() : decoder.newContext(tree);
        float[][] logits = decoder.forward(context, Arrays.copyOf(tokens, tokens.length - 1), mode);
        double nll = 0;
        for (int t = 0; t < logits.length; t++) {
            nll -= logSoftmax(logits[t], tokens[t + 1]);
        }
        return Math.exp(nll / logits.length);
    }

    private void decodeTimes(LlamaModel decoder, int[] text, SearchParams tree, Map<String, Object> result) {
        int[] targets = Arrays.stream(contexts).sorted().toArray();
        DecoderContext warmup = decoder.newContext();
        fill(decoder, warmup, text, targets[0]);
        warmup.treeParams(tree);
        int next = text[warmup.length() % text.length];
        for (AttentionMode mode : List.of(AttentionMode.TREE, AttentionMode.EXACT)) {
            next = decodeBlock(decoder, warmup, mode, next, WARMUP_STEPS, new ArrayList<>());
        }
        log("warmed up " + WARMUP_STEPS + " decode steps per mode at " + warmup.length() + " tokens");

        DecoderContext[] filled = new DecoderContext[targets.length];
        int[] nextTokens = new int[targets.length];
        for (int c = 0; c < targets.length; c++) {
            filled[c] = decoder.newContext();
            fill(decoder, filled[c], text, targets[c]);
            filled[c].treeParams(tree);
            nextTokens[c] = text[filled[c].length() % text.length];
        }
        List<List<Double>> exactSteps = new ArrayList<>();
        List<List<Double>> treeSteps = new ArrayList<>();
        List<List<Double>> exactBlocks = new ArrayList<>();
        List<List<Double>> treeBlocks = new ArrayList<>();
        for (int c = 0; c < targets.length; c++) {
            exactSteps.add(new ArrayList<>());
            treeSteps.add(new ArrayList<>());
            exactBlocks.add(new ArrayList<>());
            treeBlocks.add(new ArrayList<>());
        }
        int blockSteps = Math.max(1, decodeSteps / (2 * DECODE_ROUNDS));
        for (int round = -UNTIMED_ROUNDS; round < DECODE_ROUNDS; round++) {
            List<AttentionMode> order = Math.floorMod(round, 2) == 0 ? List.of(AttentionMode.TREE, AttentionMode.EXACT)
                    : List.of(AttentionMode.EXACT, AttentionMode.TREE);
            for (AttentionMode mode : order) {
                for (int c = 0; c < targets.length; c++) {
                    List<Double> block = new ArrayList<>();
                    nextTokens[c] = decodeBlock(decoder, filled[c], mode, nextTokens[c], blockSteps, block);
                    if (round >= 0) {
                        (mode == AttentionMode.EXACT ? exactSteps : treeSteps).get(c).addAll(block);
                        (mode == AttentionMode.EXACT ? exactBlocks : treeBlocks).get(c).add(round(median(block), 3));
                    }
                }
            }
        }
        Map<String, Double> exact = new LinkedHashMap<>();
        Map<String, Double> treeMs = new LinkedHashMap<>();
        Map<String, List<Double>> exactByRound = new LinkedHashMap<>();
        Map<String, List<Double>> treeByRound = new LinkedHashMap<>();
        for (int c = 0; c < targets.length; c++) {
            String length = Integer.toString(targets[c]);
            exact.put(length, round(median(exactSteps.get(c)), 3));
            treeMs.put(length, round(median(treeSteps.get(c)), 3));
            exactByRound.put(length, exactBlocks.get(c));
            treeByRound.put(length, treeBlocks.get(c));
            log("decode at " + length + ": exact " + exact.get(length) + " ms, tree " + treeMs.get(length) + " ms");
        }
        result.put("decode_ms_exact", exact);
        result.put("decode_ms_tree", treeMs);
        // Each round's block medians: how far this machine drifted while the medians above were taken.
        result.put("decode_ms_exact_by_round", exactByRound);
        result.put("decode_ms_tree_by_round", treeByRound);
    }

    /** Grows {@code context} to {@code target} tokens of {@code text} by chunked tree prefill with {@link #FILL_SEARCH}. */
    private static void fill(LlamaModel decoder, DecoderContext context, int[] text, int target) {
        long start = System.nanoTime();
        context.treeParams(FILL_SEARCH);
        while (context.length() < target) {
            int[] chunk = new int[Math.min(FILL_CHUNK, target - context.length())];
            for (int i = 0; i < chunk.length; i++) {
                chunk[i] = text[(context.length() + i) % text.length];
            }
            decoder.forward(context, chunk, AttentionMode.TREE);
        }
        log("filled context to " + context.length() + " in " + seconds(start) + " s");
    }

    /**
     * Decodes {@link #BLOCK_LEAD_IN} untimed and then {@code steps} timed greedy steps in {@code mode}, adding
     * each timed step's milliseconds to {@code times}; returns the next token to feed.
     */
    private static int decodeBlock(LlamaModel decoder, DecoderContext context, AttentionMode mode, int next,
            int steps, List<Double> times) {
        for (int step = 0; step < BLOCK_LEAD_IN + steps; step++) {
            long t0 = System.nanoTime();
            float[] logits = decoder.forward(context, new int[] {next}, mode)[0];
            if (step >= BLOCK_LEAD_IN) {
                times.add((System.nanoTime() - t0) / 1e6);
            }
            next = Sampler.greedy().next(logits);
        }
        return next;
    }

    private static double logSoftmax(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        return logits[target] - max - Math.log(sum);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static double round(double value, int decimals) {
        double scale = Math.pow(10, decimals);
        return Math.round(value * scale) / scale;
    }

    private static String seconds(long startNanos) {
        return String.format("%.1f", (System.nanoTime() - startNanos) / 1e9);
    }

    private static void log(String message) {
        System.err.println("[model benchmark] " + message);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new ModelBenchmark()).execute(args));
    }
}
