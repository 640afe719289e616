/**
 * The KV store of a context: for every (layer, key/value head) an append-only sequence of key rows
 * and value rows, off the Java heap, in fixed-capacity {@link dev.arbor.store.Segment}s of at most
 * 256 MiB (ONNX Runtime takes no tensor over 2 GiB), in direct memory or memory-mapped files.
 *
 * <p><b>Format.</b> fp32, little-endian, row-major {@code [rows, dim]}, so a segment is an ONNX
 * Runtime input tensor without a copy. fp16 was rejected: the attention tree's inner loops are dot
 * products over rows read at random positions, where the cost is the memory access, not its width
 * (a 64-dim row is 4 cache lines in fp32, 2 in fp16, and both are latency-bound); fp16 would add a
 * widening to every element read, and a Cast (a full copy) in front of every ONNX graph, since the
 * CPU provider computes attention in fp32. Each segment header carries the format so fp16 can be
 * added later without breaking files.
 *
 * <p><b>Durability.</b> Each segment file begins with a {@link dev.arbor.store.SegmentHeader} (magic,
 * version, kind, format, dim, capacity, rows); the row count is rewritten after every append, so a
 * later recovery step can map the files and trust the smaller row count of the last key and value
 * segments.
 */
package dev.arbor.store;
