package dev.arbor.client;

import java.util.List;

/**
 * One generated token with the context positions it attended to most.
 *
 * @param index 0-based position in the generated sequence
 * @param id the token id
 * @param text the token as text
 * @param attended context token positions, most attended first
 */
public record GeneratedToken(int index, int id, String text, List<Long> attended) {}
