package dev.arbor.onnx;

import ai.onnx.proto.OnnxMl.FunctionProto;
import java.util.List;

/**
 * A model-local ONNX function ready to be called from graphs ({@link Scope#call}). Its opset imports
 * are filled in by the {@link ModelBuilder} of the model that carries it, so one function serves models
 * of any opset.
 *
 * @param domain custom domain, e.g. {@code ai.arbor}
 * @param name operator name within the domain
 * @param inputs formal input names, in call order
 * @param outputs formal output names, in result order
 * @param body the function without opset imports
 * @param calls functions this one calls, which must travel with it
 */
public record OnnxFunction(
        String domain, String name, List<String> inputs, List<String> outputs, FunctionProto body,
        List<OnnxFunction> calls) {

    public String qualifiedName() {
        return domain + "." + name;
    }
}
