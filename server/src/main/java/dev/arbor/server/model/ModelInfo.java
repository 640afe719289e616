package dev.arbor.server.model;

/**
 * What the server tells clients about a model it can run.
 *
 * @param name name clients pass to CreateContext
 * @param generates whether the model can serve Generate (a decoder) or only Retrieve (an encoder)
 * @param vocabularySize token ids must be below this
 * @param dimension width of the stored vectors
 * @param description one line for people
 */
public record ModelInfo(String name, boolean generates, int vocabularySize, int dimension, String description) {}
