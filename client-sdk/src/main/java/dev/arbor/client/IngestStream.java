package dev.arbor.client;

import com.google.protobuf.ByteString;
import dev.arbor.api.v1.IngestOpen;
import dev.arbor.api.v1.IngestRequest;
import dev.arbor.api.v1.IngestResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;

/**
 * Sends an input stream to Ingest in chunks, only while the call is ready to take more. The server
 * asks for chunks only as its pipeline drains, so against a slow model this client reads its input
 * no faster than the model consumes it.
 */
final class IngestStream implements ClientResponseObserver<IngestRequest, IngestResponse> {
    private final String context;
    private final InputStream input;
    private final long bytesTotal;
    private final int chunkBytes;
    private final ProgressListener listener;
    private final CompletableFuture<IngestProgress> result = new CompletableFuture<>();
    private ClientCallStreamObserver<IngestRequest> requests;
    private boolean opened;
    private boolean inputDone;
    private long bytesSent;

    IngestStream(String context, InputStream input, long bytesTotal, int chunkBytes, ProgressListener listener) {
        this.context = context;
        this.input = input;
        this.bytesTotal = bytesTotal;
        this.chunkBytes = chunkBytes;
        this.listener = listener;
    }

    CompletableFuture<IngestProgress> result() {
        return result;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<IngestRequest> requests) {
        this.requests = requests;
        requests.setOnReadyHandler(this::sendWhileReady);
    }

    private synchronized void sendWhileReady() {
        try {
            while (requests.isReady() && !inputDone) {
                if (!opened) {
                    requests.onNext(IngestRequest.newBuilder()
                            .setOpen(IngestOpen.newBuilder().setContext(context)).build());
                    opened = true;
                    continue;
                }
                byte[] chunk = input.readNBytes(chunkBytes);
                if (chunk.length > 0) {
                    bytesSent += chunk.length;
                    requests.onNext(IngestRequest.newBuilder().setText(ByteString.copyFrom(chunk)).build());
                }
                if (chunk.length < chunkBytes) {
                    inputDone = true;
                    requests.onCompleted();
                }
            }
        } catch (IOException e) {
            inputDone = true;
            requests.cancel("could not read the input: " + e.getMessage(), e);
        }
    }

    @Override
    public void onNext(IngestResponse response) {
        IngestProgress progress = new IngestProgress(response.getTokensCommitted(), response.getContextTokens(),
                response.getBytesReceived(), bytesTotal, response.getDone());
        listener.onProgress(progress);
        if (response.getDone()) {
            result.complete(progress);
        }
    }

    @Override
    public void onError(Throwable t) {
        result.completeExceptionally(ArborException.from(t));
    }

    @Override
    public void onCompleted() {
        if (!result.isDone()) {
            result.completeExceptionally(new IllegalStateException("the server ended Ingest without a final count"));
        }
    }
}
