package dev.arbor.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.arbor.encoder.DocumentEncoder;
import dev.arbor.encoder.EncodedTokens;
import dev.arbor.encoder.MiniLmEncoder;
import dev.arbor.encoder.Vectors;
import dev.arbor.encoder.WindowPlan;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import dev.arbor.retrieval.SpanIndex;
import dev.arbor.tree.SearchMode;
import dev.arbor.tree.SearchParams;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Which keys answer questions best: needles (invented facts) are planted at evenly spread depths of
 * a real book, the book is encoded once, and each question ranks the sentence spans under three
 * key choices. {@code span_pooled}: one key per sentence, the mean of its token vectors, against
 * the question's sentence embedding (what {@link SpanIndex} stores). {@code token_maxsim}: every
 * token is a key; a span scores the sum over question tokens of its best token match (late
 * interaction). {@code token_max}: every token is a key; a span scores its best token against the
 * question's sentence embedding. Token scores are computed by exact scan, the best a tree over
 * token keys could return. Reports top-1 accuracy and mean rank of the needle's span.
 */
@Command(name = "retrieval-accuracy", mixinStandardHelpOptions = true,
        description = "Needle retrieval accuracy of pooled span keys versus per-token keys.")
public final class RetrievalAccuracyBenchmark implements Callable<Integer> {
    /** A fact, a question that shares its words, and a paraphrased question that mostly does not. */
    private static final String[][] FACTS = {
        {"The secret ingredient in Grandmother Olga's famous soup was a spoonful of crushed juniper berries.",
            "What was the secret ingredient in Olga's soup?",
            "Which berries gave the old woman's broth its flavour?"},
        {"The lighthouse keeper painted the door of his cottage bright orange every spring.",
            "What colour did the lighthouse keeper paint his door?",
            "How did the man who tended the beacon decorate his house each year?"},
        {"Colonel Bragov kept his gold pocket watch hidden inside a hollowed-out dictionary.",
            "Where did the colonel hide his pocket watch?",
            "In which book was the officer's timepiece concealed?"},
        {"The train to Vladivostok was delayed for nine hours because a bear slept on the tracks.",
            "Why was the train to Vladivostok delayed?",
            "What animal held up the railway journey to the Pacific port?"},
        {"Marguerite's parrot could whistle the first bars of the national anthem perfectly.",
            "What tune could Marguerite's parrot whistle?",
            "Which song did the bird know?"},
        {"The password to the smugglers' cellar was the word 'pomegranate' spoken twice.",
            "What was the password to the smugglers' cellar?",
            "Which fruit opened the hidden room of the contraband dealers?"},
        {"Doctor Havel measured the height of the cathedral tower at exactly sixty-three metres.",
            "How tall was the cathedral tower?",
            "What was the measured elevation of the church steeple?"},
        {"Every Thursday the baker gave the orphans a basket of warm cinnamon rolls.",
            "What did the baker give the orphans on Thursdays?",
            "Which pastries did the children without parents receive each week?"},
        {"The old fisherman named his boat Esperanza after his late wife.",
            "Why was the fisherman's boat called Esperanza?",
            "Whom did the sailor honour with the name of his vessel?"},
    };

    @Option(names = "--text", description = "UTF-8 book (default: the-count-of-monte-cristo.txt in ../shared/data).")
    Path text;

    @Option(names = "--chars", defaultValue = "300000", description = "Characters of the book (default: ${DEFAULT-VALUE}).")
    int chars;

    @Option(names = "--window", defaultValue = "-1", description = "Text tokens per window (default: the encoder's).")
    int window;

    @Option(names = "--overlap", defaultValue = "-1", description = "Tokens shared by neighbouring windows (default: the encoder's).")
    int overlap;

    @Option(names = "--json", description = "Write the result as one JSON object to this file.")
    Path json;

    @Override
    public Integer call() throws IOException {
        Path source = text != null ? text
                : Path.of(System.getProperty("arbor.shared.dir", "../shared"), "data", "the-count-of-monte-cristo.txt");
        String book = Files.readString(source, StandardCharsets.UTF_8);
        String base = book.substring(100_000, 100_000 + chars);

        StringBuilder haystack = new StringBuilder();
        long[] needleStarts = new long[FACTS.length];
        int from = 0;
        for (int i = 0; i < FACTS.length; i++) {
            int at = base.indexOf("\n\n", (int) ((i + 0.5) / FACTS.length * chars)) + 2;
            haystack.append(base, from, at);
            needleStarts[i] = haystack.length();
            haystack.append(FACTS[i][0]).append("\n\n");
            from = at;
        }
        haystack.append(base, from, base.length());

        try (MiniLmEncoder encoder = MiniLmEncoder.open(new SessionFactory(SessionSettings.defaults()))) {
            SpanIndex index = new SpanIndex(encoder.tokenizer());
            List<EncodedTokens> batches = new ArrayList<>();
            WindowPlan defaults = WindowPlan.defaults();
            WindowPlan plan = new WindowPlan(window > 0 ? window : defaults.windowTokens(),
                    overlap >= 0 ? overlap : defaults.overlapTokens(), defaults.batchWindows());
            DocumentEncoder document = encoder.newDocument(plan);
            String all = haystack.toString();
            for (int at = 0; at < all.length(); at += 65_536) {
                batches.add(document.append(all.substring(at, Math.min(all.length(), at + 65_536))));
            }
            batches.add(document.finish());
            batches.forEach(index::add);
            index.finish();

            Tokens tokens = Tokens.of(batches, index);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("window_tokens", plan.windowTokens());
            out.put("overlap_tokens", plan.overlapTokens());
            out.put("chars", all.length());
            out.put("tokens", tokens.count);
            out.put("spans", index.spanCount());
            String[] names = {"span_pooled_exact", "span_pooled_tree_beam32", "token_maxsim", "token_max"};
            for (int variant = 1; variant <= 2; variant++) {
                int[][] ranks = new int[names.length][FACTS.length];
                double[][] margins = new double[names.length][FACTS.length];
                for (int i = 0; i < FACTS.length; i++) {
                    int needle = tokens.spanOf(needleStarts[i]);
                    String questionText = FACTS[i][variant];
                    float[] question = encoder.sentenceEmbedding(questionText);
                    EncodedTokens questionTokens = encoder.encode(questionText);
                    double[][] scores = {
                        spanPooledScores(index, question, SearchMode.EXACT),
                        spanPooledScores(index, question, SearchMode.APPROXIMATE),
                        tokens.maxSimScores(questionTokens),
                        tokens.maxScores(question)};
                    for (int s = 0; s < names.length; s++) {
                        ranks[s][i] = rank(scores[s], needle);
                        margins[s][i] = margin(scores[s], needle);
                        if (Double.isInfinite(margins[s][i])) {
                            margins[s][i] = Double.NaN;
                        }
                    }
                }
                Map<String, Object> questions = new LinkedHashMap<>();
                for (int s = 0; s < names.length; s++) {
                    Map<String, Object> summary = new LinkedHashMap<>();
                    int top1 = 0;
                    double rankSum = 0;
                    double marginSum = 0;
                    for (int i = 0; i < FACTS.length; i++) {
                        top1 += ranks[s][i] == 1 ? 1 : 0;
                        rankSum += ranks[s][i];
                        marginSum += margins[s][i];
                    }
                    summary.put("top1", top1 + "/" + FACTS.length);
                    summary.put("mean_rank", rankSum / FACTS.length);
                    summary.put("mean_relative_margin", Double.isNaN(marginSum) ? "n/a (needle beyond the top 100)"
                            : (Object) (Math.round(marginSum / FACTS.length * 1000) / 1000.0));
                    summary.put("ranks", ranks[s]);
                    questions.put(names[s], summary);
                }
                out.put(variant == 1 ? "questions_sharing_words" : "paraphrased_questions", questions);
            }
            String result = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out);
            System.out.println(result);
            if (json != null) {
                Files.writeString(json, result + System.lineSeparator(), StandardCharsets.UTF_8);
            }
        }
        return 0;
    }

    /** Scores of every span; spans the search did not return score minus infinity (no margin then). */
    private static double[] spanPooledScores(SpanIndex index, float[] question, SearchMode mode) {
        double[] scores = new double[index.spanCount()];
        java.util.Arrays.fill(scores, Double.NEGATIVE_INFINITY);
        // Exact search ranks every span; the beam returns the top 100 as the retriever would.
        int k = mode == SearchMode.EXACT ? scores.length : Math.min(100, scores.length);
        SearchParams params = SearchParams.builder().k(k).mode(mode).beam(100).sinks(0).window(0).build();
        for (SpanIndex.SpanHit hit : index.search(question, params)) {
            scores[hit.span()] = hit.score();
        }
        return scores;
    }

    /**
     * (needle score - best other score) / |best other score|: how clearly the needle wins (positive)
     * or loses (negative), comparable across scoring rules of different scales.
     */
    private static double margin(double[] scores, int needle) {
        double bestOther = Double.NEGATIVE_INFINITY;
        for (int s = 0; s < scores.length; s++) {
            if (s != needle) {
                bestOther = Math.max(bestOther, scores[s]);
            }
        }
        return (scores[needle] - bestOther) / Math.abs(bestOther);
    }

    /** 1 + the number of spans scoring above the needle's span. */
    private static int rank(double[] scores, int needle) {
        int rank = 1;
        for (double score : scores) {
            rank += score > scores[needle] ? 1 : 0;
        }
        return rank;
    }

    /** Every document token's normalised vector and the span it belongs to. */
    private record Tokens(int count, float[][] vectors, int[] span, long[][] spanRanges) {
        static Tokens of(List<EncodedTokens> batches, SpanIndex index) {
            int count = batches.stream().mapToInt(EncodedTokens::size).sum();
            float[][] vectors = new float[count][];
            long[] starts = new long[count];
            int t = 0;
            for (EncodedTokens batch : batches) {
                for (int i = 0; i < batch.size(); i++, t++) {
                    vectors[t] = Vectors.normalised(batch.vector(i));
                    starts[t] = batch.starts()[i];
                }
            }
            long[][] ranges = new long[index.spanCount()][];
            for (int s = 0; s < ranges.length; s++) {
                ranges[s] = index.spanRange(s);
            }
            int[] span = new int[count];
            int s = 0;
            for (t = 0; t < count; t++) {
                while (starts[t] >= ranges[s][1]) {
                    s++;
                }
                span[t] = s;
            }
            return new Tokens(count, vectors, span, ranges);
        }

        int spanOf(long charStart) {
            for (int s = 0; s < spanRanges.length; s++) {
                if (spanRanges[s][0] == charStart) {
                    return s;
                }
            }
            throw new IllegalStateException("no span starts at the needle's character " + charStart);
        }

        double[] maxSimScores(EncodedTokens question) {
            double[] scores = new double[spanRanges.length];
            double[] best = new double[spanRanges.length];
            for (int q = 0; q < question.size(); q++) {
                float[] qv = Vectors.normalised(question.vector(q));
                java.util.Arrays.fill(best, Double.NEGATIVE_INFINITY);
                for (int t = 0; t < count; t++) {
                    best[span[t]] = Math.max(best[span[t]], Vectors.dot(qv, vectors[t]));
                }
                for (int s = 0; s < scores.length; s++) {
                    scores[s] += best[s];
                }
            }
            return scores;
        }

        double[] maxScores(float[] question) {
            double[] scores = new double[spanRanges.length];
            java.util.Arrays.fill(scores, Double.NEGATIVE_INFINITY);
            for (int t = 0; t < count; t++) {
                scores[span[t]] = Math.max(scores[span[t]], Vectors.dot(question, vectors[t]));
            }
            return scores;
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new RetrievalAccuracyBenchmark()).execute(args));
    }
}
