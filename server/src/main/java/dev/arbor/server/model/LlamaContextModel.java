package dev.arbor.server.model;

import dev.arbor.decoder.Checkpoint;
import dev.arbor.decoder.LlamaModel;
import dev.arbor.ort.SessionFactory;
import dev.arbor.server.context.AttentionConfig;
import dev.arbor.tree.HeadWorkers;
import dev.arbor.tree.SearchParams;
import java.nio.file.Path;

/**
 * A Llama-family decoder from a checkpoint file (GGUF, llama2.c or a Hugging Face folder), run by the
 * runtime's {@link LlamaModel} with tree attention over each context's KV cache. Contexts of this
 * model serve Generate; Retrieve is for encoder models.
 */
public final class LlamaContextModel implements ContextModel {
    private final String name;
    private final LlamaModel model;

    private LlamaContextModel(String name, LlamaModel model) {
        this.name = name;
        this.model = model;
    }

    /**
     * Loads {@code checkpoint}; the model is named after the file (without extension), and its tree
     * attention searches the kv heads on {@code heads}.
     */
    public static LlamaContextModel open(Path checkpoint, SessionFactory sessions, HeadWorkers heads) {
        String file = checkpoint.getFileName().toString();
        String name = file.contains(".") ? file.substring(0, file.lastIndexOf('.')) : file;
        return new LlamaContextModel(name, LlamaModel.open(Checkpoint.load(checkpoint), sessions, heads));
    }

    @Override
    public ModelInfo info() {
        return new ModelInfo(name, true, model.tokenizer().vocabSize(), model.config().kvDim(),
                "Llama decoder " + name + " (" + model.config().layers() + " layers): Generate with tree attention");
    }

    /** The decoder's measured defaults: {@link LlamaModel#DEFAULT_TREE_SEARCH} and {@link LlamaModel#DEFAULT_TREE_SETTINGS}. */
    @Override
    public AttentionConfig attention(AttentionConfig requested) {
        SearchParams search = LlamaModel.DEFAULT_TREE_SEARCH;
        return requested.withDefaults(new AttentionConfig(search.k(), LlamaModel.DEFAULT_TREE_SETTINGS.leafCapacity(),
                search.beam(), search.sinks(), search.window(), false));
    }

    @Override
    public DocumentIndex newIndex(AttentionConfig attention) {
        return new LlamaDocumentIndex(model, attention);
    }

    @Override
    public String detokenize(long[] ids) {
        int[] narrow = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            narrow[i] = (int) ids[i];
        }
        return model.tokenizer().decode(narrow);
    }

    @Override
    public void close() {
        model.close();
    }
}
