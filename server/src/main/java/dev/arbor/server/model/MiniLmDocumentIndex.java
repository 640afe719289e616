package dev.arbor.server.model;

import dev.arbor.encoder.DocumentEncoder;
import dev.arbor.encoder.EncodedTokens;
import dev.arbor.encoder.MiniLmEncoder;
import dev.arbor.retrieval.Span;
import dev.arbor.retrieval.SpanIndex;
import dev.arbor.retrieval.SpanRetriever;
import dev.arbor.retrieval.TextBuffer;
import dev.arbor.server.context.AttentionConfig;
import dev.arbor.tree.AttentionTree;
import dev.arbor.tree.SearchMode;
import java.util.List;

/**
 * A context's spans in the runtime's {@link SpanIndex} (an attention tree of pooled sentence keys)
 * with its text in memory. Each ingestion gets its own {@link DocumentEncoder}, whose token and
 * character positions are shifted to follow what earlier ingestions added, so one context can be
 * appended to by any number of Ingest calls, including after a cancelled one.
 */
final class MiniLmDocumentIndex implements DocumentIndex {
    private final MiniLmEncoder encoder;
    private final TextBuffer text = new TextBuffer();
    private final SpanIndex index;
    private final SpanRetriever retriever;

    MiniLmDocumentIndex(MiniLmEncoder encoder, AttentionConfig attention) {
        this.encoder = encoder;
        this.index = new SpanIndex(encoder.tokenizer(), AttentionTree.builder()
                .keyDim(MiniLmEncoder.DIMENSION)
                .valueDim(1)
                .settings(attention.treeSettings())
                .build());
        this.retriever = SpanRetriever.builder()
                .encoder(encoder)
                .index(index)
                .text(text)
                .mode(attention.exactSearch() ? SearchMode.EXACT : SearchMode.APPROXIMATE)
                .beam(attention.beamWidth())
                .build();
    }

    @Override
    public Appender appender() {
        return new Appender() {
            private final DocumentEncoder document = encoder.newDocument();
            private final long firstToken = index.tokenCount();
            private final long firstChar = text.length();

            @Override
            public long append(CharSequence piece) {
                text.append(piece);
                add(document.append(piece));
                return document.committedTokens();
            }

            @Override
            public long finish() {
                add(document.finish());
                index.finish();
                return document.committedTokens();
            }

            private void add(EncodedTokens tokens) {
                if (firstToken == 0 && firstChar == 0) {
                    index.add(tokens);
                    return;
                }
                long[] starts = tokens.starts().clone();
                long[] ends = tokens.ends().clone();
                for (int i = 0; i < starts.length; i++) {
                    starts[i] += firstChar;
                    ends[i] += firstChar;
                }
                index.add(new EncodedTokens(tokens.firstToken() + firstToken, tokens.ids(), starts, ends,
                        tokens.vectors(), tokens.dimension()));
            }
        };
    }

    @Override
    public List<Span> retrieve(String question, int k) {
        return retriever.retrieve(question, k);
    }

    @Override
    public long tokens() {
        return index.tokenCount();
    }

    @Override
    public long chars() {
        return text.length();
    }
}
