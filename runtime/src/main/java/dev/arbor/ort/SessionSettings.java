package dev.arbor.ort;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;

/**
 * How ONNX Runtime sessions are configured; built from Arbor's configuration.
 *
 * @param provider execution provider; {@link ExecutionProvider#CPU} unless configured otherwise
 * @param intraOpThreads threads one operator may use (0 lets ONNX Runtime choose)
 * @param interOpThreads threads running independent operators in parallel (0 lets ONNX Runtime choose)
 * @param optimization graph optimisation level
 * @param cudaDevice GPU ordinal when the provider is CUDA
 * @param spinning whether idle intra-op threads spin waiting for work (ONNX Runtime's default: lowest
 *     latency on dedicated cores, but on cores shared with other work it burns the time they need)
 */
public record SessionSettings(
        ExecutionProvider provider,
        int intraOpThreads,
        int interOpThreads,
        OptLevel optimization,
        int cudaDevice,
        boolean spinning) {

    public SessionSettings {
        if (provider == null) {
            throw new IllegalArgumentException("execution provider must be set");
        }
        if (intraOpThreads < 0 || interOpThreads < 0) {
            throw new IllegalArgumentException("thread counts must be >= 0 (0 lets ONNX Runtime choose)");
        }
        if (optimization == null) {
            throw new IllegalArgumentException("optimisation level must be set");
        }
        if (cudaDevice < 0) {
            throw new IllegalArgumentException("CUDA device ordinal must be >= 0, got " + cudaDevice);
        }
    }

    /** CPU, every core the machine offers to one operator, all graph optimisations. */
    public static SessionSettings defaults() {
        return builder().build();
    }

    /**
     * Parses a configured optimisation level: {@code none}, {@code basic}, {@code extended} or {@code all}
     * (ONNX Runtime's four levels), naming the choices on a typo.
     */
    public static OptLevel parseOptimization(String name) {
        return switch (name.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "none", "disabled" -> OptLevel.NO_OPT;
            case "basic" -> OptLevel.BASIC_OPT;
            case "extended" -> OptLevel.EXTENDED_OPT;
            case "all" -> OptLevel.ALL_OPT;
            default -> throw new IllegalArgumentException("unknown optimisation level '" + name
                    + "': expected 'none', 'basic', 'extended' or 'all'");
        };
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder()
                .provider(provider)
                .intraOpThreads(intraOpThreads)
                .interOpThreads(interOpThreads)
                .optimization(optimization)
                .cudaDevice(cudaDevice)
                .spinning(spinning);
    }

    public static final class Builder {
        private ExecutionProvider provider = ExecutionProvider.CPU;
        private int intraOpThreads = Runtime.getRuntime().availableProcessors();
        private int interOpThreads = 1;
        private OptLevel optimization = OptLevel.ALL_OPT;
        private int cudaDevice = 0;
        private boolean spinning = true;

        private Builder() {}

        public Builder provider(ExecutionProvider provider) {
            this.provider = provider;
            return this;
        }

        public Builder intraOpThreads(int threads) {
            this.intraOpThreads = threads;
            return this;
        }

        public Builder interOpThreads(int threads) {
            this.interOpThreads = threads;
            return this;
        }

        public Builder optimization(OptLevel level) {
            this.optimization = level;
            return this;
        }

        public Builder cudaDevice(int device) {
            this.cudaDevice = device;
            return this;
        }

        public Builder spinning(boolean spinning) {
            this.spinning = spinning;
            return this;
        }

        public SessionSettings build() {
            return new SessionSettings(provider, intraOpThreads, interOpThreads, optimization, cudaDevice, spinning);
        }
    }
}
