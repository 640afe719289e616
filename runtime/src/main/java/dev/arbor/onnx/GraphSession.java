package dev.arbor.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.arbor.ort.SessionFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One ONNX Runtime session over one built graph, opened once and run many times (opening a session
 * optimises the graph, which costs far more than a run). Inputs are {@link TensorData} named after the
 * graph inputs; their native tensors live only for the duration of a run.
 */
public final class GraphSession implements AutoCloseable {
    private final SessionFactory sessions;
    private final OrtSession session;
    private final String name;

    private GraphSession(SessionFactory sessions, OrtSession session, String name) {
        this.sessions = sessions;
        this.session = session;
        this.name = name;
    }

    public static GraphSession open(SessionFactory sessions, OnnxModel model) throws OrtException {
        return new GraphSession(sessions, sessions.open(model), model.name());
    }

    /**
     * Runs the graph on exactly its declared inputs. The caller closes the result, whose tensors are
     * ONNX Runtime's own memory.
     */
    public OrtSession.Result run(TensorData... inputs) throws OrtException {
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try {
            for (TensorData input : inputs) {
                if (feed.containsKey(input.name())) {
                    throw new IllegalArgumentException("graph '" + name + "' was given input '" + input.name() + "' twice");
                }
                feed.put(input.name(), input.toOrt(sessions.environment()));
            }
            checkNames(feed.keySet());
            return session.run(feed);
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    /** The underlying session, for callers that pin outputs or pass run options. */
    public OrtSession session() {
        return session;
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }

    private void checkNames(Set<String> given) throws OrtException {
        Set<String> expected = session.getInputNames();
        if (!expected.equals(given)) {
            List<String> missing = new ArrayList<>(new TreeSet<>(expected));
            missing.removeAll(given);
            List<String> unknown = new ArrayList<>(new TreeSet<>(given));
            unknown.removeAll(expected);
            throw new IllegalArgumentException("graph '" + name + "' takes inputs " + new TreeSet<>(expected)
                    + "; missing " + missing + ", unknown " + unknown);
        }
    }
}
