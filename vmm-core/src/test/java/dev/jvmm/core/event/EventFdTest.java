package dev.jvmm.core.event;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventFdTest {

    @Test
    void readReturnsTheSumAndResetsIt() {
        EventFd fd = new EventFd();
        assertThat(fd.tryRead()).as("a read of zero would block").isEqualTo(EventFd.WOULD_BLOCK);
        fd.signal(3);
        fd.signal(4);
        assertThat(fd.peek()).isEqualTo(7);
        assertThat(fd.tryRead()).isEqualTo(7);
        assertThat(fd.tryRead()).isEqualTo(EventFd.WOULD_BLOCK);
    }

    @Test
    void semaphoreModeTakesOneAtATime() {
        EventFd fd = new EventFd("sem", true);
        fd.signal(2);
        assertThat(fd.tryRead()).isEqualTo(1);
        assertThat(fd.tryRead()).isEqualTo(1);
        assertThat(fd.tryRead()).isEqualTo(EventFd.WOULD_BLOCK);
    }

    @Test
    void theCounterSaturatesAndNeverWraps() {
        EventFd fd = new EventFd();
        fd.signal(EventFd.MAX_VALUE - 1);
        fd.signal(5);
        assertThat(fd.peek()).isEqualTo(EventFd.MAX_VALUE);
        fd.signal(EventFd.MAX_VALUE);
        assertThat(fd.tryRead()).isEqualTo(EventFd.MAX_VALUE);
        assertThatThrownBy(() -> fd.signal(-1L)).isInstanceOf(IllegalArgumentException.class);
        fd.signal(0);
        assertThat(fd.peek()).isZero();
    }

    @Test
    void blockingReadWaitsForASignalOrTimesOut() throws Exception {
        EventFd fd = new EventFd();
        assertThat(fd.read(20, TimeUnit.MILLISECONDS)).isEqualTo(EventFd.WOULD_BLOCK);
        AtomicLong got = new AtomicLong(-1);
        Thread reader = new Thread(() -> {
            try {
                got.set(fd.read(10, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                got.set(-2);
            }
        });
        reader.start();
        while (reader.getState() != Thread.State.TIMED_WAITING && reader.isAlive()) {
            Thread.onSpinWait();
        }
        fd.signal(9);
        reader.join(10_000);
        assertThat(got.get()).isEqualTo(9);
    }

    @Test
    void wakeupCallbacksRunInTheSignallingThreadAfterTheCountIsVisible() {
        EventFd fd = new EventFd();
        AtomicReference<Thread> ranIn = new AtomicReference<>();
        AtomicLong seen = new AtomicLong();
        EventFd.Registration reg = fd.addWakeupCallback(e -> {
            ranIn.set(Thread.currentThread());
            seen.set(e.tryRead());
        });
        fd.signal(5);
        assertThat(ranIn.get()).isSameAs(Thread.currentThread());
        assertThat(seen.get()).isEqualTo(5);
        reg.close();
        fd.signal(1);
        assertThat(seen.get()).as("no callback after removal").isEqualTo(5);
        assertThat(fd.peek()).isEqualTo(1);
    }

    @Test
    void aThrowingCallbackDoesNotReachTheSignaller() {
        EventFd fd = new EventFd();
        fd.addWakeupCallback(e -> {
            throw new IllegalStateException("bug");
        });
        AtomicLong after = new AtomicLong();
        fd.addWakeupCallback(e -> after.incrementAndGet());
        fd.signal();
        assertThat(fd.callbackFailures()).isEqualTo(1);
        assertThat(after.get()).as("later callbacks still run").isEqualTo(1);
    }

    @Test
    void concurrentSignalsAndReadsLoseNothing() throws Exception {
        EventFd fd = new EventFd();
        int signallers = 3;
        int perSignaller = 200_000;
        AtomicLong readTotal = new AtomicLong();
        CountDownLatch done = new CountDownLatch(signallers);
        Thread[] ts = new Thread[signallers];
        for (int t = 0; t < signallers; t++) {
            ts[t] = new Thread(() -> {
                for (int i = 0; i < perSignaller; i++) {
                    fd.signal(1);
                }
                done.countDown();
            });
        }
        Thread reader = new Thread(() -> {
            try {
                while (done.getCount() > 0 || fd.peek() != 0) {
                    long v = fd.read(1, TimeUnit.MILLISECONDS);
                    readTotal.addAndGet(v);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        reader.start();
        for (Thread t : ts) {
            t.start();
        }
        for (Thread t : ts) {
            t.join();
        }
        reader.join(30_000);
        assertThat(readTotal.get() + fd.tryRead()).isEqualTo((long) signallers * perSignaller);
    }
}
