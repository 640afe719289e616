package dev.arbor.server.model;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.arbor.encoder.MiniLmEncoder;
import dev.arbor.ort.SessionFactory;
import dev.arbor.retrieval.SpanRetriever;
import dev.arbor.server.context.AttentionConfig;
import dev.arbor.tree.TreeSettings;
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
    private static final AttentionConfig DEFAULTS = new AttentionConfig(5,
            TreeSettings.defaults().leafCapacity(), SpanRetriever.DEFAULT_BEAM, 0, 0, false);

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

    /**
     * Spans per Retrieve, the tree's leaf size and the beam that found every planted needle on 1 MB of
     * text (see {@link dev.arbor.retrieval.SpanRetriever}); sinks and window are decoder notions.
     */
    @Override
    public AttentionConfig attention(AttentionConfig requested) {
        if (requested.sinkTokens() != 0 || requested.localWindow() != 0) {
            throw new IllegalArgumentException("attention.sink_tokens and attention.local_window apply to decoder"
                    + " contexts; model '" + NAME + "' retrieves sentence spans, leave them at 0");
        }
        if (requested.topK() > SpanRetriever.MAX_SPANS) {
            throw new IllegalArgumentException("attention.top_k is the number of spans Retrieve returns by default on"
                    + " model '" + NAME + "': at most " + SpanRetriever.MAX_SPANS + ", got " + requested.topK());
        }
        return requested.withDefaults(DEFAULTS);
    }

    @Override
    public DocumentIndex newIndex(AttentionConfig attention) {
        return new MiniLmDocumentIndex(encoder, attention);
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
