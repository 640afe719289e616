package dev.arbor.ort;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import org.junit.jupiter.api.Test;

class SessionFactoryTest {

    @Test
    void cudaOnACpuOnlyBuildFailsAtStartWithAClearMessage() {
        SessionSettings cuda = SessionSettings.builder().provider(ExecutionProvider.CUDA).build();
        ExecutionProviderUnavailableException e =
                assertThrows(ExecutionProviderUnavailableException.class, () -> new SessionFactory(cuda));
        assertTrue(e.getMessage().contains("provider: cuda"), e.getMessage());
        assertTrue(e.getMessage().contains("-Pcuda"), e.getMessage());
    }

    @Test
    void providerNamesParseCaseInsensitivelyAndTyposAreNamed() {
        assertEquals(ExecutionProvider.CUDA, ExecutionProvider.parse(" Cuda "));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ExecutionProvider.parse("gpu"));
        assertTrue(e.getMessage().contains("'gpu'"), e.getMessage());
    }

    @Test
    void optimisationLevelsParseAndTyposAreNamed() {
        assertEquals(OptLevel.EXTENDED_OPT, SessionSettings.parseOptimization(" Extended"));
        assertEquals(OptLevel.NO_OPT, SessionSettings.parseOptimization("none"));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> SessionSettings.parseOptimization("max"));
        assertTrue(e.getMessage().contains("'max'"), e.getMessage());
    }

    @Test
    void settingsRoundTripThroughTheirBuilder() {
        SessionSettings quiet = SessionSettings.builder().intraOpThreads(2).spinning(false).build();
        assertEquals(quiet, quiet.toBuilder().build());
        assertFalse(quiet.spinning());
        assertTrue(SessionSettings.defaults().spinning(), "ONNX Runtime's own default");
    }

    @Test
    void settingsRejectNegativeThreadCounts() {
        assertThrows(IllegalArgumentException.class,
                () -> SessionSettings.builder().intraOpThreads(-1).build());
    }
}
