package dev.arbor.encoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import dev.arbor.testing.SharedData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DocumentEncoderTest {
    private static final WindowPlan SMALL_WINDOWS = new WindowPlan(96, 32, 3);
    private static MiniLmEncoder encoder;
    private static String text;

    @BeforeAll
    static void open() throws Exception {
        encoder = MiniLmEncoder.open(new SessionFactory(SessionSettings.defaults()));
        String book = Files.readString(SharedData.book("les-miserables.txt"), StandardCharsets.UTF_8);
        text = book.substring(500_000, 508_000);
    }

    @AfterAll
    static void close() {
        encoder.close();
    }

    @Test
    void piecesCutAnywhereGiveTheTokensAndOffsetsOfTheWholeText() {
        TokenizedText whole = encoder.tokenizer().tokenize(text);
        EncodedTokens streamed = streamInRandomPieces(text, SMALL_WINDOWS, new Random(7));

        assertEquals(whole.size(), streamed.size());
        assertArrayEquals(whole.ids(), streamed.ids());
        for (int t = 0; t < whole.size(); t++) {
            assertEquals(whole.starts()[t], streamed.starts()[t], "start of token " + t);
            assertEquals(whole.ends()[t], streamed.ends()[t], "end of token " + t);
        }
    }

    @Test
    void vectorsDoNotDependOnHowTheTextWasCut() {
        EncodedTokens oneCall = encodeAtOnce(text, SMALL_WINDOWS);
        EncodedTokens streamed = streamInRandomPieces(text, SMALL_WINDOWS, new Random(11));

        assertEquals(oneCall.size(), streamed.size());
        double maxDiff = 0;
        for (int i = 0; i < oneCall.vectors().length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(oneCall.vectors()[i] - streamed.vectors()[i]));
        }
        assertTrue(maxDiff <= 1e-4, "max abs difference " + maxDiff);
    }

    @Test
    void eachTokenTakesItsVectorFromTheWindowWhereItIsMostCentral() {
        WindowPlan plan = new WindowPlan(40, 16, 1);
        String passage = text.substring(0, 2_000);
        TokenizedText tokens = encoder.tokenizer().tokenize(passage);
        EncodedTokens stitched = encodeAtOnce(passage, plan);

        // Windows start every 24 tokens; window 1 covers tokens 24..63 and owns 32..55.
        float[][] window1 = encoder.runWindows(List.of(java.util.Arrays.copyOfRange(tokens.ids(), 24, 64)), false)[0];
        float[][] window2 = encoder.runWindows(List.of(java.util.Arrays.copyOfRange(tokens.ids(), 48, 88)), false)[0];
        assertArrayEquals(window1[50 - 24], stitched.vector(50), 1e-4f, "token 50 is central in window 1");
        assertArrayEquals(window2[60 - 48], stitched.vector(60), 1e-4f, "token 60 is central in window 2");
    }

    @Test
    void overlappingWindowsKeepVectorsCloserToFullContextThanDisjointChunks() {
        String passage = MiniLmEncoderTest.passageOfTokens(encoder, 500);
        EncodedTokens full = encodeAtOnce(passage, new WindowPlan(MiniLmEncoder.MAX_TEXT_TOKENS, 0, 1));

        double overlapping = meanCosine(full, encodeAtOnce(passage, new WindowPlan(128, 64, 4)));
        double disjoint = meanCosine(full, encodeAtOnce(passage, new WindowPlan(128, 0, 4)));

        assertTrue(overlapping > disjoint, "overlapping " + overlapping + " vs disjoint " + disjoint);
        assertTrue(overlapping > 0.8, "mean cosine to full-context vectors " + overlapping);
    }

    private static double meanCosine(EncodedTokens a, EncodedTokens b) {
        assertEquals(a.size(), b.size());
        double sum = 0;
        for (int t = 0; t < a.size(); t++) {
            sum += Vectors.dot(Vectors.normalised(a.vector(t)), Vectors.normalised(b.vector(t)));
        }
        return sum / a.size();
    }

    @Test
    void aWordOrCharacterSplitAcrossPiecesIsOneToken() {
        DocumentEncoder document = encoder.newDocument(SMALL_WINDOWS);
        document.append("unbeliev");
        document.append("able tea \uD83C");
        document.append("\uDF75 caf");
        EncodedTokens tokens = document.finish();

        String whole = "unbelievable tea \uD83C\uDF75 caf";
        assertArrayEquals(encoder.tokenizer().tokenize(whole).ids(), tokens.ids());
        assertEquals(0, tokens.starts()[0]);
        assertEquals(whole.length(), tokens.ends()[tokens.size() - 1]);
        assertEquals(tokens.size(), document.committedTokens());
    }

    @Test
    void emptyDocumentHasNoTokens() {
        DocumentEncoder document = encoder.newDocument();
        assertTrue(document.append("").isEmpty());
        assertTrue(document.append("  \n").isEmpty());
        assertTrue(document.finish().isEmpty());
    }

    @Test
    void misuseIsReportedClearly() {
        DocumentEncoder document = encoder.newDocument();
        assertThrows(NullPointerException.class, () -> document.append(null));
        document.finish();
        IllegalStateException afterFinish = assertThrows(IllegalStateException.class, () -> document.append("more"));
        assertTrue(afterFinish.getMessage().contains("finished"), afterFinish.getMessage());
        assertThrows(IllegalStateException.class, document::finish);
    }

    private static EncodedTokens encodeAtOnce(String text, WindowPlan plan) {
        DocumentEncoder document = encoder.newDocument(plan);
        EncodedTokens head = document.append(text);
        return DocumentEncoder.concat(head, document.finish());
    }

    /** Feeds the text in pieces of 1..400 characters, checking that emitted batches are contiguous. */
    private static EncodedTokens streamInRandomPieces(String text, WindowPlan plan, Random random) {
        DocumentEncoder document = encoder.newDocument(plan);
        List<EncodedTokens> batches = new ArrayList<>();
        int at = 0;
        while (at < text.length()) {
            int end = Math.min(text.length(), at + 1 + random.nextInt(400));
            batches.add(document.append(text.substring(at, end)));
            at = end;
        }
        batches.add(document.finish());
        EncodedTokens all = EncodedTokens.empty(0, MiniLmEncoder.DIMENSION);
        for (EncodedTokens batch : batches) {
            assertEquals(all.size(), batch.firstToken(), "batches follow each other without gaps");
            all = DocumentEncoder.concat(all, batch);
        }
        return all;
    }
}
