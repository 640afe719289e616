package dev.arbor.ort;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import dev.arbor.onnx.OnnxModel;
import java.nio.file.Path;

/**
 * Opens ONNX Runtime sessions configured by {@link SessionSettings}. Every graph Arbor runs,
 * whether loaded from a file or built in memory, goes through here so the provider and thread
 * settings are applied in one place.
 */
public final class SessionFactory {
    private static final String ALLOW_SPINNING = "session.intra_op.allow_spinning";
    private final OrtEnvironment environment;
    private final SessionSettings settings;

    public SessionFactory(SessionSettings settings) {
        this.environment = OrtEnvironment.getEnvironment();
        this.settings = settings;
        checkProviderAvailable();
    }

    public SessionSettings settings() {
        return settings;
    }

    public OrtEnvironment environment() {
        return environment;
    }

    /** A session over a serialised ONNX model, e.g. one built by the graph builder. */
    public OrtSession open(byte[] model) throws OrtException {
        try (OrtSession.SessionOptions options = options()) {
            return environment.createSession(model, options);
        }
    }

    /** A session over a model built with {@link dev.arbor.onnx.ModelBuilder}; its weights become session initializers. */
    public OrtSession open(OnnxModel model) throws OrtException {
        return open(model.bytes());
    }

    /** A session over an ONNX file; external weights beside it are resolved relative to it. */
    public OrtSession open(Path model) throws OrtException {
        try (OrtSession.SessionOptions options = options()) {
            return environment.createSession(model.toString(), options);
        }
    }

    private OrtSession.SessionOptions options() throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            options.setOptimizationLevel(settings.optimization());
            options.setIntraOpNumThreads(settings.intraOpThreads());
            options.setInterOpNumThreads(settings.interOpThreads());
            options.addConfigEntry(ALLOW_SPINNING, settings.spinning() ? "1" : "0");
            if (settings.provider() == ExecutionProvider.CUDA) {
                addCuda(options);
            }
            return options;
        } catch (OrtException | RuntimeException e) {
            options.close();
            throw e;
        }
    }

    private void addCuda(OrtSession.SessionOptions options) {
        try {
            options.addCUDA(settings.cudaDevice());
        } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
            throw new ExecutionProviderUnavailableException(
                    "the CUDA execution provider could not start on device " + settings.cudaDevice()
                            + ": no usable GPU or CUDA libraries on this machine (" + e.getMessage()
                            + "). Use provider: cpu, or run on a machine with an NVIDIA GPU, its driver and CUDA 12.",
                    e);
        }
    }

    private void checkProviderAvailable() {
        if (settings.provider() == ExecutionProvider.CUDA
                && !OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
            throw new ExecutionProviderUnavailableException(
                    "provider: cuda was configured, but this build of Arbor carries the CPU-only ONNX Runtime"
                            + " (available: " + OrtEnvironment.getAvailableProviders()
                            + "). Rebuild with 'mvn -Pcuda package' to use onnxruntime_gpu, on a machine with an"
                            + " NVIDIA GPU and CUDA libraries; or use provider: cpu.",
                    null);
        }
    }
}
