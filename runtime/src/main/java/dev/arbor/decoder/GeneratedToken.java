package dev.arbor.decoder;

/**
 * One generated token, as streamed to a client.
 *
 * @param index 0 for the first generated token
 * @param id the token id
 * @param text the text this token adds (empty while a multi-byte character is incomplete)
 * @param attended context positions that received the most attention when this token was predicted,
 *     strongest first (summed over layers and heads)
 */
public record GeneratedToken(int index, int id, String text, int[] attended) {}
