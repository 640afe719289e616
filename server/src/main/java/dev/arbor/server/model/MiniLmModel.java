package dev.arbor.server.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.arbor.encoder.MiniLmEncoder;
import dev.arbor.ort.SessionFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The embedded default: all-MiniLM-L6-v2 on the encoder path of the runtime. Contexts are indexed
 * as sentence spans in an attention tree and answered by Tree Cross Attention retrieval
 * ({@link MiniLmDocumentIndex}).
 */
public final class MiniLmModel implements ContextModel {
    public static final String NAME = "all-minilm-l6-v2";
    private static final int VOCABULARY = 30522;

    private final MiniLmEncoder encoder;
    private final HuggingFaceTokenizer decoder;

    private MiniLmModel(MiniLmEncoder encoder, HuggingFaceTokenizer decoder) {
        this.encoder = encoder;
        this.decoder = decoder;
    }

    /** Loads the packaged model; sessions follow the server's provider and thread settings. */
    public static MiniLmModel open(SessionFactory sessions) {
        MiniLmEncoder encoder = MiniLmEncoder.open(sessions);
        try (InputStream json = MiniLmModel.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            return new MiniLmModel(encoder, HuggingFaceTokenizer.newInstance(json, Map.of(
                    "addSpecialTokens", "false", "truncation", "false", "padding", "false")));
        } catch (IOException | RuntimeException e) {
            encoder.close();
            throw e instanceof IOException io ? new UncheckedIOException("cannot read the MiniLM tokenizer", io)
                    : (RuntimeException) e;
        }
    }

    /** The runtime encoder, shared by every context of this model. */
    public MiniLmEncoder encoder() {
        return encoder;
    }

    @Override
    public ModelInfo info() {
        return new ModelInfo(NAME, false, VOCABULARY, MiniLmEncoder.DIMENSION,
                "sentence-transformers all-MiniLM-L6-v2 (embedded): sentence spans in an attention tree, for Retrieve");
    }

    @Override
    public DocumentIndex newIndex() {
        return new MiniLmDocumentIndex(encoder);
    }

    @Override
    public String detokenize(long[] ids) {
        return decoder.decode(ids, true);
    }

    @Override
    public void close() {
        try {
            encoder.close();
        } finally {
            decoder.close();
        }
    }
}
