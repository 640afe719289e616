package dev.arbor.tree;

/** How hard a search looks for the top-k keys. */
public enum SearchMode {
    /** Branch and bound on the nodes' q·k bounds: the result equals a brute-force scan. */
    EXACT,
    /** A beam of the most promising nodes per level: bounded work, may miss some of the top-k. */
    APPROXIMATE
}
