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
 */
package dev.arbor.tree;
