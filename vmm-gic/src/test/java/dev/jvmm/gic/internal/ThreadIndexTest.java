package dev.jvmm.gic.internal;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.assertj.core.api.Assertions.assertThat;

class ThreadIndexTest {

    @Test
    void eachThreadKeepsItsOwnSmallIndex() throws Exception {
        int mine = ThreadIndex.current();
        assertThat(ThreadIndex.current()).as("stable").isEqualTo(mine);
        AtomicIntegerArray seen = new AtomicIntegerArray(2);
        Thread a = new Thread(() -> seen.set(0, ThreadIndex.current() == ThreadIndex.current() ? ThreadIndex.current() : -1));
        Thread b = new Thread(() -> seen.set(1, ThreadIndex.current()));
        a.start();
        a.join();
        b.start();
        b.join();
        assertThat(seen.get(0)).isNotNegative().isNotEqualTo(mine);
        assertThat(seen.get(1)).isNotEqualTo(seen.get(0)).isNotEqualTo(mine);
    }
}
