package dev.jvmm.arm64.oracle;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntUnaryOperator;

/**
 * A minimal assembler for the harness driver: appends instruction words and resolves PC-relative references to
 * labels (branches and ADR) once the code is complete.
 */
final class CodeBuffer {
    private final long origin;
    private final List<Integer> words = new ArrayList<>();
    private final Map<String, Integer> labels = new HashMap<>();
    private final List<Fixup> fixups = new ArrayList<>();

    private record Fixup(int index, String label, IntUnaryOperator encodeWithWordOffset) {
    }

    CodeBuffer(long origin) {
        this.origin = origin;
    }

    long pc() {
        return origin + 4L * words.size();
    }

    CodeBuffer emit(int word) {
        words.add(word);
        return this;
    }

    CodeBuffer label(String name) {
        if (labels.putIfAbsent(name, words.size()) != null) {
            throw new IllegalStateException("label " + name + " defined twice");
        }
        return this;
    }

    long address(String label) {
        Integer i = labels.get(label);
        if (i == null) {
            throw new IllegalStateException("undefined label " + label);
        }
        return origin + 4L * i;
    }

    /** Emits an instruction whose encoding needs the distance in words to {@code label}. */
    CodeBuffer emitTo(String label, IntUnaryOperator encodeWithWordOffset) {
        fixups.add(new Fixup(words.size(), label, encodeWithWordOffset));
        words.add(0);
        return this;
    }

    /** ADR Xd, {@code target}: an absolute address within 1 MiB of the PC. */
    CodeBuffer adr(int rd, long target) {
        long delta = target - pc();
        if (delta < -(1 << 20) || delta >= (1 << 20)) {
            throw new IllegalArgumentException("ADR target out of range");
        }
        return emit(A64.pcRelAddressing(0, (int) delta, rd));
    }

    int[] words() {
        for (Fixup f : fixups) {
            Integer target = labels.get(f.label);
            if (target == null) {
                throw new IllegalStateException("undefined label " + f.label);
            }
            words.set(f.index, f.encodeWithWordOffset.applyAsInt(target - f.index));
        }
        int[] w = new int[words.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = words.get(i);
        }
        return w;
    }
}
