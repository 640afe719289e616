package dev.arbor.retrieval;

import dev.arbor.encoder.DocumentEncoder;
import dev.arbor.encoder.EncodedTokens;
import dev.arbor.encoder.MiniLmEncoder;
import dev.arbor.encoder.WindowPlan;
import dev.arbor.tree.SearchMode;
import java.util.List;
import java.util.Objects;

/**
 * One document on the encoder path, from text pieces to answered questions: pieces are kept as
 * text, encoded in windows ({@link DocumentEncoder}), pooled into sentence keys in the attention
 * tree ({@link SpanIndex}), and questions are answered by {@link SpanRetriever} — also while the
 * document is still arriving, over the spans encoded so far.
 *
 * <p>{@link #append} and {@link #finish} belong to one ingesting thread; {@link #retrieve} may be
 * called from any thread at any time.
 */
public final class SearchableDocument {
    private final TextBuffer text = new TextBuffer();
    private final DocumentEncoder encoder;
    private final SpanIndex index;
    private final SpanRetriever retriever;

    private SearchableDocument(Builder builder) {
        MiniLmEncoder model = Objects.requireNonNull(builder.encoder, "encoder");
        this.encoder = model.newDocument(builder.plan);
        this.index = new SpanIndex(model.tokenizer());
        this.retriever = SpanRetriever.builder()
                .encoder(model).index(index).text(text).mode(builder.mode).beam(builder.beam).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Adds the next piece of text (cut anywhere); returns the number of tokens committed so far. */
    public long append(CharSequence piece) {
        EncodedTokens tokens = encoder.append(piece);
        text.append(piece);
        index.add(tokens);
        return encoder.committedTokens();
    }

    /** Encodes what is left; returns the document's token count (the tokenizer's count for the whole text). */
    public long finish() {
        index.add(encoder.finish());
        index.finish();
        return encoder.committedTokens();
    }

    /** See {@link SpanRetriever#retrieve}. */
    public List<Span> retrieve(String question, int k) {
        return retriever.retrieve(question, k);
    }

    /** See {@link SpanRetriever#retrieve(String, int, SearchMode)}. */
    public List<Span> retrieve(String question, int k, SearchMode mode) {
        return retriever.retrieve(question, k, mode);
    }

    public long committedTokens() {
        return index.tokenCount();
    }

    public long receivedChars() {
        return text.length();
    }

    public int spanCount() {
        return index.spanCount();
    }

    /** Configures a {@link SearchableDocument}; the encoder is required. */
    public static final class Builder {
        private MiniLmEncoder encoder;
        private WindowPlan plan = WindowPlan.defaults();
        private SearchMode mode = SearchMode.APPROXIMATE;
        private int beam = 128;

        private Builder() {}

        public Builder encoder(MiniLmEncoder encoder) {
            this.encoder = encoder;
            return this;
        }

        public Builder windowPlan(WindowPlan plan) {
            this.plan = Objects.requireNonNull(plan, "window plan");
            return this;
        }

        public Builder searchMode(SearchMode mode) {
            this.mode = Objects.requireNonNull(mode, "search mode");
            return this;
        }

        public Builder beam(int beam) {
            this.beam = beam;
            return this;
        }

        public SearchableDocument build() {
            return new SearchableDocument(this);
        }
    }
}
