package dev.arbor.retrieval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.arbor.encoder.EncodedTokens;
import dev.arbor.encoder.MiniLmEncoder;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import dev.arbor.tree.AttentionTree;
import dev.arbor.tree.SearchMode;
import dev.arbor.tree.SearchParams;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SpanIndexTest {
    private static MiniLmEncoder encoder;

    @BeforeAll
    static void open() {
        encoder = MiniLmEncoder.open(new SessionFactory(SessionSettings.defaults()));
    }

    @AfterAll
    static void close() {
        encoder.close();
    }

    @Test
    void spansEndAtSentencesClosingQuotesAndParagraphBreaks() {
        String text = "He said, \"Come here at once.\" She came slowly.\n\nCHAPTER II\n\n"
                + "Mr. Smith arrived late that night. Why?";
        List<String> spans = spanTexts(text, index(text));

        assertEquals(List.of("He said, \"Come here at once.\"", "She came slowly.", "CHAPTER II",
                "Mr. Smith arrived late that night.", "Why?"), spans);
    }

    @Test
    void aLongSentenceIsCutSoASpanStaysOneIdea() {
        String text = "and then ".repeat(100).trim() + ".";
        SpanIndex index = index(text);
        List<String> spans = spanTexts(text, index);

        assertTrue(spans.size() >= 200 / SpanIndex.MAX_SPAN_TOKENS, spans.size() + " spans");
        assertEquals(text, String.join(" ", spans), "spans cover the text, in order, without overlap");
    }

    @Test
    void eachSpanKeyIsItsNormalisedPooledTokenVector() {
        String text = "The lighthouse keeper painted his door orange. The baker sold bread.";
        EncodedTokens tokens = encoder.encode(text);
        SpanIndex index = new SpanIndex(encoder.tokenizer());
        index.add(tokens);
        index.finish();

        float[] firstSentence = new float[MiniLmEncoder.DIMENSION];
        int lastOfFirst = text.indexOf('.');
        for (int t = 0; t < tokens.size() && tokens.starts()[t] <= lastOfFirst; t++) {
            for (int d = 0; d < firstSentence.length; d++) {
                firstSentence[d] += tokens.vectors()[t * MiniLmEncoder.DIMENSION + d];
            }
        }
        dev.arbor.encoder.Vectors.normalised(firstSentence);
        SpanIndex.SpanHit[] hits = index.search(firstSentence,
                SearchParams.builder().k(1).mode(SearchMode.EXACT).sinks(0).window(0).build());

        assertEquals(0, hits[0].span());
        assertEquals(1.0, hits[0].score(), 1e-5);
    }

    @Test
    void tokensOutOfOrderOrAWrongTreeAreRejected() {
        SpanIndex index = new SpanIndex(encoder.tokenizer());
        EncodedTokens tokens = encoder.encode("A first sentence here.");
        EncodedTokens shifted = new EncodedTokens(5, tokens.ids(), tokens.starts(), tokens.ends(), tokens.vectors(),
                tokens.dimension());
        IllegalArgumentException gap = assertThrows(IllegalArgumentException.class, () -> index.add(shifted));
        assertTrue(gap.getMessage().contains("expected token 0"), gap.getMessage());

        AttentionTree wrong = AttentionTree.builder().keyDim(64).valueDim(1).build();
        assertThrows(IllegalArgumentException.class, () -> new SpanIndex(encoder.tokenizer(), wrong));
    }

    private static SpanIndex index(String text) {
        SpanIndex index = new SpanIndex(encoder.tokenizer());
        index.add(encoder.encode(text));
        index.finish();
        return index;
    }

    private static List<String> spanTexts(String text, SpanIndex index) {
        List<String> spans = new ArrayList<>();
        for (int s = 0; s < index.spanCount(); s++) {
            long[] range = index.spanRange(s);
            spans.add(text.substring((int) range[0], (int) range[1]));
        }
        return spans;
    }
}
