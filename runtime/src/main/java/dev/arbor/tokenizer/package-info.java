/**
 * Decoder tokenizers: llama2.c-style SentencePiece BPE ({@link dev.arbor.tokenizer.SentencePieceBpe}, from
 * {@code tokenizer.bin} files or a GGUF's embedded vocabulary) and Hugging Face {@code tokenizer.json}
 * through DJL's offline bindings ({@link dev.arbor.tokenizer.HuggingFaceTokenizerAdapter}).
 */
package dev.arbor.tokenizer;
