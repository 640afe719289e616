package dev.arbor.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LightSubtreesTest {
    @Test
    void eachParentIsListedOnceWithTheSummedMassOfItsLightChildren() {
        // Enough parents to make the table grow twice, each coming back in an interleaved order.
        LightSubtrees light = new LightSubtrees();
        Map<Integer, Double> expected = new HashMap<>();
        for (int i = 0; i < 3000; i++) {
            int parent = (i * 7919) % 300 * 1021;
            double mass = 1 + i % 13;
            light.add(parent, mass);
            expected.merge(parent, mass, Double::sum);
        }
        assertEquals(expected.size(), light.count());
        for (int p = 0; p < light.count(); p++) {
            assertEquals(expected.get(light.parent(p)), light.mass(p), 1e-9, "parent " + light.parent(p));
        }
    }
}
