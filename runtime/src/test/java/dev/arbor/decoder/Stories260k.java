package dev.arbor.decoder;

/** Golden values from ../shared/models/stories260K/PROVENANCE.md (an independent numpy forward pass). */
final class Stories260k {
    private Stories260k() {}

    static final int[] TOP5_IDS = {403, 385, 410, 317, 407};
    static final float[] TOP5_LOGITS = {17.0235f, 15.4062f, 13.1083f, 12.7692f, 12.4181f};

    static final int[] GREEDY_64 = {
        403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396,
        267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352, 266, 268,
        388, 426, 338, 391, 266, 267, 337, 335, 312, 432, 398, 312, 286, 267, 414, 270, 333, 415, 426, 13, 438, 310
    };

    static final String PROMPT = "Once upon a time, a little dog";
    static final int[] PROMPT_IDS = {1, 403, 407, 261, 378, 432, 261, 376, 400, 428};

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
