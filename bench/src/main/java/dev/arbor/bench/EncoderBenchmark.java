package dev.arbor.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.arbor.encoder.DocumentEncoder;
import dev.arbor.encoder.MiniLmEncoder;
import dev.arbor.encoder.WindowPlan;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Document encoding throughput of the embedded MiniLM encoder: characters of a real book stream
 * through {@link DocumentEncoder} in 64 KiB pieces, and the score is document tokens per second of
 * wall time. Tokenization and the overlap between windows are part of the cost, because the tokens
 * a window shares with its neighbour are counted once.
 */
@Command(name = "encoder", mixinStandardHelpOptions = true,
        description = "Measures MiniLM document encoding throughput (encoder_tokens_per_s).")
public final class EncoderBenchmark implements Callable<Integer> {
    private static final int PIECE_CHARS = 64 * 1024;
    private static final int WARM_UP_CHARS = 20_000;

    @Option(names = "--text", description = "UTF-8 text to encode (default: war-and-peace.txt in ../shared/data).")
    Path text;

    @Option(names = "--chars", defaultValue = "200000", description = "Characters of the text to encode (default: ${DEFAULT-VALUE}).")
    int chars;

    @Option(names = "--window", defaultValue = "-1", description = "Text tokens per window (default: the encoder's).")
    int window;

    @Option(names = "--overlap", defaultValue = "-1", description = "Tokens shared by neighbouring windows (default: the encoder's).")
    int overlap;

    @Option(names = "--batch", defaultValue = "-1", description = "Windows per model call (default: the encoder's).")
    int batch;

    @Option(names = "--threads", defaultValue = "0", description = "ONNX Runtime intra-op threads (default: one per core).")
    int threads;

    @Option(names = "--json", description = "Write the result as one JSON object to this file.")
    Path json;

    /** One measurement. */
    public record Result(long tokens, long chars, double seconds, double cpuSeconds, WindowPlan plan, int threads) {
        public double tokensPerSecond() {
            return tokens / seconds;
        }

        public Map<String, Object> toJson() {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("encoder_tokens_per_s", Math.round(tokensPerSecond() * 10) / 10.0);
            fields.put("tokens", tokens);
            fields.put("chars", chars);
            fields.put("seconds", Math.round(seconds * 1000) / 1000.0);
            // On a shared machine wall time depends on the neighbours; CPU time shows the cost itself.
            fields.put("cpu_seconds", Math.round(cpuSeconds * 1000) / 1000.0);
            fields.put("encoder_tokens_per_cpu_s", Math.round(tokens / cpuSeconds * 10) / 10.0);
            fields.put("window_tokens", plan.windowTokens());
            fields.put("overlap_tokens", plan.overlapTokens());
            fields.put("batch_windows", plan.batchWindows());
            fields.put("intra_op_threads", threads);
            return fields;
        }
    }

    /**
     * {@code encoder_tokens_per_s} for {@code arbor bench model --model minilm}: the default window
     * plan, one thread per core, over the first 200,000 characters of {@code text}.
     */
    public static double encoderTokensPerSecond(String text) {
        String sample = text.substring(0, Math.min(200_000, text.length()));
        return measure(sample, SessionSettings.defaults(), WindowPlan.defaults()).tokensPerSecond();
    }

    /** Encodes the start of {@code sample} once to warm up, then all of it, timed. */
    public static Result measure(String sample, SessionSettings settings, WindowPlan plan) {
        try (MiniLmEncoder encoder = MiniLmEncoder.open(new SessionFactory(settings))) {
            encode(encoder, sample.substring(0, Math.min(WARM_UP_CHARS, sample.length())), plan);
            long cpuStart = processCpuNanos();
            long start = System.nanoTime();
            long tokens = encode(encoder, sample, plan);
            double seconds = (System.nanoTime() - start) / 1e9;
            double cpuSeconds = (processCpuNanos() - cpuStart) / 1e9;
            return new Result(tokens, sample.length(), seconds, cpuSeconds, plan, settings.intraOpThreads());
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static long encode(MiniLmEncoder encoder, String text, WindowPlan plan) {
        DocumentEncoder document = encoder.newDocument(plan);
        for (int at = 0; at < text.length(); at += PIECE_CHARS) {
            document.append(text.substring(at, Math.min(text.length(), at + PIECE_CHARS)));
        }
        document.finish();
        return document.committedTokens();
    }

    @Override
    public Integer call() throws IOException {
        Path source = text != null ? text : defaultText();
        String content = Files.readString(source, StandardCharsets.UTF_8);
        String sample = content.substring(0, Math.min(chars, content.length()));
        WindowPlan defaults = WindowPlan.defaults();
        WindowPlan plan = new WindowPlan(
                window > 0 ? window : defaults.windowTokens(),
                overlap >= 0 ? overlap : defaults.overlapTokens(),
                batch > 0 ? batch : defaults.batchWindows());
        SessionSettings settings = threads > 0
                ? SessionSettings.builder().intraOpThreads(threads).build()
                : SessionSettings.defaults();
        Result result = measure(sample, settings, plan);
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        String out = mapper.writeValueAsString(result.toJson());
        System.out.println(out);
        if (json != null) {
            Files.writeString(json, out + System.lineSeparator(), StandardCharsets.UTF_8);
        }
        return 0;
    }

    private static Path defaultText() {
        String shared = System.getProperty("arbor.shared.dir", "../shared");
        Path path = Path.of(shared, "data", "war-and-peace.txt");
        if (!Files.isRegularFile(path)) {
            throw new CommandLine.ParameterException(new CommandLine(new EncoderBenchmark()),
                    "no text to encode: " + path.toAbsolutePath() + " is missing; pass --text FILE");
        }
        return path;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new EncoderBenchmark()).execute(args));
    }
}
