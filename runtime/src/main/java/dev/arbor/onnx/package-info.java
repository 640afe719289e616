/**
 * Building ONNX models in Java: {@link dev.arbor.onnx.ModelBuilder} → {@link dev.arbor.onnx.GraphBuilder}
 * (inputs, initializers, nodes, outputs) and {@link dev.arbor.onnx.FunctionBuilder} for model-local
 * functions in the {@code ai.arbor} domain, producing an {@link dev.arbor.onnx.OnnxModel} that
 * {@link dev.arbor.ort.SessionFactory#open(dev.arbor.onnx.OnnxModel)} runs in ONNX Runtime.
 * Set {@code -Darbor.onnx.dumpDir=DIR} to write every built model to {@code DIR/<name>.onnx} for Netron.
 */
package dev.arbor.onnx;
