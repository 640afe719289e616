package dev.arbor.retrieval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.arbor.encoder.MiniLmEncoder;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import dev.arbor.tree.SearchMode;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Needle retrieval on about 1 MB of a real book, the document streamed in 64 KiB pieces the way
 * the server ingests it. Encoding the book dominates the run time (about a minute on 2 cores).
 */
class SpanRetrieverTest {
    private static final int BOOK_CHARS = Integer.getInteger("arbor.needle.chars", 1_000_000);
    private static MiniLmEncoder encoder;
    private static Needles needles;
    private static SearchableDocument document;
    private static long tokens;

    @BeforeAll
    static void ingest() {
        encoder = MiniLmEncoder.open(new SessionFactory(SessionSettings.defaults()));
        needles = Needles.planted("the-count-of-monte-cristo.txt", BOOK_CHARS);
        document = SearchableDocument.builder().encoder(encoder).build();
        String text = needles.haystack();
        for (int at = 0; at < text.length(); at += 65_536) {
            document.append(text.substring(at, Math.min(text.length(), at + 65_536)));
        }
        tokens = document.finish();
    }

    @AfterAll
    static void close() {
        encoder.close();
    }

    @Test
    void ingestCountsEveryTokenOfTheText() {
        assertEquals(encoder.tokenizer().count(needles.haystack()), tokens);
        assertEquals(tokens, document.committedTokens());
        assertEquals(needles.haystack().length(), document.receivedChars());
    }

    @Test
    void eachPlantedNeedleIsTheTopSpanForItsQuestion() {
        for (Needles.Needle needle : needles.needles()) {
            List<Span> spans = document.retrieve(needle.question(), 5);
            Span top = spans.getFirst();
            assertEquals(needle.sentence(), top.text(), "depth " + needle.depth() + ": " + spans);
            assertEquals(needle.start(), top.start());
            assertEquals(needle.start() + needle.sentence().length(), top.end());
        }
    }

    @Test
    void exactSearchAgreesOnTheTopSpan() {
        for (Needles.Needle needle : needles.needles()) {
            List<Span> exact = document.retrieve(needle.question(), 1, SearchMode.EXACT);
            assertEquals(needle.sentence(), exact.getFirst().text(), "depth " + needle.depth());
        }
    }

    @Test
    void spansAreBestFirstAndDoNotOverlap() {
        List<Span> spans = document.retrieve("Who was imprisoned in the Château d'If?", 20);
        assertEquals(20, spans.size());
        for (int i = 1; i < spans.size(); i++) {
            assertTrue(spans.get(i - 1).score() >= spans.get(i).score(), "best first at " + i);
        }
        for (Span a : spans) {
            assertEquals(needles.haystack().substring((int) a.start(), (int) a.end()), a.text());
            for (Span b : spans) {
                assertTrue(a == b || a.end() <= b.start() || b.end() <= a.start(), a + " overlaps " + b);
            }
        }
    }

    @Test
    void badQuestionsAreRejectedWithAReason() {
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> document.retrieve("  ", 3));
        assertTrue(empty.getMessage().contains("question is empty"), empty.getMessage());
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> document.retrieve("who?", 0));
        assertTrue(zero.getMessage().contains("between 1 and 100"), zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> document.retrieve("who?", 101));
        assertThrows(IllegalArgumentException.class, () -> document.retrieve("why ".repeat(600), 3));
    }
}
