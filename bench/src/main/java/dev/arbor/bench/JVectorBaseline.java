package dev.arbor.bench;

import io.github.jbellis.jvector.graph.GraphIndexBuilder;
import io.github.jbellis.jvector.graph.GraphSearcher;
import io.github.jbellis.jvector.graph.ImmutableGraphIndex;
import io.github.jbellis.jvector.graph.ListRandomAccessVectorValues;
import io.github.jbellis.jvector.graph.SearchResult;
import io.github.jbellis.jvector.graph.similarity.DefaultSearchScoreProvider;
import io.github.jbellis.jvector.util.Bits;
import io.github.jbellis.jvector.vector.VectorSimilarityFunction;
import io.github.jbellis.jvector.vector.VectorizationProvider;
import io.github.jbellis.jvector.vector.types.VectorFloat;
import io.github.jbellis.jvector.vector.types.VectorTypeSupport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A JVector graph index over one head's keys with dot-product similarity and the build settings of
 * JVector's own documentation (degree 16, construction beam 100, overflow 1.2, alpha 1.2, with the
 * hierarchy), built one node at a time on the calling thread so its insert rate compares with the
 * tree's single-threaded appends.
 */
final class JVectorBaseline {
    private static final VectorTypeSupport VECTORS = VectorizationProvider.getInstance().getVectorTypeSupport();

    private final ListRandomAccessVectorValues vectors;
    private final ImmutableGraphIndex graph;
    private final double insertSeconds;

    JVectorBaseline(float[] keys, int count, int dim) {
        List<VectorFloat<?>> list = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            list.add(VECTORS.createFloatVector(Arrays.copyOfRange(keys, i * dim, (i + 1) * dim)));
        }
        vectors = new ListRandomAccessVectorValues(list, dim);
        long start = System.nanoTime();
        GraphIndexBuilder builder =
                new GraphIndexBuilder(vectors, VectorSimilarityFunction.DOT_PRODUCT, 16, 100, 1.2f, 1.2f, true);
        for (int i = 0; i < count; i++) {
            builder.addGraphNode(i, vectors);
        }
        builder.cleanup();
        insertSeconds = (System.nanoTime() - start) / 1e9;
        graph = builder.getGraph();
        try {
            builder.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    double insertSeconds() {
        return insertSeconds;
    }

    GraphSearcher searcher() {
        return new GraphSearcher(graph);
    }

    /** The top-k node ids (= positions) for {@code query}, best first. */
    long[] search(GraphSearcher searcher, float[] query, int k) {
        VectorFloat<?> q = VECTORS.createFloatVector(query);
        SearchResult result = searcher.search(
                DefaultSearchScoreProvider.exact(q, VectorSimilarityFunction.DOT_PRODUCT, vectors), k, Bits.ALL);
        return Arrays.stream(result.getNodes()).mapToLong(node -> node.node).toArray();
    }
}
