package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class ValidationTest {
    private final List<float[]> keys = TestVectors.gaussian(100, 8, 41);
    private final AttentionTree tree = TestVectors.treeOf(keys, keys, TreeSettings.defaults());

    @Test
    void kOfZeroOrLessIsRejected() {
        assertMessage(() -> SearchParams.builder().k(0).build(), "k must be positive");
        assertMessage(() -> SearchParams.builder().k(-3).build(), "k must be positive");
    }

    @Test
    void queryOfTheWrongDimensionIsRejected() {
        assertMessage(() -> tree.search(new float[7], SearchParams.defaults()), "dimension 7");
        assertMessage(() -> tree.attend(new float[9], 1f, SearchParams.defaults()), "dimension 9");
        assertMessage(() -> tree.search(null, SearchParams.defaults()), "null");
    }

    @Test
    void nonFiniteQueryIsRejected() {
        float[] query = new float[8];
        query[3] = Float.NaN;
        assertMessage(() -> tree.search(query, SearchParams.defaults()), "non-finite element NaN at index 3");
        query[3] = Float.POSITIVE_INFINITY;
        assertMessage(() -> tree.attend(query, 1f, SearchParams.defaults()), "non-finite element Infinity");
    }

    @Test
    void badKeysValuesAndParametersAreRejected() {
        assertMessage(() -> tree.append(new float[5], new float[8]), "key has dimension 5");
        float[] nanKey = new float[8];
        nanKey[0] = Float.NaN;
        assertMessage(() -> tree.append(nanKey, new float[8]), "non-finite");
        assertMessage(() -> tree.attend(new float[8], 0f, SearchParams.defaults()), "scale");
        assertMessage(() -> tree.search(new float[8], null), "search parameters are null");
        assertMessage(() -> SearchParams.builder().beam(0).build(), "beam must be positive");
        assertMessage(() -> SearchParams.builder().window(-1).build(), "window");
        assertMessage(() -> TreeSettings.builder().leafCapacity(1).build(), "leaf capacity");
    }

    private static void assertMessage(Executable call, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), "message was: " + e.getMessage());
    }
}
