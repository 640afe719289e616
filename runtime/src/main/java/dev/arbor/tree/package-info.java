/**
 * The attention tree: top-k inner-product search and tree attention over one head's keys.
 * Start at {@link dev.arbor.tree.AttentionTree}; {@link dev.arbor.tree.SearchParams#defaults()} are
 * the settings a user gets.
 *
 * <p>How it was decided (measured on the benchmark's synthetic keys, 65,536 keys of dim 64, k = 64):
 * <ul>
 *   <li><b>Content clusters, not position blocks.</b> Ranking position-ordered blocks of 48 keys by
 *       the same mean + 2σ promise and scanning the best 64 of them (3,072 keys) found 33% of the
 *       top-64; even 512 blocks (24,576 keys, 37% of all) found only 85%. The content-clustered tree
 *       scanning 64 leaves (about 2,900 keys) finds 96%.</li>
 *   <li><b>Beam ranking by mean + 2σ of q·k</b> rather than by the mean alone, and <b>coarse terms
 *       with a variance correction</b> ({@code exp(s·q·μ + s²σ²/2)}, capped by the box bound):
 *       relative error of the attention output fell from 0.10 to 0.05 at beam 32.</li>
 *   <li><b>Beam 64 by default</b>: recall@64 was 0.66 / 0.86 / 0.97 / 0.99 and relative error
 *       0.10 / 0.05 / 0.021 / 0.010 at beams 16 / 32 / 64 / 128; 64 is the smallest beam meeting
 *       recall 0.95.</li>
 * </ul>
 *
 * <p>Third round (1,048,576 keys, 12 heads; heads 5 and 6 are the hardest):
 * <ul>
 *   <li><b>Recall was lost at the leaf level, not in the codes or the rerank.</b> Of the true top-64,
 *       98% sat under the last level's leaf candidates, 86% in the 128 leaves scanned (heads 5, 6), and
 *       the int8 rerank kept all of those. Re-ranking the leaves differently (mean + 1σ, 3σ, 4σ, or by
 *       expected keys above a score floor) moved coverage by under 1%; scanning more keys was what
 *       helped (256 leaves of 64: 95%), whatever the leaf size at equal keys.</li>
 *   <li><b>4-bit codes on a leaf-local grid</b> halve the bytes a scanned key costs, so the wider scan
 *       reads what the narrow one did; coverage lost between scanned leaves and reranked keys stays
 *       at 0 with a rerank of 4k (0.5% with 2k).</li>
 *   <li><b>Leaves of 128</b> halve the per-leaf summaries per key (tree 158 → about 70 bytes a key)
 *       and the leaf candidates the beam ranks; <b>int8 node sketches</b> rank nodes from 136 bytes
 *       instead of 512; <b>an adaptive leaf scan</b> (see {@code TreeSearcher}) stops where the leaves
 *       left are expected to hold under 0.01 keys above the k-th code score so far.</li>
 * </ul>
 */
package dev.arbor.tree;
