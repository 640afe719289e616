package dev.arbor.decoder;

import dev.arbor.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * Generates text after a prompt: prefill, then one token at a time until end of sequence, the token
 * limit, a stop string, or the listener asks to stop. Each token is reported as it is produced.
 */
public final class Generator {
    private final LlamaModel model;

    public Generator(LlamaModel model) {
        this.model = model;
    }

    /** Receives each generated token; returning {@code false} cancels the generation. */
    @FunctionalInterface
    public interface TokenListener {
        boolean onToken(GeneratedToken token);
    }

    /** Encodes {@code prompt} (after BOS) into a fresh context and generates from it. */
    public Generation generate(String prompt, GenerationSettings settings, TokenListener listener) {
        DecoderContext context = model.newContext();
        return generate(context, model.tokenizer().encode(prompt, true), settings, listener);
    }

    /** Feeds {@code prompt} into {@code context} (which may already hold a document) and generates. */
    public Generation generate(DecoderContext context, int[] prompt, GenerationSettings settings, TokenListener listener) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: give at least the BOS token");
        }
        Tokenizer tokenizer = model.tokenizer();
        Sampler sampler = new Sampler(settings.temperature(), settings.topP(), settings.seed());
        context.treeParams(settings.treeParams());
        float[][] logits = model.forward(context, prompt, settings.mode());
        float[] next = logits[logits.length - 1];
        int[] generated = new int[settings.maxTokens()];
        String text = "";
        for (int i = 0; i < settings.maxTokens(); i++) {
            int token = sampler.next(next);
            // llama2.c-trained models separate sequences with BOS rather than EOS: either ends this one.
            if (token == tokenizer.eos() || token == tokenizer.bos()) {
                return done(generated, i, tokenizer, Generation.StopReason.END_OF_SEQUENCE);
            }
            generated[i] = token;
            // Decoding the whole sequence keeps multi-byte characters split over byte tokens intact.
            String full = stable(tokenizer.decode(Arrays.copyOf(generated, i + 1)));
            String piece = full.length() >= text.length() ? full.substring(text.length()) : "";
            text = full.length() >= text.length() ? full : text;
            int[] attended = context.lastAttended();
            if (!listener.onToken(new GeneratedToken(i, token, piece, attended))) {
                return done(generated, i + 1, tokenizer, Generation.StopReason.CANCELLED);
            }
            if (settings.stopStrings().stream().anyMatch(text::endsWith)) {
                return done(generated, i + 1, tokenizer, Generation.StopReason.STOP_STRING);
            }
            if (i + 1 < settings.maxTokens()) {
                next = model.forward(context, new int[] {token}, settings.mode())[0];
            }
        }
        return done(generated, settings.maxTokens(), tokenizer, Generation.StopReason.MAX_TOKENS);
    }

    /** Text up to any trailing replacement character, which a later byte token may still complete. */
    private static String stable(String text) {
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == '\uFFFD') {
            end--;
        }
        return text.substring(0, end);
    }

    private static Generation done(int[] generated, int count, Tokenizer tokenizer, Generation.StopReason reason) {
        int[] tokens = Arrays.copyOf(generated, count);
        return new Generation(tokens, tokenizer.decode(tokens), reason);
    }
}
