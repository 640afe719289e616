package dev.arbor.server.model;

import dev.arbor.decoder.AttentionMode;
import dev.arbor.decoder.DecoderContext;
import dev.arbor.decoder.GenerationSettings;
import dev.arbor.decoder.Generator;
import dev.arbor.decoder.LlamaModel;
import dev.arbor.retrieval.Span;
import dev.arbor.retrieval.TextBuffer;
import dev.arbor.server.context.AttentionConfig;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A decoder context: ingested text is tokenized and run through the model in blocks of
 * {@value #PREFILL_TOKENS} tokens, its keys and values kept in the context's cache and tree; Generate
 * continues from there with tree attention.
 */
final class LlamaDocumentIndex implements GenerativeIndex {
    private static final int PREFILL_TOKENS = 64;

    private final LlamaModel model;
    private final DecoderContext context;
    private final Generator generator;
    private final TextBuffer text = new TextBuffer();
    /** Ingestion and generation both extend the sequence: they take turns. */
    private final ReentrantLock sequence = new ReentrantLock();
    private volatile long tokens;

    LlamaDocumentIndex(LlamaModel model, AttentionConfig attention) {
        this.model = model;
        this.context = model.newContext(attention.searchParams(), attention.treeSettings());
        this.generator = new Generator(model);
    }

    @Override
    public Appender appender() {
        return new Appender() {
            private final StringBuilder pending = new StringBuilder();
            private long committed;

            @Override
            public long append(CharSequence piece) {
                text.append(piece);
                pending.append(piece);
                // Text after the last whitespace may still grow into a longer token: keep it back.
                int stable = pending.length();
                while (stable > 0 && !Character.isWhitespace(pending.charAt(stable - 1))) {
                    stable--;
                }
                if (stable > 0) {
                    forward(pending.substring(0, stable));
                    pending.delete(0, stable);
                }
                return committed;
            }

            @Override
            public long finish() {
                if (!pending.isEmpty()) {
                    forward(pending.toString());
                    pending.setLength(0);
                }
                return committed;
            }

            private void forward(String piece) {
                sequence.lock();
                try {
                    int[] ids = model.tokenizer().encode(piece, context.length() == 0);
                    for (int from = 0; from < ids.length; from += PREFILL_TOKENS) {
                        model.forward(context, Arrays.copyOfRange(ids, from, Math.min(ids.length, from + PREFILL_TOKENS)),
                                AttentionMode.TREE);
                    }
                    committed += ids.length;
                    tokens = context.length();
                } finally {
                    sequence.unlock();
                }
            }
        };
    }

    @Override
    public int generate(String prompt, int maxTokens, float temperature, long seed, TokenSink sink) {
        sequence.lock();
        try {
            int[] ids = model.tokenizer().encode(prompt, context.length() == 0);
            GenerationSettings settings = GenerationSettings.builder()
                    .mode(AttentionMode.TREE)
                    .treeParams(context.treeParams())
                    .maxTokens(maxTokens)
                    .temperature(temperature)
                    .seed(seed)
                    .build();
            int generated = generator.generate(context, ids, settings, sink::accept).tokens().length;
            tokens = context.length();
            return generated;
        } finally {
            sequence.unlock();
        }
    }

    @Override
    public List<Span> retrieve(String question, int k) {
        throw new UnsupportedOperationException("Retrieve needs an encoder model; this context's model is a decoder"
                + " (use Generate, or create the context with the encoder model)");
    }

    @Override
    public long tokens() {
        return tokens;
    }

    @Override
    public long chars() {
        return text.length();
    }
}
