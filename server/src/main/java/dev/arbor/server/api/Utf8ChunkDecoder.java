package dev.arbor.server.api;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Decodes a stream of UTF-8 chunks strictly. A character split across two chunks is carried over;
 * a malformed sequence is reported with its byte offset in the stream.
 */
final class Utf8ChunkDecoder {
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private byte[] carry = new byte[0];
    private long offset;

    /** @throws IllegalArgumentException if the bytes are not UTF-8 */
    String decode(ByteBuffer chunk) {
        ByteBuffer in = ByteBuffer.allocate(carry.length + chunk.remaining()).put(carry).put(chunk).flip();
        CharBuffer out = CharBuffer.allocate(in.remaining());
        CoderResult result = decoder.decode(in, out, false);
        if (result.isError()) {
            throw malformed(offset + in.position());
        }
        offset += in.position();
        carry = new byte[in.remaining()];
        in.get(carry);
        return out.flip().toString();
    }

    /** @throws IllegalArgumentException if the stream ended inside a character */
    void finish() {
        if (carry.length > 0) {
            throw new IllegalArgumentException("text is not valid UTF-8: the stream ends inside a multi-byte character"
                    + " at byte offset " + offset);
        }
        try {
            decoder.decode(ByteBuffer.allocate(0), CharBuffer.allocate(0), true);
            decoder.flush(CharBuffer.allocate(0));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("text is not valid UTF-8 at its end", e);
        }
    }

    private static IllegalArgumentException malformed(long at) {
        return new IllegalArgumentException("text is not valid UTF-8: malformed byte sequence at byte offset " + at
                + " of the stream (send text as UTF-8, or token ids)", new CharacterCodingException());
    }
}
