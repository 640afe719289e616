package dev.arbor.server.api;

import dev.arbor.server.context.ContextRegistry;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Reads the caller's tenant from the {@code arbor-tenant} header ({@value #DEFAULT} when absent) into
 * the gRPC context. Authentication is the deployment's business (a proxy sets the header).
 */
public final class Tenants implements ServerInterceptor {
    public static final String DEFAULT = "default";
    public static final Metadata.Key<String> HEADER = Metadata.Key.of("arbor-tenant", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<String> TENANT = Context.key("arbor-tenant");

    /** The tenant of the call running on this thread. */
    public static String current() {
        String tenant = TENANT.get();
        return tenant == null ? DEFAULT : tenant;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String tenant = headers.get(HEADER);
        if (tenant == null || tenant.isEmpty()) {
            tenant = DEFAULT;
        }
        try {
            ContextRegistry.checkTenant(tenant);
        } catch (IllegalArgumentException e) {
            call.close(Status.INVALID_ARGUMENT.withDescription("header arbor-tenant: " + e.getMessage()), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        return Contexts.interceptCall(Context.current().withValue(TENANT, tenant), call, headers, next);
    }
}
