package dev.arbor.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class AttentionBenchmarkTest {
    private static final String[] SMALL = {"--heads", "2", "--dim", "16", "--k", "8", "--queries", "6",
        "--warmup", "2", "--no-jvector"};

    @TempDir
    Path directory;

    /**
     * The baseline trees are the first keys of each head, queried as a run of that size queries them:
     * their recall and error are the smaller run's (times differ, quality may not).
     */
    @Test
    void baselineMeasuresWhatASeparateRunOfItsSizeMeasures() throws IOException {
        JsonNode side = run("--n", "4096", "--baseline-n", "1024", "--json", directory.resolve("side.json").toString());
        JsonNode alone = run("--n", "1024", "--json", directory.resolve("alone.json").toString());

        JsonNode baseline = side.get("baseline");
        assertEquals(1024, baseline.get("n").asInt());
        assertEquals(alone.get("recall_at_k").asDouble(), baseline.get("recall_at_k").asDouble(), 1e-12);
        assertEquals(alone.get("rel_error").asDouble(), baseline.get("rel_error").asDouble(), 1e-6);
        assertNotEquals(side.get("rel_error").asDouble(), baseline.get("rel_error").asDouble(),
                "the full trees were measured, not the baseline twice");
        double growth = side.get("tree_growth").asDouble();
        assertEquals(side.get("tree_ms").asDouble() / baseline.get("tree_ms").asDouble(), growth, 1e-9 * growth);
        assertEquals(1, side.get("tree_growth_by_block").size(), "6 queries make one block of up to 10");
    }

    @Test
    void rejectsABaselineNotSmallerThanTheKeys() {
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        CommandLine command = new CommandLine(new AttentionBenchmark()).setErr(new PrintWriter(errors, true));
        int exit = command.execute("--n", "1024", "--baseline-n", "1024", "--no-jvector");

        assertEquals(2, exit);
        assertTrue(errors.toString().contains("--baseline-n must be 0 (no baseline) or a size below --n (1024)"),
                errors.toString());
    }

    private JsonNode run(String... args) throws IOException {
        String[] all = new String[SMALL.length + args.length];
        System.arraycopy(SMALL, 0, all, 0, SMALL.length);
        System.arraycopy(args, 0, all, SMALL.length, args.length);
        PrintStream out = System.out;
        try {
            System.setOut(new PrintStream(new ByteArrayOutputStream()));
            assertEquals(0, new CommandLine(new AttentionBenchmark()).execute(all));
        } finally {
            System.setOut(out);
        }
        return new ObjectMapper().readTree(Path.of(all[all.length - 1]).toFile());
    }
}
