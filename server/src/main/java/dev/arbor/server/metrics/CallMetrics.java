package dev.arbor.server.metrics;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;

/** Times every RPC from its start to its close, per method and status code. */
public final class CallMetrics implements ServerInterceptor {
    private final ArborMetrics metrics;

    public CallMetrics(ArborMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        long start = System.nanoTime();
        String method = call.getMethodDescriptor().getBareMethodName();
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                metrics.callFinished(method, status.getCode().name(), Duration.ofNanos(System.nanoTime() - start));
                super.close(status, trailers);
            }
        }, headers);
    }
}
