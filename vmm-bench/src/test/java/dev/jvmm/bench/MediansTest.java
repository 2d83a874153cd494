package dev.jvmm.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MediansTest {

    @Test
    void mediansLeaveOutWhatWasNotMeasured() {
        assertThat(Medians.median(new double[]{3, Double.NaN, 1, 2})).isEqualTo(2);
        assertThat(Medians.median(new double[]{4, 1, 2, 3})).isEqualTo(2.5);
        assertThat(Medians.median(new double[]{4, 1, 3, 2})).isEqualTo(2.5);
        assertThat(Medians.median(new double[]{Double.NaN})).isNaN();
        assertThat(Medians.min(new double[]{Double.NaN, 5, 4})).isEqualTo(4);
        assertThat(Medians.max(new double[]{})).isNaN();
    }
}
