package dev.arbor.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import dev.arbor.ort.SessionFactory;
import dev.arbor.ort.SessionSettings;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GraphSessionTest {
    private final SessionFactory sessions =
            new SessionFactory(SessionSettings.builder().intraOpThreads(2).spinning(false).build());

    private static OnnxModel doubling() {
        ModelBuilder model = ModelBuilder.named("doubling");
        GraphBuilder g = model.graph();
        String x = g.input("x", ElementType.FLOAT, Shape.of("N"));
        g.output("y", g.op("Add", x, x), ElementType.FLOAT, Shape.of("N"));
        return model.build();
    }

    @Test
    void aDirectBufferIsReadInPlaceNotCopied() throws Exception {
        FloatBuffer store = ByteBuffer.allocateDirect(8 * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int i = 0; i < 8; i++) {
            store.put(i, i);
        }
        // A view from position 2: the tensor must start there, as a store segment would.
        TensorData segment = TensorData.floats("x", store.duplicate().position(2).limit(6), 4);
        assertTrue(segment.zeroCopy());
        try (OrtSession session = sessions.open(doubling());
                OnnxTensor tensor = segment.toOrt(sessions.environment())) {
            store.put(3, 100f);
            try (OrtSession.Result result = session.run(Map.of("x", tensor))) {
                // Written after the tensor was created, yet seen by the run: ORT reads the buffer itself.
                assertArrayEquals(new float[] {4f, 200f, 8f, 10f}, (float[]) result.get(0).getValue());
            }
        }
    }

    @Test
    void aHeapArrayIsCopiedWhenTheTensorIsCreated() throws Exception {
        float[] heap = {1f, 2f};
        TensorData data = TensorData.floats("x", heap, 2);
        assertFalse(data.zeroCopy());
        try (OrtSession session = sessions.open(doubling()); OnnxTensor tensor = data.toOrt(sessions.environment())) {
            heap[0] = 50f;
            try (OrtSession.Result result = session.run(Map.of("x", tensor))) {
                assertArrayEquals(new float[] {2f, 4f}, (float[]) result.get(0).getValue());
            }
        }
    }

    @Test
    void runsCheckTheInputNames() throws Exception {
        try (GraphSession session = GraphSession.open(sessions, doubling())) {
            try (OrtSession.Result result = session.run(TensorData.floats("x", new float[] {3f}, 1))) {
                assertArrayEquals(new float[] {6f}, (float[]) result.get(0).getValue());
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> session.run(TensorData.floats("z", new float[] {3f}, 1)));
            assertTrue(e.getMessage().contains("missing [x], unknown [z]"), e.getMessage());
        }
    }

    @Test
    void tensorsBeyondTwoGibibytesOrInTheWrongByteOrderAreRefused() {
        IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class,
                () -> TensorData.floats("keys", FloatBuffer.allocate(1), 12, 1L << 20, 64));
        assertTrue(tooBig.getMessage().contains("tensor 'keys' of shape [12, 1048576, 64] would take 3221225472 bytes"),
                tooBig.getMessage());
        assertTrue(tooBig.getMessage().contains("smaller segments"), tooBig.getMessage());
        FloatBuffer bigEndian = ByteBuffer.allocateDirect(16).order(ByteOrder.BIG_ENDIAN).asFloatBuffer();
        IllegalArgumentException order = assertThrows(IllegalArgumentException.class,
                () -> TensorData.floats("keys", bigEndian, 4));
        assertTrue(order.getMessage().contains("needs " + ByteOrder.nativeOrder()), order.getMessage());
        IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class,
                () -> new TensorData("ids", ElementType.INT64, FloatBuffer.allocate(2), new long[] {2}));
        assertTrue(mismatch.getMessage().contains("expected a LongBuffer"), mismatch.getMessage());
    }
}
