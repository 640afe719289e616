package dev.arbor.onnx;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;

/** The element types Arbor's graphs use, mapped to their ONNX data types. */
public enum ElementType {
    FLOAT(DataType.FLOAT),
    FLOAT16(DataType.FLOAT16),
    INT64(DataType.INT64),
    INT32(DataType.INT32),
    BOOL(DataType.BOOL);

    private final DataType onnx;

    ElementType(DataType onnx) {
        this.onnx = onnx;
    }

    DataType onnx() {
        return onnx;
    }
}
