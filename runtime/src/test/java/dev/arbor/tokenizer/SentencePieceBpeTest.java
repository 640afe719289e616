package dev.arbor.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.arbor.testing.SharedData;
import dev.arbor.weights.GgufFile;
import org.junit.jupiter.api.Test;

class SentencePieceBpeTest {
    final SentencePieceBpe tok512 = SentencePieceBpe.fromLlama2c(SharedData.stories260kTokenizer(), 512);
    final SentencePieceBpe embedded = SentencePieceBpe.fromGguf(GgufFile.open(SharedData.stories260kGguf()));

    @Test
    void bothVocabulariesEncodeTheProvenancePromptIdentically() {
        int[] expected = {1, 403, 407, 261, 378, 432, 261, 376, 400, 428};
        assertArrayEquals(expected, tok512.encode("Once upon a time, a little dog", true));
        assertArrayEquals(expected, embedded.encode("Once upon a time, a little dog", true));
    }

    @Test
    void charactersOutsideTheVocabularyFallBackToBytesAndDecodeBack() {
        String text = "Zoë ate 🍰 — yum";
        int[] ids = embedded.encode(text, true);
        assertEquals(text, embedded.decode(ids));
        assertEquals(text, tok512.decode(tok512.encode(text, false)));
        int[] cake = embedded.encode("🍰", false);
        // A dummy-prefix space, then the four UTF-8 bytes of U+1F370 as byte tokens (byte + 3).
        assertArrayEquals(new int[] {embedded.encode(" ", false)[0], 0xF0 + 3, 0x9F + 3, 0x8D + 3, 0xB0 + 3}, cake);
    }

    @Test
    void emptyTextIsJustBos() {
        assertArrayEquals(new int[] {1}, embedded.encode("", true));
        assertEquals("", embedded.decode(new int[] {1, 2}));
    }
}
