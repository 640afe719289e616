package dev.arbor.retrieval;

import dev.arbor.testing.SharedData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

/** Facts planted in a real book, each with a question only that fact answers. */
record Needles(String haystack, List<Needle> needles) {

    record Needle(String sentence, String question, double depth, long start) {}

    static final List<String[]> FACTS = List.of(
            new String[] {
                "The secret ingredient in Grandmother Olga's famous soup was a spoonful of crushed juniper berries.",
                "What was the secret ingredient in Olga's soup?"},
            new String[] {
                "The lighthouse keeper painted the door of his cottage bright orange every spring.",
                "What colour did the lighthouse keeper paint his door?"},
            new String[] {
                "Colonel Bragov kept his gold pocket watch hidden inside a hollowed-out dictionary.",
                "Where did the colonel hide his pocket watch?"});

    /**
     * {@code chars} characters of {@code book} from its 100,000th character, with fact i planted at
     * depth 10%, 50% and 90% (at the next paragraph break).
     */
    static Needles planted(String book, int chars) {
        String text = read(book).substring(100_000, 100_000 + chars);
        double[] depths = {0.1, 0.5, 0.9};
        StringBuilder haystack = new StringBuilder();
        List<Needle> needles = new java.util.ArrayList<>();
        int from = 0;
        for (int i = 0; i < depths.length; i++) {
            int at = text.indexOf("\n\n", (int) (depths[i] * chars)) + 2;
            haystack.append(text, from, at);
            String sentence = FACTS.get(i)[0];
            needles.add(new Needle(sentence, FACTS.get(i)[1], depths[i], haystack.length()));
            haystack.append(sentence).append("\n\n");
            from = at;
        }
        haystack.append(text, from, text.length());
        return new Needles(haystack.toString(), needles);
    }

    private static String read(String book) {
        try {
            return Files.readString(SharedData.book(book), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
